import { Decimal } from 'decimal.js';
import { transactionAggregateId201 } from '../../ocpp/translate/v201/transaction-event.js';
import type { StationSimulator } from './station-simulator.js';

/**
 * A simulated day of charging sessions for end-to-end tests: a deterministic plan drawn from a seed
 * (which EVSE, which token, when, how much energy, which meter pattern), and the OCPP 1.6 / 2.0.1
 * messages a station sends for each planned session, with the station's own timestamps. Every
 * session knows its start and stop register, so a test can compare what was billed with what the
 * meter said. No test-framework imports: the plan is plain data.
 */

/** mulberry32: small, seedable, the same sequence on every machine. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

export type OcppVersion = '1.6' | '2.0.1';

export interface PlannedEvse {
  readonly stationId: string;
  readonly version: OcppVersion;
  /** 1.6: the connector id; 2.0.1: the EVSE id (connector 1). */
  readonly evseId: number;
  /** False: no tariff is attached to this EVSE (the session is free). */
  readonly priced: boolean;
  /** Unit of the 2.0.1 energy register (1.6 always sends Wh). */
  readonly unit: 'Wh' | 'kWh';
  /** Sessions drawn for it; the rest of the day it is idle. */
  readonly sessions: number;
}

export interface PlannedToken {
  readonly uid: string;
  /** `own`: added by our operator; `ocpi`: pushed by the eMSP over OCPI tokens. */
  readonly kind: 'own' | 'ocpi';
}

/**
 * The meter patterns stations really send:
 * - `periodic`: Sample.Periodic readings while charging, then the stop register;
 * - `begin-at-stop` (1.6): StopTransaction.transactionData holds the Transaction.Begin register
 *   stamped at the stop time, beside Transaction.End;
 * - `sub-wh` (1.6): the last sampled reading carries decimals just above the integer meterStop
 *   (…33.39 Wh against meterStop …33).
 */
export type MeterPattern = 'periodic' | 'begin-at-stop' | 'sub-wh';

export interface PlannedSession {
  readonly index: number;
  readonly evse: PlannedEvse;
  readonly token: PlannedToken;
  readonly pattern: MeterPattern;
  readonly startMs: number;
  /** End of charging: after it the car is parked (no energy) until stopMs. */
  readonly chargeEndMs: number;
  readonly stopMs: number;
  /** Integer Wh, like every 1.6 meterStart/meterStop. */
  readonly startWh: number;
  readonly stopWh: number;
  /** Sample.Periodic registers while charging (Wh, as decimal strings: `sub-wh` has decimals). */
  readonly readings: readonly { readonly atMs: number; readonly wh: string }[];
  /** 2.0.1: the station's transaction id. */
  readonly stationTransactionId: string;
}

export interface DayPlan {
  readonly seed: number;
  readonly sessions: readonly PlannedSession[];
}

const minuteMs = 60_000;
const dayMs = 24 * 60 * minuteMs;
/** Sample.Periodic every half hour: enough readings per session, few messages per simulated day. */
const readingIntervalMs = 30 * minuteMs;
const patterns16: readonly MeterPattern[] = ['begin-at-stop', 'sub-wh', 'periodic'];
/** Bounds the plan whatever the EVSE list says. */
export const plannedSessionsMax = 200;

/**
 * Sessions for each EVSE one after another through the UTC day `dayStartIso`, never overlapping on
 * one EVSE. Coverage does not depend on the seed: 1.6 sessions cycle through the three patterns,
 * every other session parks after charging, every third uses an OCPI token.
 */
export function planDay(seed: number, dayStartIso: string, evses: readonly PlannedEvse[], tokens: readonly PlannedToken[]): DayPlan {
  const random = seededRandom(seed);
  const between = (low: number, high: number) => low + Math.floor(random() * (high - low + 1));
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
  const own = tokens.filter((t) => t.kind === 'own');
  const ocpi = tokens.filter((t) => t.kind === 'ocpi');
  const dayStartMs = Date.parse(dayStartIso);
  const sessions: PlannedSession[] = [];
  let sessions16 = 0;
  for (const evse of evses) {
    let atMs = dayStartMs + between(0, 90) * minuteMs + between(0, 59) * 1000;
    let registerWh = between(0, 500_000);
    for (let n = 0; n < evse.sessions && sessions.length < plannedSessionsMax; n++) {
      const index = sessions.length;
      const chargeMinutes = between(12, 150);
      const parks = index % 2 === 0 || random() < 0.3;
      const parkMinutes = parks ? between(5, 60) : 0;
      const startMs = atMs;
      const chargeEndMs = startMs + chargeMinutes * minuteMs;
      const stopMs = chargeEndMs + parkMinutes * minuteMs + between(0, 59) * 1000;
      if (stopMs >= dayStartMs + dayMs) break;
      const powerW = between(3_700, 22_000);
      const energyWh = Math.round((chargeMinutes / 60) * powerW);
      const startWh = registerWh;
      const stopWh = startWh + energyWh;
      const pattern = evse.version === '1.6' ? patterns16[sessions16++ % patterns16.length]! : 'periodic';
      const readings: { atMs: number; wh: string }[] = [];
      for (let t = startMs + readingIntervalMs; t < chargeEndMs; t += readingIntervalMs) {
        readings.push({ atMs: t, wh: String(startWh + Math.floor((energyWh * (t - startMs)) / (chargeEndMs - startMs))) });
      }
      // The meter's last sample carries sub-Wh decimals that the integer meterStop rounds away.
      if (pattern === 'sub-wh') readings.push({ atMs: stopMs - 30_000, wh: `${stopWh}.39` });
      const token = index % 3 === 0 && ocpi.length > 0 ? pick(ocpi) : pick(own.length > 0 ? own : tokens);
      sessions.push({ index, evse, token, pattern, startMs, chargeEndMs, stopMs, startWh, stopWh, readings, stationTransactionId: `${evse.stationId}-TX${index}` });
      registerWh = stopWh;
      atMs = stopMs + between(5, 120) * minuteMs;
    }
  }
  return { seed, sessions };
}

const iso = (ms: number) => new Date(ms).toISOString();
const register = 'Energy.Active.Import.Register';

/** What a session is called in assertion messages. */
export function describeSession(session: PlannedSession): string {
  const { evse } = session;
  return `session ${session.index} (${evse.version} ${evse.stationId}/${evse.evseId}, ${session.pattern}, token ${session.token.uid}, ${iso(session.startMs)}, ${session.startWh}→${session.stopWh} Wh)`;
}

/** The aggregate id of the session's transaction, as the CDR's transaction_id names it. */
export type TransactionIdOf = (session: PlannedSession) => string;

/**
 * Sends one planned 1.6 session: StartTransaction, Charging, MeterValues, SuspendedEV when it
 * parks, StopTransaction (with transactionData for `begin-at-stop`), Available. Returns the
 * transaction id the CSMS gave it.
 */
export async function runSession16(station: StationSimulator, session: PlannedSession): Promise<string> {
  const connectorId = session.evse.evseId;
  const status = (value: string, atMs: number) => station.call('StatusNotification', { connectorId, errorCode: 'NoError', status: value, timestamp: iso(atMs) });
  const energy = (wh: string | number, context: string, atMs: number) => ({ timestamp: iso(atMs), sampledValue: [{ value: String(wh), context, measurand: register, unit: 'Wh' }] });
  const started = (await station.call('StartTransaction', { connectorId, idTag: session.token.uid, meterStart: session.startWh, timestamp: iso(session.startMs) })) as { transactionId: number };
  const transactionId = started.transactionId;
  await status('Charging', session.startMs);
  for (const reading of session.readings) {
    await station.call('MeterValues', { connectorId, transactionId, meterValue: [energy(reading.wh, 'Sample.Periodic', reading.atMs)] });
  }
  if (session.chargeEndMs < session.stopMs - 60_000) await status('SuspendedEV', session.chargeEndMs);
  const transactionData =
    session.pattern === 'begin-at-stop'
      ? // Real stations stamp the Begin register with the stop time; it must not count twice.
        { transactionData: [energy(session.startWh, 'Transaction.Begin', session.stopMs), energy(session.stopWh, 'Transaction.End', session.stopMs)] }
      : {};
  await station.call('StopTransaction', { transactionId, idTag: session.token.uid, meterStop: session.stopWh, timestamp: iso(session.stopMs), reason: 'EVDisconnected', ...transactionData });
  await status('Available', session.stopMs + 30_000);
  return String(transactionId);
}

/**
 * Sends one planned 2.0.1 session: TransactionEvent Started (Transaction.Begin register), Updated
 * per periodic reading, Updated SuspendedEV when it parks, Ended (Transaction.End register).
 */
export async function runSession201(station: StationSimulator, session: PlannedSession): Promise<string> {
  const { evse } = session;
  const value = (wh: number | string) => (evse.unit === 'kWh' ? new Decimal(wh).div(1000).toNumber() : new Decimal(wh).toNumber());
  const energy = (wh: number | string, context: string, atMs: number) => ({
    timestamp: iso(atMs),
    sampledValue: [{ value: value(wh), context, measurand: register, unitOfMeasure: { unit: evse.unit } }],
  });
  let seqNo = 0;
  const event = (eventType: string, atMs: number, triggerReason: string, extra: Record<string, unknown>) =>
    station.call('TransactionEvent', {
      eventType,
      timestamp: iso(atMs),
      triggerReason,
      seqNo: seqNo++,
      ...extra,
      transactionInfo: { transactionId: session.stationTransactionId, ...((extra.transactionInfo as object | undefined) ?? {}) },
    });
  const idToken = { idToken: session.token.uid, type: 'ISO14443' };
  await event('Started', session.startMs, 'Authorized', {
    idToken,
    evse: { id: evse.evseId, connectorId: 1 },
    transactionInfo: { chargingState: 'Charging' },
    meterValue: [energy(session.startWh, 'Transaction.Begin', session.startMs)],
  });
  for (const reading of session.readings) await event('Updated', reading.atMs, 'MeterValuePeriodic', { meterValue: [energy(reading.wh, 'Sample.Periodic', reading.atMs)] });
  if (session.chargeEndMs < session.stopMs - 60_000) {
    await event('Updated', session.chargeEndMs, 'ChargingStateChanged', { transactionInfo: { chargingState: 'SuspendedEV' }, meterValue: [energy(session.stopWh, 'Sample.Periodic', session.chargeEndMs)] });
  }
  await event('Ended', session.stopMs, 'EVCommunicationLost', {
    transactionInfo: { stoppedReason: 'EVDisconnected' },
    meterValue: [energy(session.stopWh, 'Transaction.End', session.stopMs)],
  });
  return transactionAggregateId201(evse.stationId, session.stationTransactionId);
}
