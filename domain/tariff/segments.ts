import type { ChargingPeriod } from './cdr-schema.js';
import { refuse } from './errors.js';
import { chargingPeriodsMax, meterSamplesMax, sessionDurationMaxMs } from './limits.js';
import { utcMs } from './tariff-checks.js';

/** What the EV is doing from one sample to the next. RESERVATION: reserved, not yet plugged in. */
export type UsageState = 'CHARGING' | 'PARKING' | 'RESERVATION';

/** One meter reading of a session, e.g. from OCPP MeterValues. */
export interface MeterSample {
  /** RFC 3339 UTC timestamp (station clock). */
  readonly timestamp: string;
  /** Energy.Active.Import.Register in Wh: a register, so it only goes up. */
  readonly energyWh: number;
  /** Power.Active.Import in W at this sample; when absent the average over the interval is used. */
  readonly powerW?: number;
  /** Current.Import in A at this sample; when absent, current restrictions do not match. */
  readonly currentA?: number;
  /** State from this sample until the next one. */
  readonly state: UsageState;
}

/**
 * A stretch of the session with one state and constant power and current, energy spread evenly.
 * Both inputs (meter samples, OCPI charging periods) become segments; slicing cuts them further.
 */
export interface Segment {
  startMs: number;
  endMs: number;
  /** Session energy (mWh) consumed before this segment, and within it. */
  energyStartMWh: number;
  energyMWh: number;
  state: UsageState;
  powerKw: number;
  currentA: number;
}

export interface Segments {
  readonly segments: Segment[];
  readonly sessionStartMs: number;
  readonly sessionEndMs: number;
  readonly warnings: string[];
}

/** Samples so far give the running cost; all samples of a finished session give the CDR. */
export function segmentsFromMeterSamples(samples: readonly MeterSample[]): Segments {
  if (samples.length === 0) refuse('meter_samples', 'at least one sample is needed');
  if (samples.length > meterSamplesMax) refuse('meter_samples', `more than ${meterSamplesMax} samples`);
  const warnings: string[] = [];
  const segments: Segment[] = [];
  let energy = 0;
  let previous = samples[0]!;
  let previousMs = parseTime(previous.timestamp, 'meter_samples.0.timestamp');
  let previousMWh = registerMWh(previous);
  // The highest register so far: only a rise above it is energy.
  let highestMWh = previousMWh;
  const startMs = previousMs;
  for (let i = 1; i < samples.length; i++) {
    const sample = samples[i]!;
    const ms = parseTime(sample.timestamp, `meter_samples.${i}.timestamp`);
    if (ms < previousMs) refuse(`meter_samples.${i}.timestamp`, 'is earlier than the sample before it');
    const sampleMWh = registerMWh(sample);
    // A register that goes down is a meter fault (docs/style.md): keep pricing, bill no energy for
    // it, and none for climbing back either (10636 → 10000 → 10636 Wh is no energy, not 636 Wh).
    if (sampleMWh < previousMWh) warnings.push(`meter_samples.${i}.energyWh goes down by ${(previousMWh - sampleMWh) / 1000} Wh; priced as 0`);
    const deltaMWh = Math.max(0, sampleMWh - highestMWh);
    segments.push(segment(previousMs, ms, energy, deltaMWh, previous.state, previous.powerW === undefined ? Number.NaN : previous.powerW / 1000, previous.currentA));
    energy += deltaMWh;
    highestMWh = Math.max(highestMWh, sampleMWh);
    previous = sample;
    previousMs = ms;
    previousMWh = sampleMWh;
  }
  return checked({ segments, sessionStartMs: startMs, sessionEndMs: previousMs, warnings });
}

/**
 * OCPI charging periods (mod_cdrs "ChargingPeriod class"). A period's length is its TIME,
 * PARKING_TIME or RESERVATION_TIME volume (in that order: reserve, charge, park); a period with
 * none of them lasts until the next period starts (or `endDateTime` for the last one).
 */
export function segmentsFromChargingPeriods(periods: readonly ChargingPeriod[], endDateTime?: string): Segments {
  if (periods.length === 0) refuse('charging_periods', 'at least one charging period is needed');
  if (periods.length > chargingPeriodsMax) refuse('charging_periods', `more than ${chargingPeriodsMax} periods`);
  const segments: Segment[] = [];
  const starts = periods.map((p, i) => parseTime(p.start_date_time, `charging_periods.${i}.start_date_time`));
  const endMs = endDateTime === undefined ? undefined : parseTime(endDateTime, 'end_date_time');
  let energy = 0;
  let lastEnd = starts[0]!;
  periods.forEach((period, i) => {
    const start = starts[i]!;
    if (i > 0 && start < starts[i - 1]!) refuse(`charging_periods.${i}.start_date_time`, 'is earlier than the period before it');
    const volume = (type: string) => period.dimensions.find((d) => d.type === type)?.volume;
    const energyMWh = Math.round((volume('ENERGY') ?? 0) * 1_000_000);
    const power = volume('POWER') ?? volume('MAX_POWER') ?? Number.NaN;
    const current = volume('CURRENT') ?? volume('MAX_CURRENT') ?? volume('MIN_CURRENT');
    const reservationMs = hoursToMs(volume('RESERVATION_TIME'));
    const chargingMs = hoursToMs(volume('TIME'));
    const parkingMs = hoursToMs(volume('PARKING_TIME'));
    let t = start;
    const push = (ms: number, state: Segment['state'], mwh: number) => {
      segments.push(segment(t, t + ms, energy, mwh, state, power, current));
      energy += mwh;
      t += ms;
    };
    if (reservationMs !== undefined) push(reservationMs, 'RESERVATION', 0);
    if (chargingMs !== undefined) push(chargingMs, 'CHARGING', energyMWh);
    if (parkingMs !== undefined) push(parkingMs, 'PARKING', chargingMs === undefined ? energyMWh : 0);
    if (reservationMs === undefined && chargingMs === undefined && parkingMs === undefined) {
      const next = i + 1 < periods.length ? starts[i + 1]! : (endMs ?? start);
      push(Math.max(0, next - start), 'CHARGING', energyMWh);
    }
    lastEnd = Math.max(lastEnd, t);
  });
  return checked({ segments, sessionStartMs: starts[0]!, sessionEndMs: endMs ?? lastEnd, warnings: [] });
}

function segment(startMs: number, endMs: number, energyStartMWh: number, energyMWh: number, state: Segment['state'], powerKw: number, currentA: number | undefined): Segment {
  const durationMs = endMs - startMs;
  // Without a measured power, the interval's average power decides min_power/max_power.
  const power = Number.isNaN(powerKw) && durationMs > 0 ? energyMWh / 1_000_000 / (durationMs / 3_600_000) : powerKw;
  return { startMs, endMs, energyStartMWh, energyMWh, state, powerKw: power, currentA: currentA ?? Number.NaN };
}

function checked(result: Segments): Segments {
  if (result.sessionEndMs - result.sessionStartMs > sessionDurationMaxMs) {
    refuse('session', `lasts longer than ${sessionDurationMaxMs / 86_400_000} days`);
  }
  return result;
}

/**
 * A register rounded to whole mWh (ARCHITECTURE.md, Rounding). Each register is rounded, not each
 * difference, so the energies between samples add up to last − first exactly.
 */
function registerMWh(sample: MeterSample): number {
  return Math.round(sample.energyWh * 1000);
}

function hoursToMs(hours: number | undefined): number | undefined {
  return hours === undefined ? undefined : Math.round(hours * 3_600_000);
}

function parseTime(value: string, path: string): number {
  const ms = utcMs(value);
  if (Number.isNaN(ms)) refuse(path, `${value} is not an RFC 3339 timestamp`);
  return ms;
}
