import { describe, expect, it } from 'vitest';
import { given } from '../../test/support/given-when-then.js';
import { upcast } from '../events.js';
import { eventFrom } from '../shared/event-definition.js';
import { InvalidCommandError } from '../shared/errors.js';
import type { AuthorizeTransaction } from './commands.js';
import { TransactionAuthorized, type TransactionEventData } from './events.js';
import { transactionDecider } from './index.js';
import { sessionAuthMethodOf, sessionAuthorizationOf, sessionTokenOf, tokenWithAuthorized, tokenWithStarted, type SessionToken } from './session-authorization.js';

const at = '2025-03-01T10:00:00.000Z';
const card = { idToken: 'CARD-1', type: 'ISO14443' };
const authorize = (overrides: Partial<AuthorizeTransaction> = {}): AuthorizeTransaction => ({
  type: 'AuthorizeTransaction',
  stationId: 'CP-1',
  evseId: 1,
  idToken: card,
  result: 'Accepted',
  basis: 'token',
  authorizedAt: at,
  ...overrides,
});
const authorized = (overrides: Partial<TransactionEventData<'TransactionAuthorized'>> = {}): TransactionEventData<'TransactionAuthorized'> => ({
  stationId: 'CP-1', evseId: 1, idToken: card, result: 'Accepted', authorizedAt: at, basis: 'token', ...overrides,
});
const started = { triggerReason: undefined, idToken: card };

describe('how a session was authorized (OCPI auth_method and authorization_reference)', () => {
  it('TransactionAuthorized records the eMSP reference and the remote start that authorized it; absent, nothing is added', () => {
    given(transactionDecider, [])
      .when(authorize({ basis: 'remoteStart', authorizationReference: 'REF-1', remoteStartOperationId: 'op-1' }))
      .then([eventFrom(TransactionAuthorized, authorized({ basis: 'remoteStart', authorizationReference: 'REF-1', remoteStartOperationId: 'op-1' }))]);
    given(transactionDecider, []).when(authorize({ authorizationReference: null })).then([eventFrom(TransactionAuthorized, authorized())]);
    given(transactionDecider, []).when(authorize({ authorizationReference: 'R'.repeat(37) })).thenThrows(InvalidCommandError, /authorizationReference/);
    // OCPI CiString: printable ASCII, or no Session or CDR could carry it.
    given(transactionDecider, []).when(authorize({ authorizationReference: 'Référence' })).thenThrows(InvalidCommandError, /printable ASCII/);
  });

  it('events stored before these fields read as they were (no reference)', () => {
    const stored = { stationId: 'CP-1', evseId: null, idToken: card, result: 'Accepted', authorizedAt: at, basis: 'realtime' };
    expect(upcast('TransactionAuthorized', 2, stored).data).toEqual(stored);
    expect(upcast('TransactionAuthorized', 1, { ...stored, basis: undefined }).data).toMatchObject({ basis: null });
  });

  it('COMMAND for a remote start, with the START_SESSION reference; it stays COMMAND after a later authorization', () => {
    const summary = sessionAuthorizationOf(started, [authorized({ basis: 'remoteStart', authorizationReference: 'REF-1' }), authorized({ basis: 'token' })]);
    expect(summary).toEqual({ remoteStart: true, basis: 'token', authorizationReference: 'REF-1' });
    expect(sessionAuthMethodOf(summary)).toBe('COMMAND');
  });

  it('AUTH_REQUEST when the eMSP answered in real time, with its reference; WHITELIST from our own list', () => {
    const realtime = sessionAuthorizationOf(started, [authorized({ basis: 'realtime', authorizationReference: 'RT-1' })]);
    expect([sessionAuthMethodOf(realtime), realtime.authorizationReference]).toEqual(['AUTH_REQUEST', 'RT-1']);
    for (const basis of ['token', 'unknownTokenPolicy', 'offlineWhitelist'] as const) {
      expect(sessionAuthMethodOf(sessionAuthorizationOf(started, [authorized({ basis })]))).toBe('WHITELIST');
    }
    // Nothing recorded (v1 events, no token at all): our own decision.
    expect(sessionAuthMethodOf(sessionAuthorizationOf({ idToken: null }, []))).toBe('WHITELIST');
  });

  it('the last reference given is kept; a refused authorization says nothing', () => {
    const summary = sessionAuthorizationOf(started, [
      authorized({ basis: 'realtime', authorizationReference: 'RT-1' }),
      authorized({ basis: 'realtime', authorizationReference: 'RT-2' }),
      authorized({ basis: 'realtime' }),
      authorized({ basis: 'remoteStart', result: 'Invalid', authorizationReference: 'NO' }),
    ]);
    expect(summary).toEqual({ remoteStart: false, basis: 'realtime', authorizationReference: 'RT-2' });
  });

  it('a 2.0.1 start triggered remotely, or a central id token, is a remote start even when no remote start of ours names it', () => {
    expect(sessionAuthMethodOf(sessionAuthorizationOf({ triggerReason: 'RemoteStart', idToken: card }, []))).toBe('COMMAND');
    expect(sessionAuthMethodOf(sessionAuthorizationOf({ idToken: { idToken: 'APP-1', type: 'Central' } }, []))).toBe('COMMAND');
  });
});

describe('the token a session names, and the eMSP that authorized it (OCPI cdr_token, the receivable)', () => {
  const emp = { countryCode: 'DE', partyId: 'EMP' };

  it('TransactionAuthorized records the authorizing eMSP, upper case; a malformed party is refused; absent, nothing is added', () => {
    given(transactionDecider, [])
      .when(authorize({ basis: 'realtime', authorizingParty: { countryCode: 'de', partyId: 'emp' } }))
      .then([eventFrom(TransactionAuthorized, authorized({ basis: 'realtime', authorizingParty: emp }))]);
    given(transactionDecider, []).when(authorize({ authorizingParty: null })).then([eventFrom(TransactionAuthorized, authorized())]);
    given(transactionDecider, []).when(authorize({ authorizingParty: { countryCode: 'DEU', partyId: 'EMP' } })).thenThrows(InvalidCommandError, /authorizingParty/);
    given(transactionDecider, []).when(authorize({ authorizingParty: { countryCode: 'DE', partyId: 'E-P' } })).thenThrows(InvalidCommandError, /authorizingParty/);
    // Its Token's contract_id and OCPI type are kept with it (OCPI 13.3.5); ones no CDR could carry are refused.
    const told = { countryCode: 'DE', partyId: 'EMP', contractId: 'DE-EMP-C99', tokenType: 'APP_USER' as const };
    given(transactionDecider, [])
      .when(authorize({ basis: 'remoteStart', authorizingParty: { ...told, countryCode: 'de' } }))
      .then([eventFrom(TransactionAuthorized, authorized({ basis: 'remoteStart', authorizingParty: told }))]);
    given(transactionDecider, []).when(authorize({ authorizingParty: { ...told, contractId: 'C'.repeat(37) } })).thenThrows(InvalidCommandError, /contractId/);
    given(transactionDecider, []).when(authorize({ authorizingParty: { ...emp, tokenType: 'CARD' as never } })).thenThrows(InvalidCommandError, /tokenType/);
    expect(sessionTokenOf(started, [authorized({ basis: 'remoteStart', authorizingParty: told })])).toEqual({ idToken: card, authorizingParty: told });
    // Stored before the field existed: replays as it was, no party.
    const stored = { stationId: 'CP-1', evseId: null, idToken: card, result: 'Accepted', authorizedAt: at, basis: 'realtime' };
    expect(upcast('TransactionAuthorized', 2, stored).data).not.toHaveProperty('authorizingParty');
  });

  it("the start's token stands; the eMSP of an accepted authorization of that token is kept", () => {
    expect(sessionTokenOf(started, [])).toEqual({ idToken: card, authorizingParty: null });
    expect(sessionTokenOf(started, [authorized({ basis: 'realtime', authorizingParty: emp })])).toEqual({ idToken: card, authorizingParty: emp });
    // A refused answer, or one about another token, names no eMSP for this session.
    expect(sessionTokenOf(started, [authorized({ result: 'Blocked', authorizingParty: emp })])).toEqual({ idToken: card, authorizingParty: null });
    expect(sessionTokenOf(started, [authorized({ idToken: { idToken: 'OTHER', type: 'ISO14443' }, authorizingParty: emp })])).toEqual({ idToken: card, authorizingParty: null });
    // The latest eMSP that authorized it; a later authorization from our own list does not erase it.
    const fr = { countryCode: 'FR', partyId: 'XYZ' };
    expect(sessionTokenOf(started, [authorized({ authorizingParty: emp }), authorized({ authorizingParty: fr }), authorized({ basis: 'token' })])?.authorizingParty).toEqual(fr);
  });

  it('2.0.1 cable first: a start without a token takes the first accepted authorization\'s, never a later card (the stop)', () => {
    const cableFirst = { idToken: null };
    expect(sessionTokenOf(cableFirst, [])).toBeNull();
    const stopper = { idToken: 'STOP-CARD', type: 'ISO14443' };
    expect(sessionTokenOf(cableFirst, [authorized({ result: 'Invalid', idToken: stopper }), authorized({ authorizingParty: emp }), authorized({ idToken: stopper })])).toEqual({
      idToken: card,
      authorizingParty: emp,
    });
  });

  it('event by event (the Session) as over the whole stream (the CDR), whatever comes first: an authorization before the start', () => {
    const events = [authorized({ basis: 'realtime', authorizingParty: emp })];
    let folded: SessionToken | null = null;
    for (const event of events) folded = tokenWithAuthorized(folded, event);
    folded = tokenWithStarted(folded, started);
    expect(folded).toEqual(sessionTokenOf(started, events));
    // A start naming another token than an earlier authorization: the start's, with no eMSP.
    expect(tokenWithStarted(tokenWithAuthorized(null, authorized({ idToken: { idToken: 'EARLY', type: 'ISO14443' }, authorizingParty: emp })), started)).toEqual({
      idToken: card,
      authorizingParty: null,
    });
  });
});
