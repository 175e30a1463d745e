import { Decimal } from 'decimal.js';
import { describe, expect, it } from 'vitest';
import { given } from '../../test/support/given-when-then.js';
import { eventFrom } from '../shared/event-definition.js';
import { IllegalStateError, InvalidCommandError } from '../shared/errors.js';
import type { SetChargingPreferences } from './commands.js';
import { ChargingPreferencesSet, TransactionEnded, TransactionStarted } from './events.js';
import { transactionDecider } from './index.js';

const t = (minute: number) => new Date(Date.UTC(2025, 2, 1, 10, minute)).toISOString();
const started = eventFrom(TransactionStarted, {
  transactionId: 'tx-1',
  stationTransactionId: 'A',
  stationId: 'CP-1',
  evseId: 1,
  connectorId: 1,
  idToken: { idToken: 'CARD-1', type: 'ISO14443' },
  meterStartWh: '1000',
  startedAt: t(0),
  reservationId: null,
});
const ended = eventFrom(TransactionEnded, {
  meterStopWh: '5000',
  meterStopSource: 'station',
  endedAt: t(30),
  reason: 'Local',
  stoppedBy: null,
  suspicious: false,
});
const setPreferences = (overrides: Partial<SetChargingPreferences> = {}): SetChargingPreferences => ({
  type: 'SetChargingPreferences',
  profileType: 'FAST',
  departureTime: '2025-03-01T13:00:00+01:00',
  energyNeedKwh: new Decimal('12.35'),
  dischargeAllowed: false,
  setAt: t(5),
  ...overrides,
});
const preferencesSet = (overrides: Partial<ReturnType<typeof ChargingPreferencesSet.schema.parse>> = {}) =>
  eventFrom(ChargingPreferencesSet, {
    profileType: 'FAST',
    departureTime: '2025-03-01T12:00:00.000Z',
    energyNeedKwh: '12.35',
    dischargeAllowed: false,
    setAt: t(5),
    ...overrides,
  });

describe('charging preferences', () => {
  it('a running session records them, times in UTC and energy as an exact decimal', () => {
    given(transactionDecider, [started]).when(setPreferences()).then([preferencesSet()]);
  });

  it('absent optional fields are recorded as null', () => {
    given(transactionDecider, [started])
      .when({ type: 'SetChargingPreferences', profileType: 'CHEAP', setAt: t(6) })
      .then([preferencesSet({ profileType: 'CHEAP', departureTime: null, energyNeedKwh: null, dischargeAllowed: null, setAt: t(6) })]);
  });

  it('the same preferences again, at a later time, are not a new fact; other ones are', () => {
    given(transactionDecider, [started, preferencesSet()]).when(setPreferences({ setAt: t(9) })).then([]);
    given(transactionDecider, [started, preferencesSet()])
      .when(setPreferences({ profileType: 'GREEN', setAt: t(9) }))
      .then([preferencesSet({ profileType: 'GREEN', setAt: t(9) })]);
  });

  it('the state keeps the latest preferences', () => {
    given(transactionDecider, [started]).when(setPreferences()).thenState((state) => {
      expect(state.status === 'active' && state.chargingPreferences?.energyNeedKwh).toBe('12.35');
    });
  });

  it('is refused before the start and after the end', () => {
    given(transactionDecider, []).when(setPreferences()).thenThrows(IllegalStateError, /has not started/);
    given(transactionDecider, [started, ended]).when(setPreferences()).thenThrows(IllegalStateError, /has ended/);
  });

  it('refuses a negative energy need, an unknown profile and a time without zone', () => {
    given(transactionDecider, [started]).when(setPreferences({ energyNeedKwh: new Decimal(-1) })).thenThrows(InvalidCommandError, /energyNeedKwh/);
    given(transactionDecider, [started])
      .when(setPreferences({ profileType: 'SLOW' as never }))
      .thenThrows(InvalidCommandError, /profile type/);
    given(transactionDecider, [started]).when(setPreferences({ departureTime: '2025-03-01T13:00:00' })).thenThrows(InvalidCommandError, /departureTime/);
  });
});
