import type { EventStore } from '../../../adapters/event-store/port.js';
import { upcast } from '../../../domain/events.js';
import { streamName } from '../../../domain/shared/event.js';
import type { IdToken } from '../../../domain/shared/values.js';
import {
  acceptedByOfflineWhitelist,
  authorizationStatus,
  tokenDecider,
  type TokenEvent,
  type TokenFacts,
  type TokenState,
} from '../../../domain/token/index.js';
import type { AuthorizationBasis, AuthorizationResult } from '../../../domain/transaction/events.js';
import { invariant } from '../../../domain/shared/assert.js';
import type { Translation } from './context.js';

/**
 * What to answer for a token we have never heard of (no token stream):
 * - 'reject': 1.6 Invalid, 2.0.1 Unknown; recorded as result 'Unknown'.
 * - 'accept': Accepted (free-vend / open sites); recorded as 'Accepted'.
 * There is no "accept as pending": neither 1.6 AuthorizationStatus nor 2.0.1 AuthorizationStatusEnumType
 * has a pending value, and a station caches what we answer, so "accepted, to be checked later" can only
 * be 'accept' plus an after-the-fact check of the recorded TransactionAuthorized events.
 * Either way a TransactionAuthorized event records the decision, with basis 'unknownTokenPolicy'.
 */
export type UnknownTokenPolicy = 'reject' | 'accept';

/** A token as the command side knows it: its state folded from its stream. */
export type TokenLookup = (tenantId: string, idToken: IdToken) => Promise<TokenState>;

/** A token stream longer than this is not a token any more; refuse to fold it. */
export const tokenStreamEventsMax = 10_000;

/**
 * The default lookup: token aggregate id = the identifier as the station sent it (how operators
 * issue local tokens). Tokens synced from OCPI under another id (party + uid) need a uid index,
 * which the lead can pass as `tokenLookup`. Reading a stream outside a handler is allowed here:
 * this is command-side code (design.md: only command handlers read streams) and never a read model.
 */
export function eventStoreTokenLookup(eventStore: EventStore): TokenLookup {
  return async (tenantId, idToken) => {
    const recorded = await eventStore.readStream(streamName(tokenDecider.aggregateType, tenantId, idToken.idToken), {
      maxCount: tokenStreamEventsMax + 1,
    });
    invariant(recorded.length <= tokenStreamEventsMax, `token stream of ${idToken.idToken} is longer than ${tokenStreamEventsMax}`);
    let state = tokenDecider.initialState();
    for (const event of recorded) {
      state = tokenDecider.evolve(state, upcast(event.type, event.schemaVersion, event.data) as unknown as TokenEvent);
    }
    return state;
  };
}

export interface AuthorizationDecision {
  /** In the domain's (2.0.1) vocabulary; 1.6 answers map it with `ocpp16AuthorizationStatus`. */
  readonly result: AuthorizationResult;
  /** What decided it, recorded on TransactionAuthorized. */
  readonly basis: AuthorizationBasis;
  /** The token's facts when known (expiry and group for the answer's cache hints). */
  readonly facts: TokenFacts | null;
}

/** Decides what a token may do now (station time `at`), by its state and the unknown-token policy. */
export async function decideAuthorization(translation: Translation, idToken: IdToken, at: string): Promise<AuthorizationDecision> {
  const lookup = translation.deps.tokenLookup ?? eventStoreTokenLookup(translation.deps.eventStore);
  const state = await lookup(translation.tenantId, idToken);
  if (state.status === 'none') {
    const policy = translation.deps.unknownTokenPolicy ?? 'reject';
    return { result: policy === 'accept' ? 'Accepted' : 'Unknown', basis: 'unknownTokenPolicy', facts: null };
  }
  // No OCPI real-time authorization yet: treat the eMSP as unreachable, so our copy answers
  // (ALLOWED_OFFLINE accepted, NEVER refused) rather than an endless "ask the eMSP".
  const context = { realtimeUnavailable: true };
  const status = authorizationStatus(state, at, context);
  const basis = acceptedByOfflineWhitelist(state, at, context) ? 'offlineWhitelist' : 'token';
  return { result: status, basis, facts: state.facts };
}

/** OCPP 1.6 AuthorizationStatus has no Unknown/NoCredit/NotAt...: they are all "not allowed": Invalid. */
export function ocpp16AuthorizationStatus(result: AuthorizationResult): 'Accepted' | 'Blocked' | 'Expired' | 'Invalid' | 'ConcurrentTx' {
  switch (result) {
    case 'Accepted':
    case 'Blocked':
    case 'Expired':
    case 'Invalid':
    case 'ConcurrentTx':
      return result;
    default:
      return 'Invalid';
  }
}

/** 1.6 IdTagInfo: status, and for an accepted token its expiry and parent (group) for the station's cache. */
export function ocpp16IdTagInfo(decision: AuthorizationDecision): Record<string, unknown> {
  const info: Record<string, unknown> = { status: ocpp16AuthorizationStatus(decision.result) };
  if (decision.result === 'Accepted' && decision.facts) {
    if (decision.facts.validUntil) info.expiryDate = decision.facts.validUntil;
    // parentIdTag is an IdToken (CiString20Type): a longer group id cannot be sent.
    if (decision.facts.groupId && decision.facts.groupId.length <= 20) info.parentIdTag = decision.facts.groupId;
  }
  return info;
}

/** 2.0.1 IdTokenInfoType. */
export function ocpp201IdTokenInfo(decision: AuthorizationDecision): Record<string, unknown> {
  const info: Record<string, unknown> = { status: decision.result };
  if (decision.result === 'Accepted' && decision.facts) {
    if (decision.facts.validUntil) info.cacheExpiryDateTime = decision.facts.validUntil;
    if (decision.facts.groupId) info.groupIdToken = { idToken: decision.facts.groupId, type: 'Central' };
  }
  return info;
}
