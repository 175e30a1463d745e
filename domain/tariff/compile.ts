import { Decimal } from 'decimal.js';
import { localDayNumber } from './tariff-checks.js';
import type { Tariff, TariffDimensionType, TariffRestrictions } from './schema.js';
import { daysOfWeek } from './schema.js';

/**
 * A tariff turned into what the pricing loop needs: integer prices, restriction bounds in the
 * engine's units (ms, mWh, local ms of day, local day numbers) and the cut points where an active
 * element can change. Compiled once per tariff object (WeakMap) because sessions of one
 * tariff are priced over and over (running cost on every meter value).
 */

/** Prices as integers of 1e-8 currency units (limits.priceDecimalsMax). */
export const priceScale = 100_000_000n;
/** VAT as integers of 1e-4 percent, so the incl. VAT factor is (vatScale + vat) / vatScale. */
export const vatScale = 1_000_000n;

export interface CompiledComponent {
  readonly type: TariffDimensionType;
  readonly price: bigint;
  /** (vatScale + vat·1e4); vatScale when vat is omitted (no VAT applicable). */
  readonly vatFactor: bigint;
  readonly hasVat: boolean;
  /** step in engine units: mWh for ENERGY, ms for TIME/PARKING_TIME; 0 = no rounding. */
  readonly step: number;
}

export type ReservationMatch = 'NONE' | 'RESERVATION' | 'RESERVATION_EXPIRES';

export interface CompiledRestrictions {
  /** Local ms of day, or -1 when absent. */
  readonly startTimeMs: number;
  readonly endTimeMs: number;
  /** Local day numbers (days since 1970-01-01), end exclusive; NaN when absent. */
  readonly startDay: number;
  readonly endDay: number;
  /** Bit (1 << isoWeekday) per allowed day; 0 = any day. */
  readonly weekdayMask: number;
  readonly minEnergyMWh: number;
  readonly maxEnergyMWh: number;
  readonly minCurrentA: number;
  readonly maxCurrentA: number;
  readonly minPowerKw: number;
  readonly maxPowerKw: number;
  readonly minDurationMs: number;
  readonly maxDurationMs: number;
  readonly hasCurrent: boolean;
  readonly hasPower: boolean;
  readonly reservation: ReservationMatch;
}

export interface CompiledElement {
  readonly index: number;
  readonly components: Partial<Record<TariffDimensionType, CompiledComponent>>;
  readonly restrictions: CompiledRestrictions;
}

export interface CompiledTariff {
  readonly tariff: Tariff;
  /** All elements by their index in tariff.elements. */
  readonly elements: readonly CompiledElement[];
  /** Per dimension, the elements that have a component of it, in list order (first match wins). */
  readonly candidates: Readonly<Record<TariffDimensionType, readonly CompiledElement[]>>;
  /** Sorted local ms-of-day cut points; empty when no element looks at the local clock. */
  readonly localCutsMs: readonly number[];
  readonly usesLocalTime: boolean;
  readonly energyCutsMWh: readonly number[];
  readonly durationCutsMs: readonly number[];
  readonly minPrice: MoneyBounds | undefined;
  readonly maxPrice: MoneyBounds | undefined;
}

/** A Price bound as integers of 1e-8 (incl. VAT undefined when the tariff omits it). */
export interface MoneyBounds {
  readonly excl: bigint;
  readonly incl: bigint | undefined;
}

const compiled = new WeakMap<Tariff, CompiledTariff>();

export function compileTariff(tariff: Tariff): CompiledTariff {
  let result = compiled.get(tariff);
  if (result === undefined) {
    result = compile(tariff);
    compiled.set(tariff, result);
  }
  return result;
}

function compile(tariff: Tariff): CompiledTariff {
  const elements: CompiledElement[] = tariff.elements.map((element, index) => {
    const components: Partial<Record<TariffDimensionType, CompiledComponent>> = {};
    for (const c of element.price_components) {
      components[c.type] ??= {
        type: c.type,
        price: scaled(c.price, priceScale),
        vatFactor: vatScale + (c.vat === undefined ? 0n : scaled(c.vat, 10_000n)),
        hasVat: c.vat !== undefined,
        step: c.step_size * 1000, // Wh→mWh, s→ms; FLAT ignores it
      };
    }
    return { index, components, restrictions: compileRestrictions(element.restrictions ?? {}) };
  });
  const localCuts = new Set<number>();
  const energyCuts = new Set<number>();
  const durationCuts = new Set<number>();
  let usesLocalTime = false;
  for (const { restrictions: r } of elements) {
    if (r.startTimeMs >= 0) localCuts.add(r.startTimeMs);
    if (r.endTimeMs >= 0) localCuts.add(r.endTimeMs);
    // Day and date restrictions change at local midnight.
    if (r.weekdayMask !== 0 || !Number.isNaN(r.startDay) || !Number.isNaN(r.endDay)) localCuts.add(0);
    for (const v of [r.minEnergyMWh, r.maxEnergyMWh]) if (v > 0 && Number.isFinite(v)) energyCuts.add(v);
    for (const v of [r.minDurationMs, r.maxDurationMs]) if (v > 0 && Number.isFinite(v)) durationCuts.add(v);
  }
  usesLocalTime = localCuts.size > 0;
  const byType = (type: TariffDimensionType) => elements.filter((e) => e.components[type] !== undefined);
  const bounds = (p: Tariff['min_price']): MoneyBounds | undefined =>
    p && { excl: scaled(p.excl_vat, priceScale), incl: p.incl_vat === undefined ? undefined : scaled(p.incl_vat, priceScale) };
  return {
    tariff,
    elements,
    candidates: { ENERGY: byType('ENERGY'), FLAT: byType('FLAT'), TIME: byType('TIME'), PARKING_TIME: byType('PARKING_TIME') },
    localCutsMs: [...localCuts].sort((a, b) => a - b),
    usesLocalTime,
    energyCutsMWh: [...energyCuts].sort((a, b) => a - b),
    durationCutsMs: [...durationCuts].sort((a, b) => a - b),
    minPrice: bounds(tariff.min_price),
    maxPrice: bounds(tariff.max_price),
  };
}

function compileRestrictions(r: TariffRestrictions): CompiledRestrictions {
  let weekdayMask = 0;
  for (const day of r.day_of_week ?? []) weekdayMask |= 1 << (daysOfWeek.indexOf(day) + 1);
  return {
    startTimeMs: r.start_time === undefined ? -1 : timeOfDayMs(r.start_time),
    endTimeMs: r.end_time === undefined ? -1 : timeOfDayMs(r.end_time),
    startDay: r.start_date === undefined ? Number.NaN : (localDayNumber(r.start_date) ?? Number.NaN),
    endDay: r.end_date === undefined ? Number.NaN : (localDayNumber(r.end_date) ?? Number.NaN),
    weekdayMask,
    minEnergyMWh: r.min_kwh === undefined ? 0 : Math.round(r.min_kwh * 1_000_000),
    maxEnergyMWh: r.max_kwh === undefined ? Infinity : Math.round(r.max_kwh * 1_000_000),
    minCurrentA: r.min_current ?? 0,
    maxCurrentA: r.max_current ?? Infinity,
    minPowerKw: r.min_power ?? 0,
    maxPowerKw: r.max_power ?? Infinity,
    minDurationMs: (r.min_duration ?? 0) * 1000,
    maxDurationMs: r.max_duration === undefined ? Infinity : r.max_duration * 1000,
    hasCurrent: r.min_current !== undefined || r.max_current !== undefined,
    hasPower: r.min_power !== undefined || r.max_power !== undefined,
    reservation: r.reservation ?? 'NONE',
  };
}

function timeOfDayMs(hhmm: string): number {
  return (Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5))) * 60_000;
}

/** Exact integer of value × scale; the schema refused values with more decimals than the scale. */
function scaled(value: number, scale: bigint): bigint {
  return BigInt(new Decimal(value).mul(scale.toString()).toFixed(0));
}
