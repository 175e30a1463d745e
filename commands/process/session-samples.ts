import { Decimal } from 'decimal.js';
import { PricedChargingPeriod } from '../../domain/tariff/pricing.js';
import type { MeterSample, UsageState } from '../../domain/tariff/segments.js';
import type { ChargingState, SampledValue, TransactionEventData } from '../../domain/transaction/events.js';

/**
 * A finished session as the tariff engine reads it: meter samples with their usage state. Built
 * from the transaction stream's events (started, readings, charging-state changes, ended).
 */
export interface EndedSession {
  readonly started: TransactionEventData<'TransactionStarted'>;
  readonly readings: readonly TransactionEventData<'MeterReadingRecorded'>[];
  readonly chargingStates: readonly TransactionEventData<'ChargingStateChanged'>[];
  readonly ended: TransactionEventData<'TransactionEnded'>;
  /** The transaction's TransactionAuthorized facts, for the CDR's auth_method and authorization_reference. */
  readonly authorizations?: readonly TransactionEventData<'TransactionAuthorized'>[];
}

/**
 * OCPI PARKING_TIME is time connected but not charging. SuspendedEVSE counts as charging time:
 * the EVSE (smart charging, our own load management) paused it and the driver is not to be billed
 * parking for that. EVConnected, SuspendedEV and Idle are parking. With no state reported at all
 * (most 1.6 stations), the whole session is charging.
 */
export function usageStateOf(state: ChargingState): UsageState {
  return state === 'Charging' || state === 'SuspendedEVSE' ? 'CHARGING' : 'PARKING';
}

/** Power.Active.Import in W from a reading's sampled values (unit W or kW, 2.0.1 multiplier). */
export function powerWOf(values: readonly SampledValue[]): number | undefined {
  const power = values.find((v) => v.measurand === 'Power.Active.Import' && (v.phase === null || v.phase === undefined));
  if (!power) return undefined;
  let watts = new Decimal(power.value);
  if (!watts.isFinite()) return undefined;
  if (power.unit === 'kW') watts = watts.times(1000);
  if (power.multiplier !== null) watts = watts.times(new Decimal(10).pow(power.multiplier));
  return watts.isNegative() ? undefined : watts.toNumber();
}

const ms = (iso: string) => Date.parse(iso);

/** The measurand of the energy register (the total, no phase): the one reading that counts energy. */
const energyRegisterMeasurand = 'Energy.Active.Import.Register';

/**
 * OCPP ReadingContext of the register value itself. A Transaction.Begin/Transaction.End reading is
 * the start/stop register again (1.6 transactionData copies meterStart/meterStop there): the start
 * and end points already stand for it, at the session's own start and end time. Its timestamp is
 * not trusted: real stations stamp a Transaction.Begin reading with the stop time.
 */
function isStartOrStopCopy(reading: EndedSession['readings'][number]): boolean {
  const register = reading.sampledValues.find((v) => v.measurand === energyRegisterMeasurand && v.phase === null);
  return register?.context === 'Transaction.Begin' || register?.context === 'Transaction.End';
}

/**
 * The start register the way the transaction domain derives it (state.ts `meterStartOf`): the
 * station's meter start (1.6 meterStart, 2.0.1 the Started message's register), else the earliest
 * register reading by station time (ties: the lower). null: no register was ever known.
 */
function startRegisterOf(session: EndedSession): Decimal | null {
  if (session.started.meterStartWh !== null) return new Decimal(session.started.meterStartWh);
  let earliest: { atMs: number; wh: Decimal } | null = null;
  for (const reading of session.readings) {
    if (reading.registerWh === null) continue;
    const candidate = { atMs: ms(reading.sampledAt), wh: new Decimal(reading.registerWh) };
    if (!earliest || candidate.atMs < earliest.atMs || (candidate.atMs === earliest.atMs && candidate.wh.lt(earliest.wh))) earliest = candidate;
  }
  return earliest?.wh ?? null;
}

/**
 * The registers the session's energy is counted between: start (see `startRegisterOf`) and stop
 * (TransactionEnded.meterStopWh: 1.6 meterStop, 2.0.1 the Ended register or the latest reading).
 * A stop below the start (a suspicious end) counts as the start: no energy, never negative.
 */
export function sessionRegistersOf(session: EndedSession): { readonly startWh: Decimal; readonly stopWh: Decimal } | null {
  const startWh = startRegisterOf(session);
  if (startWh === null) return null;
  return { startWh, stopWh: Decimal.max(startWh, new Decimal(session.ended.meterStopWh)) };
}

/** Registers reach 1e13 Wh with 9 decimals (23 digits): their difference needs more than decimal.js's default 20. */
const RegisterDecimal = Decimal.clone({ precision: 40 });

/** What the meter says the session consumed, Wh, exactly: stop − start register; 0 when no register was ever known. */
export function meteredEnergyWh(session: EndedSession): Decimal {
  const registers = sessionRegistersOf(session);
  return registers ? new RegisterDecimal(registers.stopWh).minus(registers.startWh) : new Decimal(0);
}

interface RegisterPoint {
  readonly atMs: number;
  readonly wh: Decimal;
  readonly powerW?: number;
}

/**
 * The longest run of readings (already in station-time order) whose register never goes down:
 * the readings that agree with each other most. Of equally long runs, the one keeping the higher
 * earlier readings, so a reading that falls back below an earlier one is the one dropped (a meter
 * reset, a start value stamped late), not the earlier reading. O(n log n): patience sorting,
 * run backwards as the longest non-increasing run.
 */
function longestNonDecreasing(points: readonly RegisterPoint[]): RegisterPoint[] {
  // heads[k]: index of the earliest point of the best run of length k + 1 seen so far (highest register).
  const heads: number[] = [];
  const next = new Array<number>(points.length).fill(-1);
  for (let i = points.length - 1; i >= 0; i--) {
    const wh = points[i]!.wh;
    let low = 0;
    let high = heads.length;
    while (low < high) {
      const mid = (low + high) >> 1;
      if (points[heads[mid]!]!.wh.gte(wh)) low = mid + 1;
      else high = mid;
    }
    if (low > 0) next[i] = heads[low - 1]!;
    heads[low] = i;
  }
  const run: RegisterPoint[] = [];
  for (let i = heads.length === 0 ? -1 : heads[heads.length - 1]!; i >= 0; i = next[i]!) run.push(points[i]!);
  return run;
}

/**
 * The register readings inside the session that are consistent with the register's monotonic
 * order: by station time (ties: lower register first), within [start, stop] register, and on the
 * longest non-decreasing run of them. Start/stop copies (Transaction.Begin/End) are left out. A
 * dropped reading creates no energy: the energy between two kept points is their difference, so
 * the priced total is exactly stop − start.
 */
function consistentReadings(session: EndedSession, startMs: number, endMs: number, startWh: Decimal, stopWh: Decimal): RegisterPoint[] {
  const inside = session.readings
    .filter((r) => r.registerWh !== null && ms(r.sampledAt) >= startMs && ms(r.sampledAt) <= endMs && !isStartOrStopCopy(r))
    .map((r) => ({ atMs: ms(r.sampledAt), wh: new Decimal(r.registerWh!), powerW: powerWOf(r.sampledValues) }))
    .filter((r) => r.wh.gte(startWh) && r.wh.lte(stopWh))
    .sort((a, b) => a.atMs - b.atMs || a.wh.comparedTo(b.wh));
  return longestNonDecreasing(inside);
}

/**
 * Meter samples from start to end: the start register, the register readings inside the session
 * that agree with the register's order (`consistentReadings`; by station time, so offline-queued
 * readings fall in place), a point at every charging-state change (energy interpolated between
 * the registers around it), and the stop register. Registers go to the engine rounded to whole mWh,
 * so the priced energy adds up to stop − start exactly. A session without any register prices
 * zero energy, never "from 0 Wh".
 */
export function meterSamplesOf(session: EndedSession): MeterSample[] {
  const startMs = ms(session.started.startedAt);
  const endMs = Math.max(startMs, ms(session.ended.endedAt));
  const registers = sessionRegistersOf(session);
  const points: { atMs: number; wh: Decimal; powerW?: number }[] = [];
  if (registers === null) {
    // No register ever: energy unknown, time still billable.
    points.push({ atMs: startMs, wh: new Decimal(0) }, { atMs: endMs, wh: new Decimal(0) });
  } else {
    const { startWh, stopWh } = registers;
    points.push({ atMs: startMs, wh: startWh }, ...consistentReadings(session, startMs, endMs, startWh, stopWh), { atMs: endMs, wh: stopWh });
  }
  const changes = session.chargingStates
    .map((c) => ({ atMs: ms(c.changedAt), state: usageStateOf(c.state) }))
    .sort((a, b) => a.atMs - b.atMs);
  // Insert a point at each change strictly inside the session (energy interpolated linearly).
  for (const change of changes) {
    if (change.atMs <= startMs || change.atMs >= endMs || points.some((p) => p.atMs === change.atMs)) continue;
    const after = points.findIndex((p) => p.atMs > change.atMs);
    const before = points[after - 1]!;
    const next = points[after]!;
    const share = new Decimal(change.atMs - before.atMs).div(next.atMs - before.atMs);
    points.splice(after, 0, { atMs: change.atMs, wh: before.wh.plus(next.wh.minus(before.wh).times(share)) });
  }
  const stateAt = (atMs: number): UsageState => {
    let state: UsageState = 'CHARGING';
    for (const change of changes) if (change.atMs <= atMs) state = change.state;
    return state;
  };
  return points.map((p) => ({
    timestamp: new Date(p.atMs).toISOString(),
    energyWh: p.wh.toDecimalPlaces(3, Decimal.ROUND_HALF_UP).toNumber(),
    ...(p.powerW === undefined ? {} : { powerW: p.powerW }),
    state: stateAt(p.atMs),
  }));
}

/**
 * Charging periods of a session no tariff prices: one per run of the same usage state, with the
 * energy and time measured, so a free CDR still says what was delivered and for how long. Energy
 * is counted in whole mWh per register, as the tariff engine counts it.
 */
export function unpricedPeriodsOf(samples: readonly MeterSample[]): PricedChargingPeriod[] {
  const noElement = { ENERGY: null, TIME: null, PARKING_TIME: null };
  const periods: PricedChargingPeriod[] = [];
  for (let i = 0; i + 1 < samples.length; i++) {
    const from = samples[i]!;
    const to = samples[i + 1]!;
    const energyMWh = Math.max(0, Math.round(to.energyWh * 1000) - Math.round(from.energyWh * 1000));
    const last = periods.at(-1);
    if (last !== undefined && last.state === from.state) {
      last.endMs = ms(to.timestamp);
      last.energyMWh += energyMWh;
    } else {
      periods.push(new PricedChargingPeriod(ms(from.timestamp), ms(to.timestamp), from.state, noElement, energyMWh));
    }
  }
  return periods;
}
