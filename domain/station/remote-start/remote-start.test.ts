import { describe, expect, it } from 'vitest';
import { given } from '../../../test/support/given-when-then.js';
import { eventRegistry, upcast } from '../../events.js';
import { eventFrom } from '../../shared/event-definition.js';
import { IllegalStateError, InvalidCommandError } from '../../shared/errors.js';
import type { ClaimRemoteStart, RecordRemoteStart } from './commands.js';
import { openRemoteStartFor, remoteStartClaimWindowMs } from './decide.js';
import { RemoteStartClaimed, RemoteStartRefused, RemoteStartRequested } from './events.js';
import { remoteStartDecider } from './index.js';
import { remoteStartsKeptMax } from './state.js';

const at = (minute: number, second = 0) => new Date(Date.UTC(2025, 2, 1, 10, minute, second)).toISOString();
const tag = { idToken: 'TAG-1', type: 'ISO14443' };
const record = (overrides: Partial<RecordRemoteStart> = {}): RecordRemoteStart => ({
  type: 'RecordRemoteStart',
  operationId: 'op-1',
  stationId: 'CP-1',
  evseId: 1,
  idToken: tag,
  remoteStartId: null,
  authorizationReference: 'REF-1',
  requestedBy: 'partner:emsp',
  requestedAt: at(0),
  ...overrides,
});
const requested = (overrides: Partial<RecordRemoteStart> = {}) => {
  const { type: _type, authorizingParty, ...data } = record(overrides);
  return eventFrom(RemoteStartRequested, { ...data, ...(authorizingParty == null ? {} : { authorizingParty }) });
};
const claim = (overrides: Partial<ClaimRemoteStart> = {}): ClaimRemoteStart => ({
  type: 'ClaimRemoteStart',
  transactionId: '17',
  stationId: 'CP-1',
  evseId: 1,
  idToken: tag,
  claimedAt: at(1),
  ...overrides,
});
const claimed = (operationId = 'op-1', transactionId = '17', authorizationReference: string | null = 'REF-1', claimedAt = at(1)) =>
  eventFrom(RemoteStartClaimed, { operationId, transactionId, stationId: 'CP-1', idToken: tag, authorizationReference, claimedAt });

describe('remote starts: recorded by the runner, claimed by the start that follows', () => {
  it('a remote start is recorded once; the same operation again records nothing', () => {
    given(remoteStartDecider, []).when(record({ requestedAt: '2025-03-01T11:00:00+01:00' })).then([requested()]);
    given(remoteStartDecider, [requested()]).when(record()).then([]);
  });

  it('refuses what events cannot hold: an authorization reference over 36 characters, an EVSE 0', () => {
    given(remoteStartDecider, []).when(record({ authorizationReference: 'R'.repeat(37) })).thenThrows(InvalidCommandError, /authorizationReference/);
    given(remoteStartDecider, []).when(record({ evseId: 0 })).thenThrows(InvalidCommandError, /evseId/);
  });

  it('a 1.6 start with the same idTag (any case) on the EVSE asked for, within the window, claims it with its reference', () => {
    given(remoteStartDecider, [requested()]).when(claim({ idToken: { idToken: 'tag-1', type: 'ISO14443' } })).then([claimed()]);
    // A remote start naming no EVSE fits any.
    given(remoteStartDecider, [requested({ evseId: null })]).when(claim({ evseId: 3 })).then([claimed()]);
  });

  it('nothing is claimed by another EVSE, another token, another station, or after the window', () => {
    const history = [requested()];
    given(remoteStartDecider, history).when(claim({ evseId: 2 })).then([]);
    given(remoteStartDecider, history).when(claim({ idToken: { idToken: 'TAG-2', type: 'ISO14443' } })).then([]);
    given(remoteStartDecider, history).when(claim({ stationId: 'CP-2' })).then([]);
    given(remoteStartDecider, history).when(claim({ claimedAt: new Date(Date.parse(at(0)) + remoteStartClaimWindowMs + 1).toISOString() })).then([]);
    given(remoteStartDecider, history).when(claim({ claimedAt: new Date(Date.parse(at(0)) + remoteStartClaimWindowMs).toISOString() }))
      .thenState((state) => expect(state.entries[0]?.status).toBe('claimed'));
  });

  it("a START_SESSION's eMSP is recorded (upper case) and its claim tells the transaction; a malformed party is refused", () => {
    const emp = { countryCode: 'DE', partyId: 'EMP' };
    given(remoteStartDecider, []).when(record({ authorizingParty: { countryCode: 'de', partyId: 'emp' } })).then([requested({ authorizingParty: emp })]);
    given(remoteStartDecider, [requested({ authorizingParty: emp })])
      .when(claim())
      .then([eventFrom(RemoteStartClaimed, { operationId: 'op-1', transactionId: '17', stationId: 'CP-1', idToken: tag, authorizationReference: 'REF-1', authorizingParty: emp, claimedAt: at(1) })]);
    given(remoteStartDecider, []).when(record({ authorizingParty: { countryCode: 'DE', partyId: 'TOOLONG' } })).thenThrows(InvalidCommandError, /authorizingParty/);
    // An operator's remote start, and one recorded before the party was kept: no party on the claim.
    given(remoteStartDecider, [requested()]).when(claim()).then([claimed()]);
  });

  it('a remote start is claimed once: a second start with the same token is a local one', () => {
    given(remoteStartDecider, [requested(), claimed()]).when(claim({ transactionId: '18', claimedAt: at(5) })).then([]);
  });

  it('a refused remote start (Rejected, CALLERROR) is claimed by nothing; a refusal after the claim changes nothing', () => {
    const refused = eventFrom(RemoteStartRefused, { operationId: 'op-1', reason: 'Rejected', refusedAt: at(0, 1) });
    given(remoteStartDecider, [requested()]).when({ type: 'RefuseRemoteStart', operationId: 'op-1', reason: 'Rejected', refusedAt: at(0, 1) }).then([refused]);
    given(remoteStartDecider, [requested(), refused]).when(claim()).then([]);
    given(remoteStartDecider, [requested(), claimed()]).when({ type: 'RefuseRemoteStart', operationId: 'op-1', reason: 'Rejected', refusedAt: at(2) }).then([]);
    given(remoteStartDecider, []).when({ type: 'RefuseRemoteStart', operationId: 'op-9', reason: 'Rejected', refusedAt: at(0) }).thenThrows(IllegalStateError, /never recorded/);
  });

  it('the newest open remote start wins (the station acted on the last one it was sent)', () => {
    const history = [requested(), requested({ operationId: 'op-2', authorizationReference: null, requestedAt: at(1) })];
    given(remoteStartDecider, history).when(claim({ claimedAt: at(2) })).then([claimed('op-2', '17', null, at(2))]);
  });

  it('2.0.1 matches the echoed remoteStartId with the remote start\'s token (any case) or none named', () => {
    const history = [requested({ remoteStartId: 4711 })];
    given(remoteStartDecider, history).when(claim({ remoteStartId: 4711, idToken: null, evseId: null })).then([claimed()]);
    given(remoteStartDecider, history).when(claim({ remoteStartId: 4711, idToken: { idToken: 'tag-1', type: 'Central' } })).then([claimed()]);
    given(remoteStartDecider, history).when(claim({ remoteStartId: 4712 })).then([]);
  });

  it('2.0.1: an echoed remoteStartId with another token claims nothing (the token is authorized as any other)', () => {
    const history = [requested({ remoteStartId: 4711 })];
    given(remoteStartDecider, history).when(claim({ remoteStartId: 4711, idToken: { idToken: 'STRANGER', type: 'ISO14443' } })).then([]);
    // A 2.0.1 remote start (its copy by token, for Authorize) is not claimed by the token alone.
    given(remoteStartDecider, history).when(claim()).then([]);
  });

  it('Authorize finds the open remote start of the station and token (any case) within the window, claiming nothing', () => {
    const { state } = given(remoteStartDecider, [requested(), requested({ operationId: 'op-2', stationId: 'CP-2', requestedAt: at(1) })]);
    const atMs = (minute: number) => Date.parse(at(minute));
    expect(openRemoteStartFor(state, { stationId: 'CP-1', idToken: { idToken: 'tag-1', type: 'Central' } }, atMs(1))?.operationId).toBe('op-1');
    expect(openRemoteStartFor(state, { stationId: 'CP-1', idToken: { idToken: 'TAG-2', type: 'ISO14443' } }, atMs(1))).toBeNull();
    expect(openRemoteStartFor(state, { stationId: 'CP-1', idToken: tag }, atMs(0) + remoteStartClaimWindowMs)?.operationId).toBe('op-1');
    expect(openRemoteStartFor(state, { stationId: 'CP-1', idToken: tag }, atMs(0) + remoteStartClaimWindowMs + 1)).toBeNull();
    const { state: afterClaim } = given(remoteStartDecider, [requested(), claimed()]);
    expect(openRemoteStartFor(afterClaim, { stationId: 'CP-1', idToken: tag }, atMs(1))).toBeNull();
  });

  it('the window is the 15 minutes of OCPI 2.2.1 13.3.5 (StartSession)', () => {
    expect(remoteStartClaimWindowMs).toBe(15 * 60_000);
  });

  it(`keeps the newest ${remoteStartsKeptMax} remote starts of a stream in its state`, () => {
    const history = Array.from({ length: remoteStartsKeptMax + 5 }, (_, i) => requested({ operationId: `op-${i}`, requestedAt: at(0, i) }));
    const { state } = given(remoteStartDecider, history);
    expect(state.entries).toHaveLength(remoteStartsKeptMax);
    expect(state.entries[0]?.operationId).toBe('op-5');
  });

  it('the events are registered and read back as written', () => {
    for (const event of [requested(), claimed(), eventFrom(RemoteStartRefused, { operationId: 'op-1', reason: 'call-error', refusedAt: at(0) })]) {
      expect(eventRegistry.get(event.type)?.aggregateType).toBe('remoteStart');
      expect(upcast(event.type, event.schemaVersion, event.data)).toEqual(event);
    }
  });
});
