import { Decimal } from 'decimal.js';
import { invariant } from '../shared/assert.js';
import type { SampledValue } from './events.js';

/**
 * Which register readings count for a session's energy: one rule for the running energy
 * (state.ts `energySoFarWh`, the OCPI Session's kwh), the OCPI charging periods and the CDR
 * (commands/process/session-samples.ts). The energy itself is always a register difference: stop −
 * start once ended, so what the meter says is what is billed; the readings only say when it flowed.
 */

/** A week of one-minute readings with room to spare; the transaction decider records no more (decide.ts). */
export const meterReadingsPerTransactionMax = 20_000;

/** Registers reach 1e13 Wh with 9 decimals (23 digits): their difference needs more than decimal.js's default 20. */
export const RegisterDecimal = Decimal.clone({ precision: 40 });

/** The measurand of the energy register (the total, no phase): the one reading that counts energy. */
const energyRegisterMeasurand = 'Energy.Active.Import.Register';

/**
 * OCPP ReadingContext of the register value itself. A Transaction.Begin/Transaction.End reading is
 * the start/stop register again (1.6 transactionData copies meterStart/meterStop there): the start
 * and end points already stand for it, at the session's own start and end time. Its timestamp is
 * not trusted: real stations stamp a Transaction.Begin reading with the stop time.
 */
export function isStartOrStopCopy(sampledValues: readonly SampledValue[]): boolean {
  const register = sampledValues.find((v) => v.measurand === energyRegisterMeasurand && v.phase === null);
  return register?.context === 'Transaction.Begin' || register?.context === 'Transaction.End';
}

/** A register reading as the rule reads it: station time, register, and whether it copies the start/stop. */
export interface RegisterSample {
  readonly atMs: number;
  readonly wh: Decimal;
  readonly startOrStopCopy: boolean;
}

/** What readings are held against: the session's start, and once it ended its end (stop ≥ start). */
export interface MeterWindow {
  readonly startMs: number;
  readonly startWh: Decimal;
  readonly end?: { readonly atMs: number; readonly stopWh: Decimal };
}

/**
 * Whether a reading may count at all: a register of its own (not a start/stop copy), sampled
 * within the session, not below the start register nor above the stop register.
 */
export function mayCount(sample: RegisterSample, window: MeterWindow): boolean {
  if (sample.startOrStopCopy || sample.atMs < window.startMs || sample.wh.lt(window.startWh)) return false;
  return window.end === undefined || (sample.atMs <= window.end.atMs && sample.wh.lte(window.end.stopWh));
}

/**
 * The longest run of samples (already in station-time order) whose register never goes down:
 * the readings that agree with each other most. Of equally long runs, the one keeping the higher
 * earlier readings, so a reading that falls back below an earlier one is the one dropped (a meter
 * reset, a start value stamped late), not the earlier reading. O(n log n): patience sorting,
 * run backwards as the longest non-increasing run.
 */
function longestNonDecreasing<T extends RegisterSample>(samples: readonly T[]): T[] {
  // heads[k]: index of the earliest sample of the best run of length k + 1 seen so far (highest register).
  const heads: number[] = [];
  const next = new Array<number>(samples.length).fill(-1);
  for (let i = samples.length - 1; i >= 0; i--) {
    const wh = samples[i]!.wh;
    let low = 0;
    let high = heads.length;
    while (low < high) {
      const mid = (low + high) >> 1;
      if (samples[heads[mid]!]!.wh.gte(wh)) low = mid + 1;
      else high = mid;
    }
    if (low > 0) next[i] = heads[low - 1]!;
    heads[low] = i;
  }
  const run: T[] = [];
  for (let i = heads.length === 0 ? -1 : heads[heads.length - 1]!; i >= 0; i = next[i]!) run.push(samples[i]!);
  return run;
}

/**
 * The readings consistent with the register's monotonic order: those that may count
 * (`mayCount`), by station time (ties: lower register first), on the longest non-decreasing run
 * of them. A dropped reading creates no energy: the energy between two kept points is their
 * difference, so from start to stop it adds up to exactly stop − start.
 */
export function consistentReadings<T extends RegisterSample>(samples: readonly T[], window: MeterWindow): T[] {
  invariant(samples.length <= meterReadingsPerTransactionMax, `${samples.length} readings: at most ${meterReadingsPerTransactionMax} per transaction`);
  const inside = samples.filter((s) => mayCount(s, window)).sort((a, b) => a.atMs - b.atMs || a.wh.comparedTo(b.wh));
  return longestNonDecreasing(inside);
}

/**
 * Whether a reading of a running session extends the run its energy so far comes from: it may
 * count by time and context (not a start/stop copy, not before the start) and is not below the
 * highest register so far. A lower one never raises the energy shown, and the longest-run rule
 * drops it or a reading before it, so nothing built on the running energy (the OCPI charging
 * periods) spreads energy for it. The start bound is applied by `runningEnergyWh`, since a session
 * without a meter start learns its start later.
 */
export function extendsRunningRegister(highestWh: Decimal | null, sample: RegisterSample, startMs: number): boolean {
  if (sample.startOrStopCopy || sample.atMs < startMs) return false;
  return highestWh === null || sample.wh.gte(highestWh);
}

/** The highest register of a running session's readings that extend its run (`extendsRunningRegister`), whatever order they arrive in. */
export function highestRegisterAfter(highestWh: Decimal | null, sample: RegisterSample, startMs: number): Decimal | null {
  return extendsRunningRegister(highestWh, sample, startMs) ? sample.wh : highestWh;
}

/**
 * Energy so far of a running session, Wh: the highest register its readings reached − start,
 * never negative; 0 while no start register is known. This is the largest energy the consistent
 * readings (`consistentReadings`, last register − start) have shown so far: a reading above all
 * before it ends the longest run, one below them never raises it. So, as readings arrive, the
 * running energy never goes down, and a reading the rule drops never moves it.
 */
export function runningEnergyWh(startWh: Decimal | null, highestWh: Decimal | null): Decimal {
  if (startWh === null || highestWh === null) return new Decimal(0);
  // Exact digits in a plain Decimal: the difference is taken at register precision.
  return new Decimal(RegisterDecimal.max(0, new RegisterDecimal(highestWh).minus(startWh)));
}

/** kWh to the 4 decimals OCPI sends (CDR total_energy, Session kwh), rounded half up from the exact Wh. */
export const kwhOf = (wh: Decimal.Value): Decimal => new RegisterDecimal(wh).div(1000).toDecimalPlaces(4, Decimal.ROUND_HALF_UP);

/** Energy of an ended session, Wh: stop − start, never negative (a stop below the start is no energy); 0 without a start. */
export function endedEnergyWh(startWh: Decimal | null, stopWh: Decimal): Decimal {
  return startWh === null ? new Decimal(0) : new Decimal(RegisterDecimal.max(0, new RegisterDecimal(stopWh).minus(startWh)));
}
