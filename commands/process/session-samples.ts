import { Decimal } from 'decimal.js';
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
 * Meter samples from start to end: the start register, every register reading inside the session
 * (by station time, so offline-queued readings fall in place), a point at every charging-state
 * change (energy interpolated between the registers around it), and the end register. A session
 * without any register prices zero energy, never "from 0 Wh".
 */
export function meterSamplesOf(session: EndedSession): MeterSample[] {
  const startMs = ms(session.started.startedAt);
  const endMs = Math.max(startMs, ms(session.ended.endedAt));
  const registers = session.readings
    .filter((r) => r.registerWh !== null && ms(r.sampledAt) >= startMs && ms(r.sampledAt) <= endMs)
    .map((r) => ({ atMs: ms(r.sampledAt), wh: new Decimal(r.registerWh!), powerW: powerWOf(r.sampledValues) }))
    .sort((a, b) => a.atMs - b.atMs);
  const startWh = session.started.meterStartWh !== null ? new Decimal(session.started.meterStartWh) : (registers[0]?.wh ?? null);
  const stopWh = session.ended.meterStopWh;
  const points: { atMs: number; wh: Decimal; powerW?: number }[] = [];
  if (startWh === null) {
    // No register ever: energy unknown, time still billable.
    points.push({ atMs: startMs, wh: new Decimal(0) }, { atMs: endMs, wh: new Decimal(0) });
  } else {
    points.push({ atMs: startMs, wh: startWh }, ...registers, { atMs: endMs, wh: session.ended.suspicious && new Decimal(stopWh).lt(startWh) ? startWh : new Decimal(stopWh) });
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
    energyWh: p.wh.toNumber(),
    ...(p.powerW === undefined ? {} : { powerW: p.powerW }),
    state: stateAt(p.atMs),
  }));
}
