import { Decimal } from 'decimal.js';
import { PricedChargingPeriod } from '../../domain/tariff/pricing.js';
import type { MeterSample, UsageState } from '../../domain/tariff/segments.js';
import { chargingStateChangesPerTransactionMax } from '../../domain/transaction/charging-state.js';
import type { ChargingState, SampledValue, TransactionEventData } from '../../domain/transaction/events.js';
import { consistentReadings, endedEnergyWh, isStartOrStopCopy, RegisterDecimal, type RegisterSample } from '../../domain/transaction/meter-energy.js';
import { invariant } from '../../domain/shared/assert.js';

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

/**
 * What the meter says the session consumed, Wh, exactly: stop − start register (meter-energy.ts
 * `endedEnergyWh`); 0 when no register was ever known. At register precision, so kWh from it are exact too.
 */
export function meteredEnergyWh(session: EndedSession): Decimal {
  return new RegisterDecimal(endedEnergyWh(startRegisterOf(session), new Decimal(session.ended.meterStopWh)));
}

interface RegisterPoint {
  readonly atMs: number;
  readonly wh: Decimal;
  readonly powerW?: number;
}

/**
 * The register readings inside the session that the one rule for a session's energy counts
 * (domain/transaction/meter-energy.ts `consistentReadings`): no start/stop copies, within the
 * session's time and [start, stop] registers, on the longest run that never goes down.
 */
function consistentPoints(session: EndedSession, startMs: number, endMs: number, startWh: Decimal, stopWh: Decimal): RegisterPoint[] {
  const samples: (RegisterSample & { readonly powerW: number | undefined })[] = [];
  for (const r of session.readings) {
    if (r.registerWh === null) continue;
    samples.push({ atMs: ms(r.sampledAt), wh: new Decimal(r.registerWh), startOrStopCopy: isStartOrStopCopy(r.sampledValues), powerW: powerWOf(r.sampledValues) });
  }
  return consistentReadings(samples, { startMs, startWh, end: { atMs: endMs, stopWh } }).map(({ atMs, wh, powerW }) => (powerW === undefined ? { atMs, wh } : { atMs, wh, powerW }));
}

/**
 * The register points with a point added at each charging-state change strictly inside them (energy
 * interpolated linearly between the registers around it): one merge of two lists sorted by time.
 */
function withChangePoints(points: readonly RegisterPoint[], changeTimesMs: readonly number[]): RegisterPoint[] {
  const merged: RegisterPoint[] = [points[0]!];
  let c = 0;
  for (let p = 1; p < points.length; p++) {
    const before = points[p - 1]!;
    const next = points[p]!;
    for (; c < changeTimesMs.length && changeTimesMs[c]! < next.atMs; c++) {
      const atMs = changeTimesMs[c]!;
      // At or before the previous point (an equal time, or before the start) adds no point.
      if (atMs <= before.atMs || atMs === merged.at(-1)!.atMs) continue;
      const share = new Decimal(atMs - before.atMs).div(next.atMs - before.atMs);
      merged.push({ atMs, wh: before.wh.plus(next.wh.minus(before.wh).times(share)) });
    }
    merged.push(next);
  }
  return merged;
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
  invariant(session.chargingStates.length <= chargingStateChangesPerTransactionMax, `${session.chargingStates.length} charging-state changes: at most ${chargingStateChangesPerTransactionMax} per transaction`);
  const startMs = ms(session.started.startedAt);
  const endMs = Math.max(startMs, ms(session.ended.endedAt));
  const registers = sessionRegistersOf(session);
  const points: RegisterPoint[] =
    registers === null
      ? // No register ever: energy unknown, time still billable.
        [{ atMs: startMs, wh: new Decimal(0) }, { atMs: endMs, wh: new Decimal(0) }]
      : [{ atMs: startMs, wh: registers.startWh }, ...consistentPoints(session, startMs, endMs, registers.startWh, registers.stopWh), { atMs: endMs, wh: registers.stopWh }];
  const changes = session.chargingStates
    .map((c) => ({ atMs: ms(c.changedAt), state: usageStateOf(c.state) }))
    .sort((a, b) => a.atMs - b.atMs);
  // The usage state at each point: the latest change at or before it (both lists in time order).
  let c = 0;
  let state: UsageState = 'CHARGING';
  return withChangePoints(
    points,
    changes.map((change) => change.atMs),
  ).map((p) => {
    for (; c < changes.length && changes[c]!.atMs <= p.atMs; c++) state = changes[c]!.state;
    return {
      timestamp: new Date(p.atMs).toISOString(),
      energyWh: p.wh.toDecimalPlaces(3, Decimal.ROUND_HALF_UP).toNumber(),
      ...(p.powerW === undefined ? {} : { powerW: p.powerW }),
      state,
    };
  });
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
