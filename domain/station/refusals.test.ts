import { describe, it } from 'vitest';
import { given } from '../../test/support/given-when-then.js';
import { eventFrom } from '../shared/event-definition.js';
import { IllegalStateError, InvalidCommandError } from '../shared/errors.js';
import { stationDecider } from './index.js';
import { StationMessageRefused, stationRefusalsPerWindowMax, stationRefusalWindowMs, type RecordMessageRefusal } from './refusals.js';

const at = (ms: number) => new Date(Date.parse('2025-03-01T10:00:00.000Z') + ms).toISOString();
const refusal = (overrides: Partial<RecordMessageRefusal> = {}): RecordMessageRefusal => ({
  type: 'RecordMessageRefusal',
  action: 'MeterValues',
  messageId: 'm1',
  reason: 'foreignTransaction',
  transactionId: '42',
  detail: 'reading 0: transaction belongs to another station',
  refusedAt: at(0),
  ...overrides,
});
const refused = (overrides: Partial<RecordMessageRefusal> = {}) => {
  const { type: _type, ...data } = refusal(overrides);
  return eventFrom(StationMessageRefused, { ...data, transactionId: data.transactionId ?? null });
};

describe('station: refused messages', () => {
  it('records the refusal with what the station named', () => {
    given(stationDecider, []).when(refusal()).then([refused()]);
    given(stationDecider, []).when(refusal({ reason: 'stateConflict', transactionId: null })).then([refused({ reason: 'stateConflict', transactionId: null })]);
  });

  it(`records at most ${stationRefusalsPerWindowMax} per ${stationRefusalWindowMs / 1000} s, then refuses until the window has passed`, () => {
    const full = Array.from({ length: stationRefusalsPerWindowMax }, (_, i) => refused({ transactionId: String(i), refusedAt: at(i * 1000) }));
    given(stationDecider, full).when(refusal({ refusedAt: at(stationRefusalWindowMs - 1) })).thenThrows(IllegalStateError, /more than 20 refused messages/);
    given(stationDecider, full).when(refusal({ refusedAt: at(stationRefusalWindowMs) })).then([refused({ refusedAt: at(stationRefusalWindowMs) })]);
    given(stationDecider, full.slice(1)).when(refusal({ refusedAt: at(30_000) })).then([refused({ refusedAt: at(30_000) })]);
  });

  it('refuses an unknown reason or a time without a zone; cuts an overlong detail', () => {
    given(stationDecider, []).when(refusal({ reason: 'whatever' as never })).thenThrows(InvalidCommandError, /unknown refusal reason/);
    given(stationDecider, []).when(refusal({ refusedAt: '2025-03-01T10:00:00' })).thenThrows(InvalidCommandError, /refusedAt/);
    given(stationDecider, []).when(refusal({ detail: 'x'.repeat(600) })).then([refused({ detail: 'x'.repeat(500) })]);
  });
});
