import { describe, expect, it } from 'vitest';
import { given } from '../../../test/support/given-when-then.js';
import { eventRegistry, upcast } from '../../events.js';
import { eventFrom } from '../../shared/event-definition.js';
import { IllegalStateError, InvalidCommandError } from '../../shared/errors.js';
import type { RecordStationOperationAnswer, RecordStationOperationFailure, RequestStationOperation } from './commands.js';
import { StationOperationAnswered, StationOperationFailed, StationOperationRequested } from './events.js';
import { stationOperationDecider } from './index.js';

const at = '2025-03-01T10:00:00.000Z';
const request = (overrides: Partial<RequestStationOperation> = {}): RequestStationOperation => ({
  type: 'RequestStationOperation',
  operationId: 'op-1',
  stationId: 'CP-1',
  operation: { name: 'reset', params: { type: 'immediate' } },
  ocppVersion: '1.6',
  action: 'Reset',
  request: { type: 'Hard' },
  requestedBy: 'user:alice',
  requestedAt: '2025-03-01T11:00:00+01:00',
  ...overrides,
});
const requested = eventFrom(StationOperationRequested, {
  operationId: 'op-1',
  stationId: 'CP-1',
  operation: { name: 'reset', params: { type: 'immediate' } },
  ocppVersion: '1.6',
  action: 'Reset',
  request: { type: 'Hard' },
  requestedBy: 'user:alice',
  requestedAt: at,
});
const answer = (payload: Record<string, unknown>): RecordStationOperationAnswer => ({
  type: 'RecordStationOperationAnswer',
  operationId: 'op-1',
  answer: payload,
  answeredAt: at,
});
const failure = (reason: RecordStationOperationFailure['reason']): RecordStationOperationFailure => ({
  type: 'RecordStationOperationFailure',
  operationId: 'op-1',
  reason,
  failedAt: at,
});
const answered = eventFrom(StationOperationAnswered, { operationId: 'op-1', status: 'Accepted', answer: { status: 'Accepted' }, answeredAt: at });

describe('station operation: request', () => {
  it('records a request with server time normalized', () => {
    given(stationOperationDecider, []).when(request()).then([requested]);
  });
  it('records a request to a station that is not connected, without version, action or payload', () => {
    const unsent = request({ ocppVersion: null, action: null, request: null });
    given(stationOperationDecider, [])
      .when(unsent)
      .then([eventFrom(StationOperationRequested, { ...requested.data, ocppVersion: null, action: null, request: null })]);
  });
  it('refuses a version without action and payload', () => {
    given(stationOperationDecider, []).when(request({ action: null })).thenThrows(InvalidCommandError, /go together/);
  });
  it('the same request again is a no-op; another operation under the same id is refused', () => {
    given(stationOperationDecider, [requested]).when(request()).then([]);
    given(stationOperationDecider, [requested]).when(request({ stationId: 'CP-2' })).thenThrows(IllegalStateError, /already exists/);
  });
  it('refuses a payload that is not plain JSON, and a time without zone', () => {
    given(stationOperationDecider, []).when(request({ request: { limit: Number.NaN } })).thenThrows(InvalidCommandError, /plain JSON/);
    given(stationOperationDecider, []).when(request({ requestedAt: '2025-03-01T10:00:00' })).thenThrows(InvalidCommandError, /zone/);
    given(stationOperationDecider, []).when(request({ operationId: '' })).thenThrows(InvalidCommandError, /operationId/);
  });
});

describe('station operation: outcome', () => {
  it("records the station's answer with its status word", () => {
    given(stationOperationDecider, [requested]).when(answer({ status: 'Accepted' })).then([answered]);
    given(stationOperationDecider, [requested])
      .when(answer({ configurationKey: [{ key: 'HeartbeatInterval', readonly: false, value: '300' }] }))
      .then([
        eventFrom(StationOperationAnswered, {
          operationId: 'op-1',
          status: null,
          answer: { configurationKey: [{ key: 'HeartbeatInterval', readonly: false, value: '300' }] },
          answeredAt: at,
        }),
      ]);
  });
  it('records each failure kind', () => {
    for (const reason of [
      { kind: 'not-connected' },
      { kind: 'timeout', timeoutMs: 30_000 },
      { kind: 'call-error', code: 'NotSupported', description: 'no' },
      { kind: 'queue-full' },
      { kind: 'invalid-response', description: '/status must be equal to one of the allowed values', answer: { status: 'Maybe' } },
    ] as const) {
      given(stationOperationDecider, [requested]).when(failure(reason)).then([eventFrom(StationOperationFailed, { operationId: 'op-1', reason, failedAt: at })]);
    }
  });
  it('refuses an outcome for an operation never requested, or already finished', () => {
    given(stationOperationDecider, []).when(answer({ status: 'Accepted' })).thenThrows(IllegalStateError, /never requested/);
    given(stationOperationDecider, [requested, answered]).when(failure({ kind: 'timeout', timeoutMs: 1 })).thenThrows(IllegalStateError, /already answered/);
    given(stationOperationDecider, [requested, answered]).when(answer({ status: 'Rejected' })).thenThrows(IllegalStateError, /already answered/);
  });
  it('refuses an unknown failure kind and an outcome for another operation id', () => {
    given(stationOperationDecider, [requested]).when(failure({ kind: 'bad-luck' } as never)).thenThrows(InvalidCommandError, /failure reason/);
    given(stationOperationDecider, [requested]).when({ ...answer({}), operationId: 'op-2' }).thenThrows(InvalidCommandError, /not this stream/);
  });
  it('folds into the finished state', () => {
    expect(given(stationOperationDecider, [requested, answered]).state).toEqual({
      status: 'answered', operationId: 'op-1', stationId: 'CP-1', name: 'reset', stationStatus: 'Accepted',
    });
  });
  it('the registry knows the three events as stationOperation events', () => {
    for (const event of [requested, answered]) expect(upcast(event.type, 1, event.data)).toEqual(event);
    expect(eventRegistry.get('StationOperationFailed')?.aggregateType).toBe('stationOperation');
  });
});
