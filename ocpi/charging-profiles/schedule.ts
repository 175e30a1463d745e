import type { ActiveChargingProfile } from '../schemas/charging-profiles.js';

/**
 * A station's GetCompositeSchedule answer as an OCPI ActiveChargingProfile. OCPP 1.6 answers
 * `{scheduleStart, chargingSchedule: {...}}`, 2.0.1 `{schedule: {scheduleStart, ...}}`; both
 * schedules have chargingRateUnit, duration and chargingSchedulePeriod [{startPeriod, limit}].
 * Null when the answer carries no usable schedule.
 */

/** OCPI limits take one decimal (mod_charging_profiles, "limit"). */
const oneDecimal = (value: number) => Math.round(value * 10) / 10;

export function activeProfileOf(answer: Record<string, unknown>, now: Date): ActiveChargingProfile | null {
  const schedule201 = answer.schedule as Record<string, unknown> | undefined;
  const schedule = (schedule201 ?? answer.chargingSchedule) as Record<string, unknown> | undefined;
  if (schedule === undefined || schedule === null) return null;
  const unit = schedule.chargingRateUnit;
  if (unit !== 'W' && unit !== 'A') return null;
  const periods = Array.isArray(schedule.chargingSchedulePeriod) ? (schedule.chargingSchedulePeriod as { startPeriod?: unknown; limit?: unknown }[]) : [];
  const start = (schedule201?.scheduleStart ?? answer.scheduleStart ?? schedule.startSchedule) as string | undefined;
  const startDate = typeof start === 'string' && !Number.isNaN(Date.parse(start)) ? new Date(start) : now;
  return {
    start_date_time: startDate.toISOString(),
    charging_profile: {
      charging_rate_unit: unit,
      ...(typeof schedule.duration === 'number' ? { duration: schedule.duration } : {}),
      ...(typeof schedule.minChargingRate === 'number' ? { min_charging_rate: oneDecimal(schedule.minChargingRate) } : {}),
      charging_profile_period: periods
        .filter((period) => typeof period.startPeriod === 'number' && typeof period.limit === 'number')
        .map((period) => ({ start_period: period.startPeriod as number, limit: oneDecimal(period.limit as number) })),
    },
  };
}
