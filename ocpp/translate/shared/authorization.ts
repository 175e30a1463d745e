import type { EventStore } from '../../../adapters/event-store/port.js';
import { foldStream } from '../../../commands/process/streams.js';
import { streamName } from '../../../domain/shared/event.js';
import type { IdToken } from '../../../domain/shared/values.js';
import {
  acceptedByOfflineWhitelist,
  authorizationStatus,
  tokenDecider,
  type TokenFacts,
  type TokenState,
} from '../../../domain/token/index.js';
import { authorizationReferenceSchema, authorizingPartySchema, type AuthorizationBasis, type AuthorizationResult, type AuthorizingParty } from '../../../domain/transaction/events.js';
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

/**
 * The default lookup: token aggregate id = the identifier as the station sent it (how operators
 * issue local tokens). Tokens synced from OCPI under another id (party + uid) need a uid index,
 * which the lead can pass as `tokenLookup`. Reading a stream outside a handler is allowed here:
 * this is command-side code (docs/design.md: only command handlers read streams) and never a read model.
 * Page by page up to the length any command may write (`foldStream`): a token its eMSP toggled
 * thousands of times is still decided, not a thrown error.
 */
export function eventStoreTokenLookup(eventStore: EventStore): TokenLookup {
  return async (tenantId, idToken) => (await foldStream(eventStore, tokenDecider, streamName(tokenDecider.aggregateType, tenantId, idToken.idToken))).state;
}

export interface AuthorizationDecision {
  /** In the domain's (2.0.1) vocabulary; 1.6 answers map it with `ocpp16AuthorizationStatus`. */
  readonly result: AuthorizationResult;
  /** What decided it, recorded on TransactionAuthorized. */
  readonly basis: AuthorizationBasis;
  /** The token's facts when known (expiry and group for the answer's cache hints). */
  readonly facts: TokenFacts | null;
  /** The eMSP's authorization_reference: its real-time answer's, or its START_SESSION's (remote start). */
  readonly authorizationReference?: string;
  /** basis 'remoteStart': the station operation that sent the remote start. */
  readonly remoteStartOperationId?: string;
  /** The eMSP that authorized it: the one that answered in real time, or whose START_SESSION it follows. */
  readonly authorizingParty?: AuthorizingParty;
}

/** OCPI 2.2.1 AllowedType: an eMSP's real-time answer. */
export type RealtimeAllowed = 'ALLOWED' | 'BLOCKED' | 'EXPIRED' | 'NO_CREDIT' | 'NOT_ALLOWED';

/**
 * Port to an eMSP's real-time authorization (OCPI tokens, wired by api/: ocpi/tokens/realtime.ts).
 * Resolves 'unreachable' when no eMSP answered in time (or none knows the token); never rejects
 * for a partner's failure. `authorizingParty`: the eMSP whose answer it is, when known.
 */
export type RealtimeAuthorizer = (
  tenantId: string,
  idToken: IdToken,
  context: { readonly stationId: string; readonly evseId?: number | null },
) => Promise<
  | { readonly allowed: RealtimeAllowed; readonly authorizationReference?: string; readonly authorizingParty?: AuthorizingParty }
  | 'unreachable'
>;

/** OCPI AllowedType in the domain's (2.0.1) words. NOT_ALLOWED is "valid, but not at this location" (mod_tokens AllowedType). */
const resultOfRealtime: Readonly<Record<RealtimeAllowed, AuthorizationResult>> = {
  ALLOWED: 'Accepted',
  BLOCKED: 'Blocked',
  EXPIRED: 'Expired',
  NO_CREDIT: 'NoCredit',
  NOT_ALLOWED: 'NotAtThisLocation',
};

/**
 * Whether the eMSP is to be asked, by the token's whitelist (OCPI 2.2.1 WhitelistType): ALWAYS
 * never (our copy answers); ALLOWED, ALLOWED_OFFLINE and NEVER yes. Local tokens have no eMSP.
 * A token our copy already refuses (blocked, expired) is not asked about: the eMSP's own push said so.
 */
function asksEmsp(state: TokenState, at: string): boolean {
  if (state.status === 'none') return true;
  if (state.facts.source !== 'ocpi' || state.facts.whitelist === 'ALWAYS') return false;
  const local = authorizationStatus(state, at, { realtimeUnavailable: true });
  return local !== 'Blocked' && local !== 'Expired';
}

/**
 * Decides what a token may do now (station time `at`): the eMSP's real-time answer when one is
 * wired and the whitelist lets us ask, else our copy of the token, else the unknown-token policy.
 */
export async function decideAuthorization(translation: Translation, idToken: IdToken, at: string, evseId?: number | null): Promise<AuthorizationDecision> {
  const lookup = translation.deps.tokenLookup ?? eventStoreTokenLookup(translation.deps.eventStore);
  const state = await lookup(translation.tenantId, idToken);
  const facts = state.status === 'none' ? null : state.facts;
  const realtime = translation.deps.realtimeAuthorizer;
  if (realtime !== undefined && asksEmsp(state, at)) {
    const answer = await realtime(translation.tenantId, idToken, { stationId: translation.stationId, ...(evseId == null ? {} : { evseId }) });
    if (answer !== 'unreachable') {
      // Kept only when a Session and CDR can carry it (CiString(36)); the eMSP's answer stands either way.
      const usable = answer.authorizationReference !== undefined && authorizationReferenceSchema.safeParse(answer.authorizationReference).success;
      const reference = usable ? { authorizationReference: answer.authorizationReference } : {};
      // The eMSP that answered is who authorized the session (and pays for it), known token or not.
      const party = answer.authorizingParty === undefined ? undefined : authorizingPartySchema.safeParse(answer.authorizingParty).data;
      return { result: resultOfRealtime[answer.allowed], basis: 'realtime', facts, ...reference, ...(party === undefined ? {} : { authorizingParty: party }) };
    }
  }
  if (state.status === 'none') {
    const policy = translation.deps.unknownTokenPolicy ?? 'reject';
    return { result: policy === 'accept' ? 'Accepted' : 'Unknown', basis: 'unknownTokenPolicy', facts: null };
  }
  // Here the eMSP was not asked or did not answer: our copy decides as if it cannot be reached
  // (ALLOWED accepted, ALLOWED_OFFLINE accepted, NEVER refused), never an endless "ask the eMSP".
  const context = { realtimeUnavailable: true };
  const status = authorizationStatus(state, at, context);
  const basis = acceptedByOfflineWhitelist(state, at, context) ? 'offlineWhitelist' : 'token';
  return { result: status, basis, facts: state.facts };
}

/**
 * A start that follows a remote start the station accepted: the token in the command was the
 * authorization (OCPI START_SESSION: "The Token provided in this request is authorized by the
 * eMSP"; an operator chose to start). Nobody is asked again, and the station is answered Accepted,
 * or it would stop the transaction it was asked to start (1.6 StopTransactionOnInvalidId).
 */
export function remoteStartAuthorization(remoteStart: {
  readonly operationId: string;
  readonly authorizationReference: string | null;
  /** The eMSP whose START_SESSION it was (absent or null: an operator's remote start). */
  readonly authorizingParty?: AuthorizingParty | null;
}): AuthorizationDecision {
  const reference = remoteStart.authorizationReference === null ? {} : { authorizationReference: remoteStart.authorizationReference };
  const party = remoteStart.authorizingParty == null ? {} : { authorizingParty: remoteStart.authorizingParty };
  return { result: 'Accepted', basis: 'remoteStart', facts: null, remoteStartOperationId: remoteStart.operationId, ...reference, ...party };
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
