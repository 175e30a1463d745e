import type { CompiledElement, CompiledRestrictions } from './compile.js';
import type { TariffDimensionType } from './schema.js';

/**
 * What the restrictions of an element are checked against, for one slice of the session,
 * taken at the slice start (the engine cuts slices wherever a restriction could change).
 */
export interface SliceContext {
  /** Local (Location time zone) ms since midnight, day number and ISO weekday 1 = Monday. */
  localMsOfDay: number;
  localDay: number;
  isoWeekday: number;
  /** Energy consumed in the session before this slice (mWh) and session time so far (ms). */
  energyBeforeMWh: number;
  durationBeforeMs: number;
  /** NaN when unknown: a power or current restriction then does not match. */
  powerKw: number;
  currentA: number;
  reservation: boolean;
  reservationExpired: boolean;
}

/**
 * TariffRestrictions class (mod_tariffs): all restrictions hold at once; min_* inclusive, max_*
 * exclusive; times and dates are local; end_time < start_time wraps past midnight and 00:00 as
 * end_time means the end of the day.
 */
export function restrictionsMatch(r: CompiledRestrictions, ctx: SliceContext): boolean {
  if (!reservationMatches(r, ctx)) return false;
  if (!timeOfDayMatches(r.startTimeMs, r.endTimeMs, ctx.localMsOfDay)) return false;
  if (r.weekdayMask !== 0 && (r.weekdayMask & (1 << ctx.isoWeekday)) === 0) return false;
  if (ctx.localDay < r.startDay || ctx.localDay >= r.endDay) return false; // NaN compares false
  if (ctx.energyBeforeMWh < r.minEnergyMWh || ctx.energyBeforeMWh >= r.maxEnergyMWh) return false;
  if (ctx.durationBeforeMs < r.minDurationMs || ctx.durationBeforeMs >= r.maxDurationMs) return false;
  if (r.hasPower && !(ctx.powerKw >= r.minPowerKw && ctx.powerKw < r.maxPowerKw)) return false;
  if (r.hasCurrent && !(ctx.currentA >= r.minCurrentA && ctx.currentA < r.maxCurrentA)) return false;
  return true;
}

/**
 * Elements with a `reservation` restriction price only reservation time; elements without one
 * price only the session after it. RESERVATION also matches a reservation that expired (the
 * spec's tariff with an expire fee keeps billing reserved time at the RESERVATION rate);
 * RESERVATION_EXPIRES matches only an expired one (ReservationRestrictionType enum).
 */
function reservationMatches(r: CompiledRestrictions, ctx: SliceContext): boolean {
  switch (r.reservation) {
    case 'NONE':
      return !ctx.reservation;
    case 'RESERVATION':
      return ctx.reservation;
    case 'RESERVATION_EXPIRES':
      return ctx.reservation && ctx.reservationExpired;
  }
}

function timeOfDayMatches(startMs: number, endMs: number, msOfDay: number): boolean {
  if (startMs < 0 && endMs < 0) return true;
  if (startMs >= 0 && endMs >= 0) {
    return startMs < endMs ? msOfDay >= startMs && msOfDay < endMs : msOfDay >= startMs || msOfDay < endMs;
  }
  if (startMs >= 0) return msOfDay >= startMs;
  return endMs === 0 || msOfDay < endMs;
}

/** mod_tariffs "Tariff Object": per dimension the first element in list order that matches. */
export function activeElement(candidates: readonly CompiledElement[], ctx: SliceContext): CompiledElement | undefined {
  for (const element of candidates) if (restrictionsMatch(element.restrictions, ctx)) return element;
  return undefined;
}

export type { TariffDimensionType };
