import { Decimal } from 'decimal.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { given } from '../../test/support/given-when-then.js';
import { fold } from '../shared/decider.js';
import { eventFrom } from '../shared/event-definition.js';
import { IllegalStateError, InvalidCommandError } from '../shared/errors.js';
import type { EndTransaction, RecordMeterReading, StartTransaction } from './commands.js';
import { MeterReadingRecorded, TransactionAuthorized, TransactionEnded, TransactionStarted, type TransactionEvent } from './events.js';
import { transactionDecider } from './index.js';
import { energySoFarWh } from './state.js';

const t = (minute: number) => new Date(Date.UTC(2025, 2, 1, 10, minute)).toISOString();
const token = { idToken: 'AABBCC', type: 'ISO14443' };

const start = (overrides: Partial<StartTransaction> = {}): StartTransaction => ({
  type: 'StartTransaction',
  transactionId: 'tx-1',
  stationTransactionId: '17',
  stationId: 'CP-1',
  evseId: 1,
  connectorId: 1,
  idToken: token,
  meterStartWh: new Decimal(1000),
  startedAt: t(0),
  ...overrides,
});
const started = eventFrom(TransactionStarted, {
  transactionId: 'tx-1',
  stationTransactionId: '17',
  stationId: 'CP-1',
  evseId: 1,
  connectorId: 1,
  idToken: token,
  meterStartWh: '1000',
  startedAt: t(0),
  reservationId: null,
});
const reading = (minute: number, wh: number | null, extra: Partial<RecordMeterReading> = {}): RecordMeterReading => ({
  type: 'RecordMeterReading',
  sampledAt: t(minute),
  registerWh: wh === null ? null : new Decimal(wh),
  ...extra,
});
const recorded = (minute: number, wh: string | null, flags: { suspicious?: boolean; late?: boolean } = {}, extra = {}) =>
  eventFrom(MeterReadingRecorded, {
    sampledAt: t(minute),
    registerWh: wh,
    sampledValues: [],
    signedData: null,
    suspicious: flags.suspicious ?? false,
    late: flags.late ?? false,
    ...extra,
  });
const end = (overrides: Partial<EndTransaction> = {}): EndTransaction => ({
  type: 'EndTransaction',
  meterStopWh: new Decimal(5000),
  endedAt: t(60),
  reason: 'Local',
  ...overrides,
});
const ended = (overrides: Partial<Parameters<typeof eventFrom<'TransactionEnded', typeof TransactionEnded.schema>>[1]> = {}) =>
  eventFrom(TransactionEnded, { meterStopWh: '5000', meterStopSource: 'station', endedAt: t(60), reason: 'Local', stoppedBy: null, suspicious: false, ...overrides });

describe('transaction: authorize', () => {
  const authorize = { type: 'AuthorizeTransaction', stationId: 'CP-1', idToken: token, result: 'Accepted', basis: 'token', authorizedAt: t(0) } as const;
  const authorized = eventFrom(TransactionAuthorized, { stationId: 'CP-1', evseId: null, idToken: token, result: 'Accepted', authorizedAt: t(0), basis: 'token' });
  it('records the authorization and its result, before or during the transaction', () => {
    given(transactionDecider, []).when(authorize).then([authorized]);
    given(transactionDecider, [started]).when(authorize).then([authorized]);
  });
  it('refuses authorizing an ended transaction', () => {
    given(transactionDecider, [started, ended()]).when(authorize).thenThrows(IllegalStateError, /ended/);
  });
  it('records what decided it, so an unknown token accepted by policy is told apart from a known one', () => {
    given(transactionDecider, [])
      .when({ ...authorize, basis: 'unknownTokenPolicy' })
      .then([eventFrom(TransactionAuthorized, { ...authorized.data, basis: 'unknownTokenPolicy' })]);
    given(transactionDecider, [])
      .when({ ...authorize, basis: 'offlineWhitelist' })
      .then([eventFrom(TransactionAuthorized, { ...authorized.data, basis: 'offlineWhitelist' })]);
    given(transactionDecider, []).when({ ...authorize, basis: 'hunch' as never }).thenThrows(InvalidCommandError, /basis/);
  });
  it('refuses an unknown result or an empty token', () => {
    given(transactionDecider, []).when({ ...authorize, result: 'Maybe' as never }).thenThrows(InvalidCommandError, /result/);
    given(transactionDecider, []).when({ ...authorize, idToken: { idToken: '', type: 'ISO14443' } }).thenThrows(InvalidCommandError, /idToken/);
  });
});

describe('transaction: start', () => {
  it('starts with meter start, station time and both ids', () => {
    given(transactionDecider, []).when(start()).then([started]);
  });
  it('the same start again is a no-op; a different one is refused', () => {
    given(transactionDecider, [started]).when(start()).then([]);
    given(transactionDecider, [started]).when(start({ meterStartWh: new Decimal(1001) })).thenThrows(IllegalStateError, /already started/);
  });
  it('refuses a negative or non-finite meter start', () => {
    given(transactionDecider, []).when(start({ meterStartWh: new Decimal(-1) })).thenThrows(InvalidCommandError, /meterStartWh/);
    given(transactionDecider, []).when(start({ meterStartWh: new Decimal(NaN) })).thenThrows(InvalidCommandError, /meterStartWh/);
  });
  it('keeps decimals exact as strings', () => {
    given(transactionDecider, []).when(start({ meterStartWh: new Decimal('1000.1') })).thenState((state) => {
      expect(state.status === 'active' && state.data.meterStartWh).toBe('1000.1');
    });
  });
});

describe('transaction: meter readings', () => {
  it('refuses a reading before the transaction started', () => {
    given(transactionDecider, []).when(reading(1, 1100)).thenThrows(IllegalStateError, /not started/);
  });
  it('records a register reading', () => {
    given(transactionDecider, [started]).when(reading(1, 1100)).then([recorded(1, '1100')]);
  });
  it('keeps other sampled values as given and signed data verbatim', () => {
    const sampledValues = [{ value: '7.4', measurand: 'Power.Active.Import', phase: null, unit: 'kW', multiplier: null, context: 'Sample.Periodic', location: 'Outlet' }];
    const signedData = { signedMeterData: 'AP///8=', signingMethod: 'ECDSA-secp256r1-SHA256', encodingMethod: 'OCMF', publicKey: '' };
    given(transactionDecider, [started])
      .when(reading(1, 1100, { sampledValues, signedData }))
      .then([recorded(1, '1100', {}, { sampledValues, signedData })]);
    given(transactionDecider, [started]).when(reading(1, 1100, { signedData: 'OCMF|{"FV":"1.0"}|{"SA":"ECDSA"}' })).then([
      recorded(1, '1100', {}, { signedData: 'OCMF|{"FV":"1.0"}|{"SA":"ECDSA"}' }),
    ]);
  });
  it('records a reading without a register if it has other values; refuses an empty one', () => {
    const sampledValues = [{ value: '16', measurand: 'Current.Import', phase: 'L1', unit: 'A', multiplier: null, context: null, location: null }];
    given(transactionDecider, [started]).when(reading(1, null, { sampledValues })).then([recorded(1, null, {}, { sampledValues })]);
    given(transactionDecider, [started]).when(reading(1, null)).thenThrows(InvalidCommandError, /register or sampled values/);
  });
  it('a register that goes down is kept and flagged suspicious', () => {
    given(transactionDecider, [started, recorded(1, '1500')]).when(reading(2, 1400)).then([recorded(2, '1400', { suspicious: true })]);
    given(transactionDecider, [started]).when(reading(1, 900)).then([recorded(1, '900', { suspicious: true })]);
  });
  it('a reading sampled before the latest one is recorded late', () => {
    given(transactionDecider, [started, recorded(5, '1500')]).when(reading(3, 1300)).then([recorded(3, '1300', { late: true })]);
  });
  it('a late reading above a later register is suspicious', () => {
    given(transactionDecider, [started, recorded(5, '1500')]).when(reading(3, 1600)).then([recorded(3, '1600', { late: true, suspicious: true })]);
  });
  it('energy so far uses the reading with the highest station time, not the last to arrive', () => {
    const state = given(transactionDecider, [started, recorded(5, '1500'), recorded(3, '1300', { late: true })]).state;
    expect(energySoFarWh(state).toFixed()).toBe('500');
  });
  it('the same reading resent is a no-op', () => {
    given(transactionDecider, [started, recorded(1, '1100')]).when(reading(1, 1100)).then([]);
  });
  it('after the end: sampled up to endedAt is recorded late, later is refused', () => {
    given(transactionDecider, [started, ended()]).when(reading(59, 4900)).then([recorded(59, '4900', { late: true })]);
    given(transactionDecider, [started, ended()]).when(reading(61, 5000)).thenThrows(IllegalStateError, /after the transaction ended/);
  });
  it('refuses a reading without a zone or with too many sampled values', () => {
    given(transactionDecider, [started]).when({ ...reading(1, 1100), sampledAt: '2025-03-01T10:01:00' }).thenThrows(InvalidCommandError, /zone/);
    const many = Array.from({ length: 101 }, () => ({ value: '1', measurand: null, phase: null, unit: null, multiplier: null, context: null, location: null }));
    given(transactionDecider, [started]).when(reading(1, 1100, { sampledValues: many })).thenThrows(InvalidCommandError, /sampled values/);
  });
});

describe('transaction: end', () => {
  it('refuses ending a transaction that never started', () => {
    given(transactionDecider, []).when(end()).thenThrows(IllegalStateError, /not started/);
  });
  it('ends with meter stop, station time and reason', () => {
    given(transactionDecider, [started]).when(end({ stoppedBy: token })).then([ended({ stoppedBy: token })]);
  });
  it('records transactionData as readings before the end', () => {
    given(transactionDecider, [started])
      .when(end({ transactionData: [{ sampledAt: t(30), registerWh: new Decimal(3000) }] }))
      .then([recorded(30, '3000'), ended()]);
  });
  it('without a meter stop, uses the latest register reading up to endedAt', () => {
    given(transactionDecider, [started, recorded(30, '3000'), recorded(50, '4000'), recorded(40, '3500', { late: true })])
      .when(end({ meterStopWh: null }))
      .then([ended({ meterStopWh: '4000', meterStopSource: 'lastReading' })]);
    given(transactionDecider, [started]).when(end({ meterStopWh: null })).then([ended({ meterStopWh: '1000', meterStopSource: 'lastReading' })]);
  });
  it('a meter stop below meter start or an earlier reading, or an end before the start, is suspicious', () => {
    given(transactionDecider, [started]).when(end({ meterStopWh: new Decimal(900) })).then([ended({ meterStopWh: '900', suspicious: true })]);
    given(transactionDecider, [started, recorded(30, '6000')]).when(end()).then([ended({ suspicious: true })]);
    const early = new Date(Date.UTC(2025, 2, 1, 9, 0)).toISOString();
    given(transactionDecider, [started]).when(end({ endedAt: early })).then([ended({ endedAt: early, suspicious: true })]);
  });
  it('a 1.6 meter stop (whole Wh) below the last reading by less than 1 Wh is rounding, not suspicious; 1 Wh or more is', () => {
    const from33 = eventFrom(TransactionStarted, { ...started.data, meterStartWh: '0' });
    given(transactionDecider, [from33, recorded(30, '33.39')]).when(end({ meterStopWh: new Decimal(33) })).then([ended({ meterStopWh: '33', suspicious: false })]);
    given(transactionDecider, [from33]).when(end({ meterStopWh: new Decimal(33), transactionData: [reading(59, 33.99)] })).then([
      recorded(59, '33.99'),
      ended({ meterStopWh: '33', suspicious: false }),
    ]);
    given(transactionDecider, [from33, recorded(30, '34')]).when(end({ meterStopWh: new Decimal(33) })).then([ended({ meterStopWh: '33', suspicious: true })]);
  });
  it('ending again with the same facts is a no-op; with other facts is refused', () => {
    given(transactionDecider, [started, ended()]).when(end()).then([]);
    given(transactionDecider, [started, ended()]).when(end({ meterStopWh: new Decimal(5001) })).thenThrows(IllegalStateError, /already ended/);
    given(transactionDecider, [started, ended()]).when(end({ reason: 'Remote' })).thenThrows(IllegalStateError, /already ended/);
  });
  it('energy after the end is meter stop minus meter start', () => {
    expect(energySoFarWh(given(transactionDecider, [started, recorded(30, '3000'), ended()]).state).toFixed()).toBe('4000');
  });
  it('refuses an unknown reason', () => {
    given(transactionDecider, [started]).when(end({ reason: 'Bored' as never })).thenThrows(InvalidCommandError, /reason/);
  });
});

describe('transaction: properties', () => {
  // A meter whose register never goes down, sampled at distinct minutes, delivered in any order.
  const monotoneReadings = fc
    .uniqueArray(fc.integer({ min: 1, max: 600 }), { minLength: 1, maxLength: 40 })
    .chain((minutes) =>
      fc.tuple(fc.array(fc.integer({ min: 0, max: 5000 }), { minLength: minutes.length, maxLength: minutes.length }), fc.constant([...minutes].sort((a, b) => a - b))),
    )
    .map(([steps, minutes]) => {
      let wh = 1000;
      return minutes.map((minute, i) => ({ minute, wh: (wh += steps[i]!) }));
    });

  function deliver(order: readonly { minute: number; wh: number }[]) {
    let history: TransactionEvent[] = [started];
    const energies: Decimal[] = [];
    for (const r of order) {
      const state = fold(transactionDecider, history);
      history = [...history, ...transactionDecider.decide(reading(r.minute, r.wh), state)];
      energies.push(energySoFarWh(fold(transactionDecider, history)));
    }
    return { history, energies };
  }

  it('energy so far never decreases, whatever order late readings arrive in', () => {
    fc.assert(
      fc.property(monotoneReadings.chain((readings) => fc.shuffledSubarray(readings, { minLength: readings.length })), (order) => {
        const { energies } = deliver(order);
        energies.slice(1).forEach((energy, i) => expect(energy.gte(energies[i]!)).toBe(true));
      }),
    );
  });

  it('the final energy and the absence of suspicious flags do not depend on arrival order', () => {
    fc.assert(
      fc.property(monotoneReadings.chain((readings) => fc.tuple(fc.constant(readings), fc.shuffledSubarray(readings, { minLength: readings.length }))), ([inOrder, shuffled]) => {
        const a = deliver(inOrder);
        const b = deliver(shuffled);
        expect(a.energies.at(-1)!.toFixed()).toBe(b.energies.at(-1)!.toFixed());
        expect(b.history.some((event) => event.type === 'MeterReadingRecorded' && event.data.suspicious)).toBe(false);
        expect(a.history.some((event) => event.type === 'MeterReadingRecorded' && event.data.late)).toBe(false);
      }),
    );
  });
});
