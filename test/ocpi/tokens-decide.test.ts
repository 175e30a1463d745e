import { describe, expect, it } from 'vitest';
import { eventFrom } from '../../domain/shared/event-definition.js';
import { TokenBlocked, TokenIssued, tokenDecider, type TokenFacts, type TokenState } from '../../domain/token/index.js';
import { decideAuthorization, ocpp16AuthorizationStatus, type RealtimeAllowed, type RealtimeAuthorizer } from '../../ocpp/translate/shared/authorization.js';
import { Translation, type TranslatorDeps } from '../../ocpp/translate/shared/context.js';

/**
 * How a station's Authorize uses the eMSP's real-time answer (decideAuthorization with a
 * RealtimeAuthorizer): when it asks, how answers map to OCPP, and what decides when nobody answers.
 */

const at = '2026-11-28T12:00:00.000Z';
const facts = (overrides: Partial<TokenFacts> = {}): TokenFacts => ({
  uid: 'CARD',
  tokenType: 'RFID',
  contractId: 'DE-EMP-C1',
  issuer: 'eMSP',
  ownerId: null,
  visualNumber: null,
  validUntil: null,
  whitelist: 'ALLOWED',
  source: 'ocpi',
  groupId: null,
  countryCode: 'DE',
  partyId: 'EMP',
  ...overrides,
});
const issued = (overrides: Partial<TokenFacts> = {}): TokenState => tokenDecider.evolve(tokenDecider.initialState(), eventFrom(TokenIssued, facts(overrides)));

function decide(state: TokenState, answer: Awaited<ReturnType<RealtimeAuthorizer>>, unknownTokenPolicy: 'reject' | 'accept' = 'reject') {
  const asked: string[] = [];
  const realtimeAuthorizer: RealtimeAuthorizer = async (_tenantId, idToken, context) => {
    asked.push(`${idToken.idToken}@${context.stationId}`);
    return answer;
  };
  const deps = { defaultTenantId: 'default', tokenLookup: async () => state, realtimeAuthorizer, unknownTokenPolicy } as unknown as TranslatorDeps;
  const translation = new Translation(deps, { stationId: 'CP-1', ocppVersion: 'ocpp2.0.1', messageId: 'm1', connectionId: 'socket-1', admission: 'accepted' }, 'Authorize', {});
  return decideAuthorization(translation, { idToken: 'CARD', type: 'ISO14443' }, at).then((decision) => ({ ...decision, asked }));
}

describe('real-time authorization in decideAuthorization', () => {
  it('maps every OCPI AllowedType, basis realtime', async () => {
    const expected: Record<RealtimeAllowed, [string, string]> = {
      ALLOWED: ['Accepted', 'Accepted'],
      BLOCKED: ['Blocked', 'Blocked'],
      EXPIRED: ['Expired', 'Expired'],
      NO_CREDIT: ['NoCredit', 'Invalid'],
      NOT_ALLOWED: ['NotAtThisLocation', 'Invalid'],
    };
    for (const [allowed, [result201, result16]] of Object.entries(expected)) {
      const decision = await decide(issued(), { allowed: allowed as RealtimeAllowed });
      expect([decision.result, ocpp16AuthorizationStatus(decision.result), decision.basis]).toEqual([result201, result16, 'realtime']);
      expect(decision.asked).toEqual(['CARD@CP-1']);
    }
  });

  it('the whitelist decides when nobody answers: ALLOWED our copy, ALLOWED_OFFLINE accepted, NEVER refused', async () => {
    expect(await decide(issued({ whitelist: 'ALLOWED' }), 'unreachable')).toMatchObject({ result: 'Accepted', basis: 'token' });
    expect(await decide(issued({ whitelist: 'ALLOWED_OFFLINE' }), 'unreachable')).toMatchObject({ result: 'Accepted', basis: 'offlineWhitelist' });
    expect(await decide(issued({ whitelist: 'NEVER' }), 'unreachable')).toMatchObject({ result: 'Invalid', basis: 'token' });
  });

  it('an unknown token nobody answers for: the unknown-token policy', async () => {
    const none = tokenDecider.initialState();
    expect(await decide(none, 'unreachable')).toMatchObject({ result: 'Unknown', basis: 'unknownTokenPolicy', asked: ['CARD@CP-1'] });
    expect(await decide(none, 'unreachable', 'accept')).toMatchObject({ result: 'Accepted', basis: 'unknownTokenPolicy' });
    expect(await decide(none, { allowed: 'ALLOWED' })).toMatchObject({ result: 'Accepted', basis: 'realtime', facts: null });
  });

  it('never asks for ALWAYS, local tokens, or a token our copy already refuses', async () => {
    const blocked = tokenDecider.evolve(issued(), eventFrom(TokenBlocked, { reason: 'OCPI valid: false' }));
    for (const [state, result] of [
      [issued({ whitelist: 'ALWAYS' }), 'Accepted'],
      [issued({ source: 'local', whitelist: 'NEVER' }), 'Accepted'],
      [blocked, 'Blocked'],
    ] as const) {
      const decision = await decide(state, { allowed: 'NO_CREDIT' });
      expect(decision).toMatchObject({ result, basis: 'token', asked: [] });
    }
  });
});
