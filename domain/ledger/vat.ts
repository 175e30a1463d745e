import type { Decimal } from 'decimal.js';
import { z } from 'zod';
import type { IssuedCdr } from '../cdr/events.js';
import { Money, nonNegativeDecimal } from '../cdr/money.js';
import type { CdrCostField } from '../cdr/ocpi.js';
import { InvalidCommandError } from '../shared/errors.js';

/** The OCPI price component type whose VAT applies to each cost total of a CDR. */
const componentOfCost: ReadonlyArray<readonly [CdrCostField, string]> = [
  ['total_fixed_cost', 'FLAT'],
  ['total_energy_cost', 'ENERGY'],
  ['total_time_cost', 'TIME'],
  ['total_parking_cost', 'PARKING_TIME'],
];

/** Just what we read from a tariff snapshot: OCPI Tariff.elements[].price_components[].{type, vat}. */
const tariffVatSchema = z.looseObject({
  elements: z.array(z.looseObject({ price_components: z.array(z.looseObject({ type: z.string(), vat: z.number().min(0).max(100).optional() })) })),
});

/** VAT rates (percent, as decimal strings) per price component type in the CDR's tariff snapshot. */
function ratesPerComponent(cdr: IssuedCdr): Map<string, Set<string>> {
  const rates = new Map<string, Set<string>>();
  for (const tariff of cdr.cdr.tariffs ?? []) {
    const parsed = tariffVatSchema.safeParse(tariff);
    if (!parsed.success) continue;
    for (const element of parsed.data.elements) {
      for (const component of element.price_components) {
        if (component.vat === undefined) continue;
        const set = rates.get(component.type) ?? new Set<string>();
        set.add(new Money(component.vat).toFixed());
        rates.set(component.type, set);
      }
    }
  }
  return rates;
}

export interface VatShare {
  /** Percent, plain notation: "21", "5.5". */
  readonly ratePercent: string;
  /** Signed like the CDR (negative on a credit CDR). */
  readonly amount: Decimal;
}

/**
 * The CDR's VAT (total_cost.incl_vat − excl_vat) split per rate. The CDR's total is what the
 * customer was charged, so the shares always sum to it exactly:
 * - one rate in the tariff snapshot (the usual case): all of it at that rate;
 * - several: each cost total's own VAT (its incl − excl) at its component's rate, and whatever the
 *   per-total rounding or a min/max price left over goes to the largest share;
 * - none: `fallbackRatePercent`, or the CDR is refused (its VAT could not be declared).
 */
export function vatSharesOf(issued: IssuedCdr, fallbackRatePercent?: string): VatShare[] {
  const { total_cost: total } = issued.cdr;
  if (total.incl_vat === undefined) return [];
  const vatTotal = new Money(total.incl_vat).minus(total.excl_vat);
  if (vatTotal.isZero()) return [];

  const refuse = (message: string): never => {
    throw new InvalidCommandError(`CDR ${issued.cdr.id}: ${message}`, 'PostJournalEntry');
  };
  const rates = ratesPerComponent(issued);
  const distinct = new Set([...rates.values()].flatMap((set) => [...set]));
  if (distinct.size === 0) {
    if (fallbackRatePercent === undefined) refuse('its tariff snapshot has no VAT rate and no fallback rate was given');
    if (!nonNegativeDecimal.safeParse(fallbackRatePercent).success) refuse(`fallback VAT rate ${fallbackRatePercent} is not a non-negative decimal`);
    return [{ ratePercent: new Money(fallbackRatePercent!).toFixed(), amount: vatTotal }];
  }
  if (distinct.size === 1) return [{ ratePercent: [...distinct][0]!, amount: vatTotal }];

  const shares = new Map<string, Decimal>();
  for (const [field, component] of componentOfCost) {
    const price = issued.cdr[field];
    if (price?.incl_vat === undefined) continue;
    const vat = new Money(price.incl_vat).minus(price.excl_vat);
    if (vat.isZero()) continue;
    const componentRates = rates.get(component);
    if (componentRates === undefined || componentRates.size !== 1) {
      refuse(`${field} has VAT but its ${component} rate in the tariff snapshot is ${componentRates ? 'ambiguous' : 'missing'}`);
    }
    const rate = [...componentRates!][0]!;
    shares.set(rate, (shares.get(rate) ?? new Money(0)).plus(vat));
  }
  if (shares.size === 0) refuse('its VAT cannot be split per rate: no cost total carries VAT');
  const allocated = [...shares.values()].reduce((sum, amount) => sum.plus(amount), new Money(0));
  const residual = vatTotal.minus(allocated);
  // Largest share by magnitude; ties go to the higher rate, so the choice is deterministic.
  const [largestRate] = [...shares].sort(([rateA, a], [rateB, b]) => b.abs().comparedTo(a.abs()) || new Money(rateB).comparedTo(rateA))[0]!;
  shares.set(largestRate, shares.get(largestRate)!.plus(residual));
  const result = [...shares]
    .map(([ratePercent, amount]) => ({ ratePercent, amount }))
    .filter((share) => !share.amount.isZero())
    .sort((a, b) => new Money(a.ratePercent).comparedTo(b.ratePercent));
  // A share of the other sign than the total would post VAT the wrong way.
  if (result.some((share) => share.amount.isNegative() !== vatTotal.isNegative())) refuse('its VAT per rate does not add up with the same sign as its total VAT');
  return result;
}
