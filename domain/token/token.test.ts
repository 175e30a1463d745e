import { describe, expect, it } from 'vitest';
import { given } from '../../test/support/given-when-then.js';
import { eventFrom } from '../shared/event-definition.js';
import { IllegalStateError, InvalidCommandError } from '../shared/errors.js';
import type { IssueToken } from './commands.js';
import { TokenBlocked, TokenExpired, TokenIssued, TokenUnblocked, TokenUpdated, type TokenFacts } from './events.js';
import { tokenDecider } from './index.js';
import { authorizationStatus } from './state.js';

const issue = (overrides: Partial<IssueToken> = {}): IssueToken => ({
  type: 'IssueToken',
  uid: '012345678',
  tokenType: 'RFID',
  contractId: 'NL-ABC-C12345678-X',
  issuer: 'ABC Mobility',
  validUntil: '2026-01-01T00:00:00Z',
  whitelist: 'ALLOWED',
  source: 'ocpi',
  ...overrides,
});
const facts = (overrides: Partial<TokenFacts> = {}): TokenFacts => ({
  uid: '012345678',
  tokenType: 'RFID',
  contractId: 'NL-ABC-C12345678-X',
  issuer: 'ABC Mobility',
  ownerId: null,
  visualNumber: null,
  validUntil: '2026-01-01T00:00:00.000Z',
  whitelist: 'ALLOWED',
  source: 'ocpi',
  groupId: null,
  ...overrides,
});
const issued = eventFrom(TokenIssued, facts());
const blocked = eventFrom(TokenBlocked, { reason: 'lost card' });
const now = '2025-06-01T12:00:00Z';

describe('token: issue and update', () => {
  it('issues a token with its facts', () => {
    given(tokenDecider, []).when(issue()).then([issued]);
  });
  it('the same facts again are a no-op; new facts are an update', () => {
    given(tokenDecider, [issued]).when(issue()).then([]);
    given(tokenDecider, [issued]).when(issue({ groupId: 'G1' })).then([eventFrom(TokenUpdated, facts({ groupId: 'G1' }))]);
  });
  it('refuses another uid in the same stream, and unknown types', () => {
    given(tokenDecider, [issued]).when(issue({ uid: 'other' })).thenThrows(InvalidCommandError, /uid/);
    given(tokenDecider, []).when(issue({ tokenType: 'Magic' as never })).thenThrows(InvalidCommandError, /token type/);
    given(tokenDecider, []).when(issue({ whitelist: 'SOMETIMES' as never })).thenThrows(InvalidCommandError, /whitelist/);
    given(tokenDecider, []).when(issue({ uid: 'x'.repeat(37) })).thenThrows(InvalidCommandError, /uid/);
  });
});

describe('token: block, unblock, expire', () => {
  it('blocks an issued token; blocking again is a no-op; an unknown token is refused', () => {
    given(tokenDecider, [issued]).when({ type: 'BlockToken', reason: 'lost card' }).then([blocked]);
    given(tokenDecider, [issued, blocked]).when({ type: 'BlockToken', reason: 'stolen' }).then([]);
    given(tokenDecider, []).when({ type: 'BlockToken', reason: 'x' }).thenThrows(IllegalStateError, /not issued/);
  });
  it('unblocks a blocked token; unblocking an unblocked one is a no-op', () => {
    given(tokenDecider, [issued, blocked]).when({ type: 'UnblockToken' }).then([eventFrom(TokenUnblocked, {})]);
    given(tokenDecider, [issued]).when({ type: 'UnblockToken' }).then([]);
    given(tokenDecider, []).when({ type: 'UnblockToken' }).thenThrows(IllegalStateError, /not issued/);
  });
  it('expires a token once', () => {
    const expired = eventFrom(TokenExpired, { expiredAt: '2025-05-01T00:00:00.000Z' });
    given(tokenDecider, [issued]).when({ type: 'ExpireToken', expiredAt: '2025-05-01T00:00:00Z' }).then([expired]);
    given(tokenDecider, [issued, expired]).when({ type: 'ExpireToken', expiredAt: '2025-05-02T00:00:00Z' }).then([]);
    given(tokenDecider, []).when({ type: 'ExpireToken', expiredAt: now }).thenThrows(IllegalStateError, /not issued/);
  });
});

describe('token: authorization status', () => {
  const status = (history: Parameters<typeof tokenDecider.evolve>[1][], at = now, realtimeUnavailable = false) =>
    authorizationStatus(given(tokenDecider, history).state, at, { realtimeUnavailable });
  it('Unknown when never issued; Accepted when valid', () => {
    expect(status([])).toBe('Unknown');
    expect(status([issued])).toBe('Accepted');
  });
  it('Blocked when blocked, Accepted again when unblocked', () => {
    expect(status([issued, blocked])).toBe('Blocked');
    expect(status([issued, blocked, eventFrom(TokenUnblocked, {})])).toBe('Accepted');
  });
  it('Expired from validUntil or an expiry, and renewed by a later validUntil', () => {
    expect(status([issued], '2026-01-01T00:00:00Z')).toBe('Expired');
    const expired = eventFrom(TokenExpired, { expiredAt: '2025-05-01T00:00:00.000Z' });
    expect(status([issued, expired])).toBe('Expired');
    expect(status([issued, expired], '2025-04-01T00:00:00Z')).toBe('Accepted');
    expect(status([issued, expired, eventFrom(TokenUpdated, facts({ validUntil: '2027-01-01T00:00:00.000Z' }))])).toBe('Accepted');
  });
  it('OCPI whitelist decides whether our copy may answer', () => {
    const whitelisted = (whitelist: TokenFacts['whitelist']) => eventFrom(TokenIssued, facts({ whitelist }));
    expect(status([whitelisted('ALWAYS')])).toBe('Accepted');
    expect(status([whitelisted('ALLOWED_OFFLINE')])).toBe('Unknown');
    expect(status([whitelisted('ALLOWED_OFFLINE')], now, true)).toBe('Accepted');
    expect(status([whitelisted('NEVER')])).toBe('Unknown');
    expect(status([whitelisted('NEVER')], now, true)).toBe('Invalid');
  });
  it('local tokens ignore the whitelist', () => {
    expect(status([eventFrom(TokenIssued, facts({ source: 'local', whitelist: 'NEVER' }))])).toBe('Accepted');
  });
});

describe('token: OCPI party and partial updates', () => {
  const ocpiIssue = (overrides: Partial<IssueToken> = {}) => issue({ countryCode: 'de', partyId: 'emp', language: 'de', ...overrides });
  const ocpiFacts = (overrides: Partial<TokenFacts> = {}) => facts({ countryCode: 'DE', partyId: 'EMP', language: 'de', ...overrides });
  const ocpiIssued = eventFrom(TokenIssued, ocpiFacts());

  it('keeps the eMSP party, upper case; facts stored before it still read', () => {
    given(tokenDecider, []).when(ocpiIssue()).then([ocpiIssued]);
    // An event without the optional party fields (stored before them) still folds.
    expect(given(tokenDecider, [issued]).state).toMatchObject({ status: 'issued', facts: { uid: '012345678' } });
    expect(TokenIssued.schema.safeParse(facts()).success).toBe(true);
  });
  it('refuses another party, or an eMSP, taking over a token', () => {
    given(tokenDecider, [ocpiIssued]).when(ocpiIssue({ partyId: 'XYZ' })).thenThrows(InvalidCommandError, /belongs to DE\*EMP/);
    const local = eventFrom(TokenIssued, facts({ source: 'local' }));
    given(tokenDecider, [local]).when(ocpiIssue()).thenThrows(InvalidCommandError, /belongs to local/);
    given(tokenDecider, []).when(ocpiIssue({ countryCode: 'DEU' })).thenThrows(InvalidCommandError, /countryCode/);
  });
  it('UpdateToken changes only the given fields; the same values again are a no-op', () => {
    given(tokenDecider, [ocpiIssued])
      .when({ type: 'UpdateToken', changes: { whitelist: 'NEVER', groupId: 'G1' } })
      .then([eventFrom(TokenUpdated, ocpiFacts({ whitelist: 'NEVER', groupId: 'G1' }))]);
    given(tokenDecider, [ocpiIssued]).when({ type: 'UpdateToken', changes: { whitelist: 'ALLOWED' } }).then([]);
    given(tokenDecider, [ocpiIssued]).when({ type: 'UpdateToken', changes: { issuer: '' } }).thenThrows(InvalidCommandError, /issuer/);
    given(tokenDecider, []).when({ type: 'UpdateToken', changes: { whitelist: 'NEVER' } }).thenThrows(IllegalStateError, /not issued/);
    given(tokenDecider, [ocpiIssued])
      .when({ type: 'UpdateToken', changes: {}, expectedParty: { countryCode: 'NL', partyId: 'EMP' } })
      .thenThrows(InvalidCommandError, /belongs to DE\*EMP/);
  });
  it('UnblockToken with a reason lifts only a block set for that reason', () => {
    const byEmsp = eventFrom(TokenBlocked, { reason: 'OCPI valid: false' });
    given(tokenDecider, [ocpiIssued, byEmsp]).when({ type: 'UnblockToken', onlyReason: 'OCPI valid: false' }).then([eventFrom(TokenUnblocked, {})]);
    given(tokenDecider, [ocpiIssued, blocked]).when({ type: 'UnblockToken', onlyReason: 'OCPI valid: false' }).then([]);
  });
});
