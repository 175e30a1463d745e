import type { ChargingPeriod } from './cdr-schema.js';
import { type CompiledElement, type CompiledTariff, compileTariff, vatScale } from './compile.js';
import { Exact } from './exact.js';
import { activeElement, type SliceContext } from './restrictions.js';
import type { Tariff, TariffDimensionType } from './schema.js';
import { type MeterSample, type Segments, segmentsFromChargingPeriods, segmentsFromMeterSamples, type UsageState } from './segments.js';
import { type Slice, sliceSegments } from './slicing.js';

export interface PricingOptions {
  /** IANA time zone of the Location (OCPI Location.time_zone): restrictions are local time. */
  readonly timeZone: string;
  /** The reservation ended without a session (ReservationRestrictionType RESERVATION_EXPIRES). */
  readonly reservationExpired?: boolean;
}

/**
 * An amount excl. and incl. VAT. `vat_applicable` is false when no component in it had a `vat`
 * (and, for total_cost, no min_price/max_price incl_vat replaced its incl. VAT side).
 */
export interface CostPair {
  readonly excl_vat: Exact;
  readonly incl_vat: Exact;
  readonly vat_applicable: boolean;
}

export type ElementIndex = number | null;

/** One output ChargingPeriod: a run of slices with the same state and the same active elements. */
export class PricedChargingPeriod {
  constructor(
    readonly startMs: number,
    public endMs: number,
    readonly state: UsageState,
    /** Index into tariff.elements of the element pricing each dimension, null if none matched. */
    readonly tariff_element_index: Readonly<Record<'ENERGY' | 'TIME' | 'PARKING_TIME', ElementIndex>>,
    public energyMWh: number,
  ) {}
  get start_date_time(): string {
    return new Date(this.startMs).toISOString();
  }
  get end_date_time(): string {
    return new Date(this.endMs).toISOString();
  }
  /** kWh. */
  get energy(): Exact {
    return new Exact(BigInt(this.energyMWh), 1_000_000n);
  }
  /** Hours, reported as TIME, PARKING_TIME or RESERVATION_TIME depending on `state`. */
  get duration(): Exact {
    return new Exact(BigInt(this.endMs - this.startMs), 3_600_000n);
  }
}

export interface SessionPrice {
  readonly currency: string;
  readonly start_date_time: string;
  readonly end_date_time: string;
  readonly charging_periods: readonly PricedChargingPeriod[];
  /** After min_price/max_price; the parts below are before them (ARCHITECTURE.md, Rounding). */
  readonly total_cost: CostPair;
  readonly total_fixed_cost: CostPair;
  readonly total_energy_cost: CostPair;
  readonly total_time_cost: CostPair;
  readonly total_parking_cost: CostPair;
  /** Reservation time and reservation FLAT fees (OCPI CDR total_reservation_cost). */
  readonly total_reservation_cost: CostPair;
  /** Measured totals: kWh and hours (total_time includes parking, as in the OCPI CDR). */
  readonly total_energy: Exact;
  readonly total_time: Exact;
  readonly total_parking_time: Exact;
  readonly total_reservation_time: Exact;
  /** Quantities billed after step_size: kWh and hours. */
  readonly billed_energy: Exact;
  readonly billed_time: Exact;
  readonly billed_parking_time: Exact;
  readonly billed_reservation_time: Exact;
  /** Which bound replaced total_cost, per VAT side. */
  readonly price_limit_applied: { readonly excl_vat: 'MIN_PRICE' | 'MAX_PRICE' | null; readonly incl_vat: 'MIN_PRICE' | 'MAX_PRICE' | null };
  readonly warnings: readonly string[];
}

/**
 * Prices a session from meter samples. With the samples so far it is the running cost of an
 * active session (as if it stopped at the last sample); with all of them, the CDR totals.
 */
export function priceMeterSamples(tariff: Tariff, samples: readonly MeterSample[], options: PricingOptions): SessionPrice {
  return priceSegments(compileTariff(tariff), segmentsFromMeterSamples(samples), options);
}

/** Prices OCPI charging periods (e.g. a CDR or Session from a partner) with the same rules. */
export function priceChargingPeriods(tariff: Tariff, periods: readonly ChargingPeriod[], options: PricingOptions & { readonly endDateTime?: string }): SessionPrice {
  return priceSegments(compileTariff(tariff), segmentsFromChargingPeriods(periods, options.endDateTime), options);
}

/** Denominators of the exact amounts: price (1e-8) × LCM(mWh per kWh, ms per hour) (= 1.8e7). */
const exclDenominator = 100_000_000n * 18_000_000n;
const inclDenominator = exclDenominator * vatScale;
/** Numerator multipliers per unit: 1 mWh = 18/1.8e7 kWh·, 1 ms = 5/1.8e7 h, FLAT = 1. */
const perMWh = 18n;
const perMs = 5n;
const perFlat = 18_000_000n;

/** Billed quantity (mWh or ms) per element of one dimension, and the last element that billed. */
class Usage {
  readonly quantity: number[];
  total = 0;
  last = -1;
  constructor(elements: number) {
    this.quantity = new Array<number>(elements).fill(0);
  }
  add(element: CompiledElement | undefined, amount: number): void {
    if (element === undefined || amount <= 0) return;
    this.quantity[element.index]! += amount;
    this.total += amount;
    this.last = element.index;
  }
  /**
   * mod_cdrs step_size: round the session total of the dimension up once, with the step of the
   * last relevant component, and bill the extra at that component's price.
   */
  roundUp(elements: readonly CompiledElement[], type: TariffDimensionType): void {
    if (this.last < 0) return;
    const step = elements[this.last]!.components[type]!.step;
    if (step <= 0) return;
    const rounded = Math.ceil(this.total / step) * step;
    this.quantity[this.last]! += rounded - this.total;
    this.total = rounded;
  }
  cost(elements: readonly CompiledElement[], type: TariffDimensionType, perUnit: bigint): CostPair {
    let excl = 0n;
    let incl = 0n;
    let vat = false;
    for (let i = 0; i < this.quantity.length; i++) {
      const q = this.quantity[i]!;
      if (q <= 0) continue;
      const c = elements[i]!.components[type]!;
      const part = c.price * BigInt(q) * perUnit;
      excl += part;
      incl += part * c.vatFactor;
      vat ||= c.hasVat;
    }
    return pair(excl, incl, vat);
  }
}

function pair(excl: bigint, incl: bigint, vat: boolean): CostPair {
  return { excl_vat: new Exact(excl, exclDenominator), incl_vat: new Exact(incl, inclDenominator), vat_applicable: vat };
}

function priceSegments(tariff: CompiledTariff, input: Segments, options: PricingOptions): SessionPrice {
  const slices = sliceSegments(tariff, input, options.timeZone);
  const elements = tariff.candidates;
  const n = tariff.elements.length;

  const energy = new Usage(n);
  const time = new Usage(n);
  const parking = new Usage(n);
  const reservationTime = new Usage(n);
  let sessionFlat: CompiledElement | undefined;
  let reservationFlat: CompiledElement | undefined;
  let measuredEnergy = 0;
  let measuredTime = 0;
  let measuredParking = 0;
  let measuredReservation = 0;
  const periods: PricedChargingPeriod[] = [];
  const ctx: SliceContext = { localMsOfDay: 0, localDay: 0, isoWeekday: 0, energyBeforeMWh: 0, durationBeforeMs: 0, powerKw: 0, currentA: 0, reservation: false, reservationExpired: options.reservationExpired === true };

  for (const slice of slices) {
    fillContext(ctx, slice, input.sessionStartMs);
    const durationMs = slice.endMs - slice.startMs;
    let energyElement: CompiledElement | undefined;
    let timeElement: CompiledElement | undefined;
    let parkingElement: CompiledElement | undefined;
    if (slice.state === 'RESERVATION') {
      // TIME with a reservation restriction prices the reserved time (TariffDimensionType TIME).
      timeElement = activeElement(elements.TIME, ctx);
      reservationTime.add(timeElement, durationMs);
      measuredReservation += durationMs;
      // FLAT applies once per phase: the first FLAT element that matches, in time order.
      reservationFlat ??= activeElement(elements.FLAT, ctx);
    } else {
      energyElement = activeElement(elements.ENERGY, ctx);
      energy.add(energyElement, slice.energyMWh);
      measuredEnergy += slice.energyMWh;
      if (slice.state === 'CHARGING') {
        timeElement = activeElement(elements.TIME, ctx);
        time.add(timeElement, durationMs);
        measuredTime += durationMs;
      } else {
        parkingElement = activeElement(elements.PARKING_TIME, ctx);
        parking.add(parkingElement, durationMs);
        measuredParking += durationMs;
      }
      sessionFlat ??= activeElement(elements.FLAT, ctx);
    }
    addToPeriods(periods, slice, energyElement, timeElement, parkingElement);
  }

  const list = tariff.elements;
  energy.roundUp(list, 'ENERGY');
  // mod_cdrs step_size: TIME and PARKING_TIME share one rounding per session. When parking is
  // billed, charging time is billed as measured and only the parking total is rounded up.
  if (parking.total > 0) parking.roundUp(list, 'PARKING_TIME');
  else time.roundUp(list, 'TIME');
  reservationTime.roundUp(list, 'TIME');

  const fixedCost = flat(sessionFlat);
  const energyCost = energy.cost(list, 'ENERGY', perMWh);
  const timeCost = time.cost(list, 'TIME', perMs);
  const parkingCost = parking.cost(list, 'PARKING_TIME', perMs);
  const reservationCost = sum([reservationTime.cost(list, 'TIME', perMs), flat(reservationFlat)]);
  const parts = [fixedCost, energyCost, timeCost, parkingCost, reservationCost];
  const raw = sum(parts);
  const limited = applyPriceLimits(tariff, raw);

  return {
    currency: tariff.tariff.currency,
    start_date_time: new Date(input.sessionStartMs).toISOString(),
    end_date_time: new Date(input.sessionEndMs).toISOString(),
    charging_periods: periods,
    total_cost: limited.total,
    total_fixed_cost: fixedCost,
    total_energy_cost: energyCost,
    total_time_cost: timeCost,
    total_parking_cost: parkingCost,
    total_reservation_cost: reservationCost,
    total_energy: kwh(measuredEnergy),
    total_time: hours(measuredTime + measuredParking),
    total_parking_time: hours(measuredParking),
    total_reservation_time: hours(measuredReservation),
    billed_energy: kwh(energy.total),
    billed_time: hours(time.total),
    billed_parking_time: hours(parking.total),
    billed_reservation_time: hours(reservationTime.total),
    price_limit_applied: limited.applied,
    warnings: input.warnings,
  };
}

function flat(element: CompiledElement | undefined): CostPair {
  const c = element?.components.FLAT;
  return c ? pair(c.price * perFlat, c.price * perFlat * c.vatFactor, c.hasVat) : pair(0n, 0n, false);
}

function hours(ms: number): Exact {
  return new Exact(BigInt(ms), 3_600_000n);
}

function kwh(mwh: number): Exact {
  return new Exact(BigInt(mwh), 1_000_000n);
}

function fillContext(ctx: SliceContext, slice: Slice, sessionStartMs: number): void {
  ctx.localMsOfDay = slice.localMsOfDay;
  ctx.localDay = slice.localDay;
  ctx.isoWeekday = slice.isoWeekday;
  ctx.energyBeforeMWh = slice.energyStartMWh;
  ctx.durationBeforeMs = slice.startMs - sessionStartMs;
  ctx.powerKw = slice.powerKw;
  ctx.currentA = slice.currentA;
  ctx.reservation = slice.state === 'RESERVATION';
}

function addToPeriods(periods: PricedChargingPeriod[], slice: Slice, e: CompiledElement | undefined, t: CompiledElement | undefined, p: CompiledElement | undefined): void {
  const ei = e?.index ?? null;
  const ti = t?.index ?? null;
  const pi = p?.index ?? null;
  const last = periods[periods.length - 1];
  const idx = last?.tariff_element_index;
  if (last && last.state === slice.state && last.endMs === slice.startMs && idx!.ENERGY === ei && idx!.TIME === ti && idx!.PARKING_TIME === pi) {
    last.endMs = slice.endMs;
    last.energyMWh += slice.energyMWh;
    return;
  }
  periods.push(new PricedChargingPeriod(slice.startMs, slice.endMs, slice.state, { ENERGY: ei, TIME: ti, PARKING_TIME: pi }, slice.energyMWh));
}

function sum(parts: readonly CostPair[]): CostPair {
  let excl = 0n;
  let incl = 0n;
  let vat = false;
  for (const p of parts) {
    excl += p.excl_vat.numerator;
    incl += p.incl_vat.numerator;
    vat ||= p.vat_applicable;
  }
  return pair(excl, incl, vat);
}

/**
 * mod_tariffs "Tariff Object": min_price and max_price apply to the session total, separately
 * excl. and incl. VAT (its notes: "they both apply"). A bound without incl_vat leaves the incl.
 * VAT total alone. A bound's incl_vat that replaces the incl. VAT total is a price the tariff
 * states with its VAT, so that total is VAT-applicable even when no component priced anything
 * (a 0 kWh session under a minimum price owes the minimum's VAT).
 */
function toExcl(bound: bigint): bigint {
  return bound * perFlat;
}

function toIncl(bound: bigint): bigint {
  return bound * perFlat * vatScale;
}

function applyPriceLimits(tariff: CompiledTariff, raw: CostPair): { total: CostPair; applied: SessionPrice['price_limit_applied'] } {
  let excl = raw.excl_vat.numerator;
  let incl = raw.incl_vat.numerator;
  let exclApplied: 'MIN_PRICE' | 'MAX_PRICE' | null = null;
  let inclApplied: 'MIN_PRICE' | 'MAX_PRICE' | null = null;
  const { minPrice, maxPrice } = tariff;
  if (minPrice && excl < toExcl(minPrice.excl)) [excl, exclApplied] = [toExcl(minPrice.excl), 'MIN_PRICE'];
  if (maxPrice && excl > toExcl(maxPrice.excl)) [excl, exclApplied] = [toExcl(maxPrice.excl), 'MAX_PRICE'];
  if (minPrice?.incl !== undefined && incl < toIncl(minPrice.incl)) [incl, inclApplied] = [toIncl(minPrice.incl), 'MIN_PRICE'];
  if (maxPrice?.incl !== undefined && incl > toIncl(maxPrice.incl)) [incl, inclApplied] = [toIncl(maxPrice.incl), 'MAX_PRICE'];
  return { total: pair(excl, incl, raw.vat_applicable || inclApplied !== null), applied: { excl_vat: exclApplied, incl_vat: inclApplied } };
}
