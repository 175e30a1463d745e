import type { Decimal } from 'decimal.js';
import { z } from 'zod';
import type { IssuedCdr } from '../cdr/events.js';
import { Money, nonNegativeDecimal } from '../cdr/money.js';
import type { CdrCostField } from '../cdr/ocpi.js';
import { invariant } from '../shared/assert.js';
import { InvalidCommandError } from '../shared/errors.js';
import { currencyMinorUnits, isKnownCurrency } from '../tariff/currencies.js';

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
 * The unit VAT is split in: the currency's minor unit (JPY 1, EUR 0.01, KWD 0.001), the unit
 * total_cost is charged in. A VAT total finer than that (a CDR not rounded to the minor unit) is
 * split at its own precision instead, so the shares still sum to it exactly.
 */
function splitUnitOf(currency: string, vatTotal: Decimal, refuse: (message: string) => never): Decimal {
  if (!isKnownCurrency(currency)) refuse(`its VAT cannot be split per rate: currency ${currency} has no known minor unit`);
  return new Money(10).pow(-Math.max(currencyMinorUnits(currency), vatTotal.decimalPlaces()));
}

/**
 * `total` (a whole number of `unit`s) in proportion to `weights` (per rate, all of the total's sign),
 * in whole units, the shares summing to `total` exactly (largest remainder, Hamilton's method): each
 * rate gets the whole units of its exact proportional part; the units left over, fewer than there
 * are rates, go one each to the largest remainders, on equal remainders to the higher rate. A rate
 * names its vat-payable account, so this order is total and the split deterministic.
 */
function splitByLargestRemainder(total: Decimal, weights: ReadonlyMap<string, Decimal>, unit: Decimal): Map<string, Decimal> {
  const units = total.abs().dividedBy(unit);
  invariant(units.isInteger(), `VAT ${total.toFixed()} is a whole number of ${unit.toFixed()}`);
  const unitsTotal = BigInt(units.toFixed(0));
  // Weights as integers over one common scale, so every step below is exact integer arithmetic.
  const scale = new Money(10).pow(Math.max(...[...weights.values()].map((weight) => weight.decimalPlaces())));
  const parts = [...weights].map(([rate, weight]) => ({ rate, weight: BigInt(weight.abs().times(scale).toFixed(0)) }));
  const weightTotal = parts.reduce((sum, part) => sum + part.weight, 0n);
  invariant(weightTotal > 0n, 'VAT is split by a weight above zero');
  const split = parts.map((part) => ({ rate: part.rate, units: (unitsTotal * part.weight) / weightTotal, remainder: (unitsTotal * part.weight) % weightTotal }));
  const leftOver = unitsTotal - split.reduce((sum, part) => sum + part.units, 0n);
  invariant(leftOver >= 0n && leftOver < BigInt(split.length), 'fewer units left over than rates');
  const byRemainder = [...split].sort((a, b) => (a.remainder === b.remainder ? new Money(b.rate).comparedTo(a.rate) : a.remainder > b.remainder ? -1 : 1));
  for (const part of byRemainder.slice(0, Number(leftOver))) part.units += 1n;
  const sign = total.isNegative() ? -1 : 1;
  return new Map(split.map((part) => [part.rate, unit.times(part.units.toString()).times(sign)]));
}

/**
 * The CDR's VAT (total_cost.incl_vat − excl_vat) split per rate. The CDR's total is what the
 * customer was charged, so the shares always sum to it exactly:
 * - one rate in the tariff snapshot (the usual case): all of it at that rate;
 * - several: in proportion to each rate's VAT in the cost totals (their incl − excl, OCPI numbers
 *   of 4 decimals), in whole minor units of the currency (splitByLargestRemainder), so each
 *   vat-payable line is an amount that can be paid;
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

  const weights = new Map<string, Decimal>();
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
    weights.set(rate, (weights.get(rate) ?? new Money(0)).plus(vat));
  }
  for (const [rate, weight] of weights) if (weight.isZero()) weights.delete(rate);
  if (weights.size === 0) refuse('its VAT cannot be split per rate: no cost total carries VAT');
  // A rate whose VAT has the other sign than the total would post VAT the wrong way.
  if ([...weights.values()].some((weight) => weight.isNegative() !== vatTotal.isNegative())) refuse('its VAT per rate does not add up with the same sign as its total VAT');
  const unit = splitUnitOf(issued.cdr.currency, vatTotal, refuse);
  const result = [...splitByLargestRemainder(vatTotal, weights, unit)]
    .map(([ratePercent, amount]) => ({ ratePercent, amount }))
    .filter((share) => !share.amount.isZero())
    .sort((a, b) => new Money(a.ratePercent).comparedTo(b.ratePercent));
  const allocated = result.reduce((sum, share) => sum.plus(share.amount), new Money(0));
  invariant(allocated.eq(vatTotal), `CDR ${issued.cdr.id}: VAT shares ${allocated.toFixed()} sum to its VAT ${vatTotal.toFixed()}`);
  return result;
}
