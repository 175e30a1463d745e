import type { Decimal } from 'decimal.js';
import { z } from 'zod';
import type { IssuedCdr } from '../cdr/events.js';
import { Money, nonNegativeDecimal } from '../cdr/money.js';
import type { CdrCostField } from '../cdr/ocpi.js';
import { invariant } from '../shared/assert.js';
import { InvalidCommandError } from '../shared/errors.js';
import { currencyMinorUnits, isKnownCurrency } from '../tariff/currencies.js';

/**
 * The CDR cost total a price component prices (domain/tariff/pricing.ts): an element with a
 * reservation restriction (RESERVATION, RESERVATION_EXPIRES) prices only the reservation, its TIME
 * the reserved time and its FLAT the reservation fee, both in total_reservation_cost; the other
 * elements price the session. ENERGY and PARKING_TIME of a reservation element never price
 * anything (no energy or parking while reserved): null.
 */
function costFieldOf(componentType: string, reservationElement: boolean): CdrCostField | null {
  if (reservationElement) return componentType === 'TIME' || componentType === 'FLAT' ? 'total_reservation_cost' : null;
  return sessionCostFieldOf.get(componentType) ?? null;
}

const sessionCostFieldOf: ReadonlyMap<string, CdrCostField> = new Map([
  ['FLAT', 'total_fixed_cost'],
  ['ENERGY', 'total_energy_cost'],
  ['TIME', 'total_time_cost'],
  ['PARKING_TIME', 'total_parking_cost'],
]);

/** The cost totals whose VAT is split per rate: all of total_cost's parts (OCPI CDR object). */
const costFields: readonly CdrCostField[] = ['total_fixed_cost', 'total_energy_cost', 'total_time_cost', 'total_parking_cost', 'total_reservation_cost'];

/** Just what we read from a tariff snapshot: OCPI Tariff.elements[].{price_components[].{type, vat}, restrictions.reservation}. */
const tariffVatSchema = z.looseObject({
  elements: z.array(
    z.looseObject({
      price_components: z.array(z.looseObject({ type: z.string(), vat: z.number().min(0).max(100).optional() })),
      restrictions: z.looseObject({ reservation: z.string().optional() }).optional(),
    }),
  ),
});

/** VAT rates (percent, as decimal strings) per CDR cost total, from the price components in the CDR's tariff snapshot. */
function ratesPerCostField(cdr: IssuedCdr): Map<CdrCostField, Set<string>> {
  const rates = new Map<CdrCostField, Set<string>>();
  for (const tariff of cdr.cdr.tariffs ?? []) {
    const parsed = tariffVatSchema.safeParse(tariff);
    if (!parsed.success) continue;
    for (const element of parsed.data.elements) {
      const reservationElement = element.restrictions?.reservation !== undefined;
      for (const component of element.price_components) {
        const field = costFieldOf(component.type, reservationElement);
        if (component.vat === undefined || field === null) continue;
        const set = rates.get(field) ?? new Set<string>();
        set.add(new Money(component.vat).toFixed());
        rates.set(field, set);
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
 * split at its own precision instead, so the shares still sum to it exactly (the export shows
 * them; the ledger's decide refuses such an entry, as it refuses any line finer than the minor unit).
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

/** The decimals of an OCPI tariff `vat` (the tariff engine holds VAT in 1e-4 %). */
const vatRateDecimalsMax = 4;

/**
 * The one VAT rate a CDR's own figures state, for a CDR whose tariff snapshot names none; null when
 * they do not state one exactly. The rate is (incl − excl) / excl of total_cost, and it counts
 * only when it is exact to the decimals of an OCPI tariff vat and every part total that states incl
 * VAT agrees with it within its own rounding (half a unit of its last decimal on excl and on incl),
 * at least one part with VAT. A rate read into rounded figures alone would name a wrong
 * vat-payable account: 0.05 on 0.04 is exactly 25 %, but 0.0484 on 0.0400 says 21 %.
 */
function rateStatedBy(cdr: IssuedCdr['cdr']): string | null {
  if (cdr.total_cost.incl_vat === undefined) return null;
  const rate = exactRateOf(new Money(cdr.total_cost.excl_vat), new Money(cdr.total_cost.incl_vat));
  if (rate === null) return null;
  const factor = rate.dividedBy(100).plus(1);
  let witnesses = 0;
  for (const field of costFields) {
    const price = cdr[field];
    if (price?.incl_vat === undefined) continue;
    const partExcl = new Money(price.excl_vat);
    const partIncl = new Money(price.incl_vat);
    const tolerance = halfUnitOf(price.excl_vat).times(factor).plus(halfUnitOf(price.incl_vat));
    if (partIncl.minus(partExcl.times(factor)).abs().gt(tolerance)) return null;
    if (!partIncl.eq(partExcl)) witnesses += 1;
  }
  return witnesses > 0 ? rate.toFixed() : null;
}

/**
 * The VAT rate (percent) that makes `excl` exactly `incl`: (incl − excl) / excl, when it has at
 * most the decimals of an OCPI tariff vat and is above 0 and at most 100 %; else null.
 */
function exactRateOf(excl: Decimal, incl: Decimal): Decimal | null {
  if (excl.isZero()) return null;
  const rate = incl.minus(excl).dividedBy(excl).times(100).toDecimalPlaces(vatRateDecimalsMax);
  if (!rate.isPositive() || rate.gt(100) || !excl.times(rate.dividedBy(100).plus(1)).eq(incl)) return null;
  return rate;
}

/** Just what we read of a tariff snapshot's bounds: OCPI Tariff.{min_price, max_price}.{excl_vat, incl_vat}. */
const boundSchema = z.looseObject({ excl_vat: z.number().min(0), incl_vat: z.number().min(0).optional() });
const tariffBoundsSchema = z.looseObject({ min_price: boundSchema.optional(), max_price: boundSchema.optional() });

/**
 * The VAT rate of the min_price or max_price that total_cost is, on both sides (excl and incl VAT,
 * the CDR's sign aside), in any tariff of the snapshot: that bound's exact rate (exactRateOf);
 * null when total_cost is no such bound, the bound has no incl_vat or no exact rate, or two such
 * bounds disagree. The tariff engine charges a bound as it stands (domain/tariff/pricing.ts), so
 * its excl and incl are the charged figures, not parts rounded on their own.
 */
function rateOfBoundCharged(cdr: IssuedCdr['cdr']): string | null {
  if (cdr.total_cost.incl_vat === undefined) return null;
  const sign = cdr.credit === true ? -1 : 1;
  const excl = new Money(cdr.total_cost.excl_vat).times(sign);
  const incl = new Money(cdr.total_cost.incl_vat).times(sign);
  const rates = new Set<string>();
  for (const tariff of cdr.tariffs ?? []) {
    const parsed = tariffBoundsSchema.safeParse(tariff);
    if (!parsed.success) continue;
    for (const bound of [parsed.data.min_price, parsed.data.max_price]) {
      if (bound?.incl_vat === undefined || !excl.eq(bound.excl_vat) || !incl.eq(bound.incl_vat)) continue;
      const rate = exactRateOf(excl, incl);
      if (rate !== null) rates.add(rate.toFixed());
    }
  }
  return rates.size === 1 ? [...rates][0]! : null;
}

/** Half a unit of the last decimal a figure is written with ("7.26": 0.005): how far its rounding may have moved it. */
function halfUnitOf(figure: string): Decimal {
  return new Money(10).pow(-(figure.split('.')[1]?.length ?? 0)).dividedBy(2);
}

/**
 * The CDR's VAT (total_cost.incl_vat − excl_vat) split per rate. The CDR's total is what the
 * customer was charged, so the shares always sum to it exactly:
 * - total_cost is a min_price or max_price of the snapshot whose rate is exact (rateOfBoundCharged)
 *   and is one of the snapshot's rates, or the snapshot names none: all of it at the bound's rate,
 *   even where the parts carry VAT at other rates too (the parts are before the bound: what was
 *   charged is the bound, VAT at its one rate; ARCHITECTURE.md, Rounding, VAT);
 * - one rate in the tariff snapshot (the usual case): all of it at that rate;
 * - several: in proportion to each rate's VAT in the cost totals (their incl − excl, OCPI numbers
 *   of 4 decimals), in whole minor units of the currency (splitByLargestRemainder), so each
 *   vat-payable line is an amount that can be paid;
 * - none: the rate the CDR's own figures state exactly (rateStatedBy), else `fallbackRatePercent`
 *   (BillingConfig.vatRateFallbackPercent), else the CDR is refused (its VAT could not be declared).
 */
export function vatSharesOf(issued: IssuedCdr, fallbackRatePercent?: string): VatShare[] {
  const { total_cost: total } = issued.cdr;
  if (total.incl_vat === undefined) return [];
  const vatTotal = new Money(total.incl_vat).minus(total.excl_vat);
  if (vatTotal.isZero()) return [];

  const refuse = (message: string): never => {
    throw new InvalidCommandError(`CDR ${issued.cdr.id}: ${message}`, 'PostJournalEntry');
  };
  const rates = ratesPerCostField(issued);
  const distinct = new Set([...rates.values()].flatMap((set) => [...set]));
  const boundRate = rateOfBoundCharged(issued.cdr);
  if (boundRate !== null && (distinct.size === 0 || distinct.has(boundRate))) return [{ ratePercent: boundRate, amount: vatTotal }];
  if (distinct.size === 0) {
    const stated = rateStatedBy(issued.cdr);
    if (stated !== null) return [{ ratePercent: stated, amount: vatTotal }];
    if (fallbackRatePercent === undefined) refuse('its tariff snapshot has no VAT rate, its figures state none exactly, and no fallback rate was given');
    if (!nonNegativeDecimal.safeParse(fallbackRatePercent).success) refuse(`fallback VAT rate ${fallbackRatePercent} is not a non-negative decimal`);
    return [{ ratePercent: new Money(fallbackRatePercent!).toFixed(), amount: vatTotal }];
  }
  if (distinct.size === 1) return [{ ratePercent: [...distinct][0]!, amount: vatTotal }];

  const weights = new Map<string, Decimal>();
  for (const field of costFields) {
    const price = issued.cdr[field];
    if (price?.incl_vat === undefined) continue;
    const vat = new Money(price.incl_vat).minus(price.excl_vat);
    if (vat.isZero()) continue;
    const fieldRates = rates.get(field);
    if (fieldRates === undefined || fieldRates.size !== 1) {
      refuse(`${field} has VAT but its rate in the tariff snapshot is ${fieldRates ? 'ambiguous' : 'missing'}`);
    }
    const rate = [...fieldRates!][0]!;
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
