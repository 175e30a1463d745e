import { Decimal } from 'decimal.js';
import { assertNever } from '../shared/assert.js';
import { timeMs } from '../shared/values.js';
import type { ChargingState, StopReason, TransactionEvent, TransactionEventData } from './events.js';
import { endedEnergyWh, highestRegisterAfter, isStartOrStopCopy, runningEnergyWh } from './meter-energy.js';

/** A register reading as the state keeps it, to flag late and suspicious readings. */
export interface RegisterReading {
  readonly sampledAtMs: number;
  readonly registerWh: Decimal;
}

/**
 * Recorded readings, newest arrival first, as a persistent list: evolve adds one in O(1) without
 * copying (a 10,000-reading session would otherwise cost 50 million copies to fold), and states
 * folded earlier stay unchanged.
 */
export interface ReadingList {
  readonly fingerprint: string;
  readonly register: RegisterReading | null;
  readonly previous: ReadingList | null;
}

export function* readingsOf(list: ReadingList | null): Generator<ReadingList> {
  for (let node = list; node !== null; node = node.previous) yield node;
}

/** Recorded charging-state changes, newest arrival first (persistent, like ReadingList). */
export interface ChargingStateList {
  readonly state: ChargingState;
  readonly changedAtMs: number;
  readonly previous: ChargingStateList | null;
}

export interface Started {
  readonly data: TransactionEventData<'TransactionStarted'>;
  /** As the station sent it; null when it sent none (then `meterStartOf` uses the earliest register). */
  readonly meterStartWh: Decimal | null;
  readonly startedAtMs: number;
  readonly readings: ReadingList | null;
  /** The register reading with the lowest sampledAt (ties: the lower register), whatever the arrival order. */
  readonly earliestRegister: RegisterReading | null;
  /** The highest register of the readings that may count while running (meter-energy.ts `highestRegisterAfter`). */
  readonly highestRegisterWh: Decimal | null;
  readonly chargingStates: ChargingStateList | null;
  /** The change with the highest changedAt (ties: the later arrival). */
  readonly latestChargingState: { readonly state: ChargingState; readonly changedAtMs: number } | null;
  readonly chargingStateCount: number;
  /** The driver's latest charging preferences (OCPI), null until their eMSP sends some. */
  readonly chargingPreferences: TransactionEventData<'ChargingPreferencesSet'> | null;
  /** Highest sampledAt of any reading, register or not. */
  readonly latestSampledAtMs: number | null;
  readonly readingCount: number;
}

export type TransactionState =
  | { readonly status: 'none'; readonly authorizations: number }
  | ({ readonly status: 'active' } & Started)
  | ({ readonly status: 'ended'; readonly ended: TransactionEventData<'TransactionEnded'>; readonly meterStopWh: Decimal; readonly endedAtMs: number; readonly reason: StopReason } & Started);

export const initialTransactionState = (): TransactionState => ({ status: 'none', authorizations: 0 });

/** Identity of a reading's facts, leaving out the flags decide adds. */
export function readingFingerprint(reading: Pick<TransactionEventData<'MeterReadingRecorded'>, 'sampledAt' | 'registerWh' | 'sampledValues' | 'signedData'>): string {
  return JSON.stringify([reading.sampledAt, reading.registerWh, reading.sampledValues, reading.signedData]);
}

export function* chargingStatesOf(list: ChargingStateList | null): Generator<ChargingStateList> {
  for (let node = list; node !== null; node = node.previous) yield node;
}

/**
 * The register the session's energy counts from: the station's meter start, or, when it sent none,
 * the earliest register reading by station time (so arrival order does not matter). null while no
 * register is known: energy is then unknown, never "from 0 Wh".
 */
export function meterStartOf(started: Started): Decimal | null {
  return started.meterStartWh ?? started.earliestRegister?.registerWh ?? null;
}

/**
 * Energy so far, Wh, by the one rule for which readings count (meter-energy.ts): while running, the
 * highest register the counting readings reached − start (a Transaction.Begin/End copy, a reading
 * below the start or before the start time never moves it; it never goes down as readings arrive);
 * once ended, stop − start, as the CDR's total_energy. Never negative; 0 while no start register is
 * known (see `meterStartOf`).
 */
export function energySoFarWh(state: TransactionState): Decimal {
  switch (state.status) {
    case 'none':
      return new Decimal(0);
    case 'active':
      return runningEnergyWh(meterStartOf(state), state.highestRegisterWh);
    case 'ended':
      return endedEnergyWh(meterStartOf(state), state.meterStopWh);
    default:
      return assertNever(state, 'transaction state');
  }
}

function withReading(started: Started, reading: TransactionEventData<'MeterReadingRecorded'>): Started {
  const sampledAtMs = timeMs(reading.sampledAt);
  const register = reading.registerWh === null ? null : { sampledAtMs, registerWh: new Decimal(reading.registerWh) };
  const earliest = started.earliestRegister;
  const earlier =
    register !== null &&
    (!earliest || sampledAtMs < earliest.sampledAtMs || (sampledAtMs === earliest.sampledAtMs && register.registerWh.lt(earliest.registerWh)));
  return {
    ...started,
    readings: { fingerprint: readingFingerprint(reading), register, previous: started.readings },
    earliestRegister: earlier ? register : earliest,
    highestRegisterWh:
      register === null
        ? started.highestRegisterWh
        : highestRegisterAfter(started.highestRegisterWh, { atMs: sampledAtMs, wh: register.registerWh, startOrStopCopy: isStartOrStopCopy(reading.sampledValues) }, started.startedAtMs),
    latestSampledAtMs: Math.max(started.latestSampledAtMs ?? sampledAtMs, sampledAtMs),
    readingCount: started.readingCount + 1,
  };
}

export function evolveTransaction(state: TransactionState, event: TransactionEvent): TransactionState {
  switch (event.type) {
    case 'TransactionAuthorized':
      return state.status === 'none' ? { ...state, authorizations: state.authorizations + 1 } : state;
    case 'TransactionStarted':
      return {
        status: 'active',
        data: event.data,
        meterStartWh: event.data.meterStartWh === null ? null : new Decimal(event.data.meterStartWh),
        startedAtMs: timeMs(event.data.startedAt),
        readings: null,
        earliestRegister: null,
        highestRegisterWh: null,
        latestSampledAtMs: null,
        readingCount: 0,
        chargingStates: null,
        latestChargingState: null,
        chargingStateCount: 0,
        chargingPreferences: null,
      };
    case 'MeterReadingRecorded':
      if (state.status === 'none') return state; // decide never allows it; tolerate on replay
      return { ...state, ...withReading(state, event.data) };
    case 'TransactionEnded':
      if (state.status === 'none') return state;
      return {
        ...state,
        status: 'ended',
        ended: event.data,
        meterStopWh: new Decimal(event.data.meterStopWh),
        endedAtMs: timeMs(event.data.endedAt),
        reason: event.data.reason,
      };
    case 'ChargingStateChanged': {
      if (state.status === 'none') return state; // decide never allows it; tolerate on replay
      const changedAtMs = timeMs(event.data.changedAt);
      const latest = state.latestChargingState;
      return {
        ...state,
        chargingStates: { state: event.data.state, changedAtMs, previous: state.chargingStates },
        latestChargingState: !latest || changedAtMs >= latest.changedAtMs ? { state: event.data.state, changedAtMs } : latest,
        chargingStateCount: state.chargingStateCount + 1,
      };
    }
    case 'ChargingPreferencesSet':
      if (state.status === 'none') return state; // decide never allows it; tolerate on replay
      return { ...state, chargingPreferences: event.data };
    default:
      return assertNever(event, 'transaction event');
  }
}
