import { Decimal } from 'decimal.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { given } from '../../test/support/given-when-then.js';
import { fold } from '../shared/decider.js';
import { eventFrom } from '../shared/event-definition.js';
import { IllegalStateError, InvalidCommandError } from '../shared/errors.js';
import { chargingStateChangesPerTransactionMax } from './charging-state.js';
import type { EndTransaction, RecordChargingState, RecordMeterReading, StartTransaction } from './commands.js';
import { ChargingStateChanged, MeterReadingRecorded, TransactionEnded, TransactionStarted, type TransactionEvent } from './events.js';
import { transactionDecider } from './index.js';
import { energySoFarWh, meterStartOf } from './state.js';

const t = (minute: number) => new Date(Date.UTC(2025, 2, 1, 10, minute)).toISOString();
const startedData = {
  transactionId: 'tx-1',
  stationTransactionId: 'A',
  stationId: 'CP-1',
  evseId: 1,
  connectorId: 1,
  idToken: null,
  meterStartWh: null,
  startedAt: t(0),
  reservationId: null,
};
const startedUnknown = eventFrom(TransactionStarted, startedData);
const startedKnown = eventFrom(TransactionStarted, { ...startedData, meterStartWh: '1000' });
const start = (overrides: Partial<StartTransaction> = {}): StartTransaction => ({
  type: 'StartTransaction',
  transactionId: 'tx-1',
  stationTransactionId: 'A',
  stationId: 'CP-1',
  evseId: 1,
  connectorId: 1,
  startedAt: t(0),
  ...overrides,
});
const reading = (minute: number, wh: number, extra: Partial<RecordMeterReading> = {}): RecordMeterReading => ({
  type: 'RecordMeterReading',
  stationId: 'CP-1',
  sampledAt: t(minute),
  registerWh: new Decimal(wh),
  ...extra,
});
const recorded = (minute: number, wh: string, flags: { late?: boolean; suspicious?: boolean } = {}, extra = {}) =>
  eventFrom(MeterReadingRecorded, { sampledAt: t(minute), registerWh: wh, sampledValues: [], signedData: null, suspicious: flags.suspicious ?? false, late: flags.late ?? false, ...extra });
const end = (overrides: Partial<EndTransaction> = {}): EndTransaction => ({ type: 'EndTransaction', stationId: 'CP-1', endedAt: t(60), reason: 'Local', ...overrides });
const ended = (overrides: Partial<Parameters<typeof eventFrom<'TransactionEnded', typeof TransactionEnded.schema>>[1]> = {}) =>
  eventFrom(TransactionEnded, { meterStopWh: '5000', meterStopSource: 'station', endedAt: t(60), reason: 'Local', stoppedBy: null, suspicious: false, ...overrides });
const chargingState = (state: RecordChargingState['state'], minute: number, extra: Partial<RecordChargingState> = {}): RecordChargingState => ({
  type: 'RecordChargingState',
  stationId: 'CP-1',
  state,
  changedAt: t(minute),
  ...extra,
});
const stateChanged = (state: RecordChargingState['state'], minute: number, late = false, extra = {}) =>
  eventFrom(ChargingStateChanged, { state, changedAt: t(minute), late, ...extra });

describe('transaction: start without a meter start', () => {
  it('starts with the meter start unknown (2.0.1 Started without an energy register)', () => {
    given(transactionDecider, []).when(start()).then([startedUnknown]);
    given(transactionDecider, []).when(start({ meterStartWh: null })).then([startedUnknown]);
  });
  it('energy so far is 0 until a register is known, never the register counted from 0 Wh', () => {
    expect(energySoFarWh(given(transactionDecider, [startedUnknown]).state).toFixed()).toBe('0');
    const one = given(transactionDecider, [startedUnknown, recorded(5, '123456000')]).state;
    expect(energySoFarWh(one).toFixed()).toBe('0');
  });
  it('the earliest register reading by station time stands for the meter start', () => {
    const state = given(transactionDecider, [startedUnknown, recorded(10, '3000'), recorded(5, '2000', { late: true }), recorded(20, '4500')]).state;
    expect(state.status === 'active' && meterStartOf(state)?.toFixed()).toBe('2000');
    expect(energySoFarWh(state).toFixed()).toBe('2500');
  });
  it('a first reading is not suspicious against an unknown start', () => {
    given(transactionDecider, [startedUnknown]).when(reading(1, 5)).then([recorded(1, '5')]);
  });
  it('ends from the earliest reading to meter stop; a stop below it is suspicious', () => {
    const history = [startedUnknown, recorded(10, '3000')];
    const state = fold(transactionDecider, [...history, ...transactionDecider.decide(end({ meterStopWh: new Decimal(5000) }), fold(transactionDecider, history))]);
    expect(energySoFarWh(state).toFixed()).toBe('2000');
    given(transactionDecider, history).when(end({ meterStopWh: new Decimal(2000) })).then([ended({ meterStopWh: '2000', suspicious: true })]);
  });
  it('with no register at all the end is recorded, flagged, and its energy is 0', () => {
    given(transactionDecider, [startedUnknown]).when(end()).then([ended({ meterStopWh: '0', meterStopSource: 'lastReading', suspicious: true })]);
    const state = given(transactionDecider, [startedUnknown, ended({ meterStopWh: '0', meterStopSource: 'lastReading', suspicious: true })]).state;
    expect(energySoFarWh(state).toFixed()).toBe('0');
  });
  it('a stop without readings and without a start counts nothing rather than the whole register', () => {
    const state = given(transactionDecider, [startedUnknown, ended({ meterStopWh: '98765000' })]).state;
    expect(energySoFarWh(state).toFixed()).toBe('0');
  });
  it('the earliest reading wins whatever the arrival order', () => {
    fc.assert(
      fc.property(fc.shuffledSubarray([1, 2, 3, 4, 5, 6], { minLength: 6 }), (minutes) => {
        let history: TransactionEvent[] = [startedUnknown];
        for (const minute of minutes) history = [...history, ...transactionDecider.decide(reading(minute, 1000 + minute * 100), fold(transactionDecider, history))];
        expect(energySoFarWh(fold(transactionDecider, history)).toFixed()).toBe('500');
      }),
    );
  });
});

describe('transaction: the station that names it', () => {
  it("refuses another station's reading, end or charging state", () => {
    given(transactionDecider, [startedKnown]).when(reading(1, 1100, { stationId: 'CP-2' })).thenThrows(IllegalStateError, /another station/);
    given(transactionDecider, [startedKnown]).when(end({ stationId: 'CP-2' })).thenThrows(IllegalStateError, /another station/);
    given(transactionDecider, [startedKnown]).when(chargingState('Charging', 1, { stationId: 'CP-2' })).thenThrows(IllegalStateError, /another station/);
  });
  it('accepts its own station, and a command that names none (operator tools)', () => {
    given(transactionDecider, [startedKnown]).when(reading(1, 1100)).then([recorded(1, '1100')]);
    given(transactionDecider, [startedKnown]).when(reading(1, 1100, { stationId: null })).then([recorded(1, '1100')]);
  });
});

describe('transaction: message context', () => {
  it('keeps triggerReason, seqNo and offline on the events they came with', () => {
    const context = { triggerReason: 'MeterValuePeriodic', seqNo: 3, offline: true };
    given(transactionDecider, [startedKnown]).when(reading(1, 1100, context)).then([recorded(1, '1100', {}, context)]);
    given(transactionDecider, [])
      .when(start({ meterStartWh: new Decimal(1000), triggerReason: 'Authorized', seqNo: 0 }))
      .then([eventFrom(TransactionStarted, { ...startedKnown.data, triggerReason: 'Authorized', seqNo: 0 })]);
    given(transactionDecider, [startedKnown])
      .when(end({ meterStopWh: new Decimal(5000), triggerReason: 'EVCommunicationLost', seqNo: 9 }))
      .then([ended({ triggerReason: 'EVCommunicationLost', seqNo: 9 })]);
  });
  it('a resent reading with another context is the same reading', () => {
    given(transactionDecider, [startedKnown, recorded(1, '1100', {}, { seqNo: 1 })]).when(reading(1, 1100, { seqNo: 2 })).then([]);
  });
  it('refuses a negative seqNo', () => {
    given(transactionDecider, [startedKnown]).when(reading(1, 1100, { seqNo: -1 })).thenThrows(InvalidCommandError, /context/);
  });
});

describe('transaction: charging state', () => {
  it('records a change, with its context', () => {
    given(transactionDecider, [startedKnown])
      .when(chargingState('Charging', 1, { triggerReason: 'ChargingStateChanged', seqNo: 1 }))
      .then([stateChanged('Charging', 1, false, { triggerReason: 'ChargingStateChanged', seqNo: 1 })]);
  });
  it('refuses a change before the start of the transaction stream, an unknown state, or after the end', () => {
    given(transactionDecider, []).when(chargingState('Charging', 1)).thenThrows(IllegalStateError, /not started/);
    given(transactionDecider, [startedKnown]).when(chargingState('Flying' as never, 1)).thenThrows(InvalidCommandError, /charging state/);
    given(transactionDecider, [startedKnown, ended()]).when(chargingState('Idle', 61)).thenThrows(IllegalStateError, /after the transaction ended/);
  });
  it('the same state again later is not a change; the same change again is a no-op', () => {
    given(transactionDecider, [startedKnown, stateChanged('Charging', 1)]).when(chargingState('Charging', 5)).then([]);
    given(transactionDecider, [startedKnown, stateChanged('Charging', 1), stateChanged('SuspendedEV', 5)]).when(chargingState('Charging', 1)).then([]);
  });
  it('an earlier change arriving late, or one before the end arriving after it, is recorded late', () => {
    given(transactionDecider, [startedKnown, stateChanged('SuspendedEV', 30)]).when(chargingState('Charging', 10)).then([stateChanged('Charging', 10, true)]);
    given(transactionDecider, [startedKnown, stateChanged('Charging', 10), ended()]).when(chargingState('EVConnected', 55)).then([stateChanged('EVConnected', 55, true)]);
  });
  it('is bounded per transaction', () => {
    const states = ['Charging', 'SuspendedEV'] as const;
    let state = fold(transactionDecider, [startedKnown]);
    for (let i = 0; i < chargingStateChangesPerTransactionMax; i += 1) {
      state = transactionDecider.evolve(state, eventFrom(ChargingStateChanged, { state: states[i % 2]!, changedAt: new Date(Date.UTC(2025, 2, 1, 10) + i * 1000).toISOString(), late: false }));
    }
    expect(() => transactionDecider.decide(chargingState('Idle', 59 * 24), state)).toThrow(/charging-state changes/);
  });
});
