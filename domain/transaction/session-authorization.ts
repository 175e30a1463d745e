import { InvalidCommandError } from '../shared/errors.js';
import type { IdToken } from '../shared/values.js';
import { authorizingPartySchema, type AuthorizationBasis, type AuthorizingParty, type TransactionEventData } from './events.js';

/**
 * How a session was authorized, in OCPI 2.2.1's words (mod_cdrs AuthMethod): COMMAND a remote
 * start (START_SESSION, an operator) whose token was the authorization; AUTH_REQUEST the eMSP
 * answered a real-time authorization; WHITELIST we decided from our own copy of the token list
 * (or our unknown-token policy, or the offline whitelist) without asking the eMSP. The Session
 * (projections/ocpi-sessions.ts) and the CDR (commands/process/cdr-builder.ts) both use these
 * rules, so they never disagree.
 */
export type SessionAuthMethod = 'AUTH_REQUEST' | 'COMMAND' | 'WHITELIST';

export interface SessionAuthorization {
  /** Started remotely: sticky, a later authorization (a stop with the same token) does not undo it. */
  readonly remoteStart: boolean;
  /** The basis of the latest accepted authorization. */
  readonly basis: AuthorizationBasis | null;
  /**
   * The eMSP's authorization_reference: the last one given (OCPI Session.authorization_reference:
   * "when different values have been given ... the last given value SHALL be used").
   */
  readonly authorizationReference: string | null;
}

export const noSessionAuthorization: SessionAuthorization = { remoteStart: false, basis: null, authorizationReference: null };

/**
 * A 2.0.1 start triggered remotely, or a central id token (how a remote start reaches a station
 * when no remote start of ours names it), counts as a remote start too.
 */
export function withStarted(summary: SessionAuthorization, started: Pick<TransactionEventData<'TransactionStarted'>, 'triggerReason' | 'idToken'>): SessionAuthorization {
  const remote = started.triggerReason === 'RemoteStart' || started.idToken?.type === 'Central';
  return remote ? { ...summary, remoteStart: true } : summary;
}

/** Only accepted authorizations say how the session was authorized; a refused one authorized nothing. */
export function withAuthorized(summary: SessionAuthorization, authorized: TransactionEventData<'TransactionAuthorized'>): SessionAuthorization {
  if (authorized.result !== 'Accepted') return summary;
  return {
    remoteStart: summary.remoteStart || authorized.basis === 'remoteStart' || authorized.idToken.type === 'Central',
    basis: authorized.basis ?? summary.basis,
    authorizationReference: authorized.authorizationReference ?? summary.authorizationReference,
  };
}

export function sessionAuthMethodOf(summary: Pick<SessionAuthorization, 'remoteStart' | 'basis'>): SessionAuthMethod {
  if (summary.remoteStart) return 'COMMAND';
  return summary.basis === 'realtime' ? 'AUTH_REQUEST' : 'WHITELIST';
}

/** The summary of a whole transaction stream's facts (the CDR's way; the projection folds event by event). */
export function sessionAuthorizationOf(
  started: Pick<TransactionEventData<'TransactionStarted'>, 'triggerReason' | 'idToken'>,
  authorizations: readonly TransactionEventData<'TransactionAuthorized'>[],
): SessionAuthorization {
  return authorizations.reduce(withAuthorized, withStarted(noSessionAuthorization, started));
}

/**
 * The token a session names (OCPI Session and CDR cdr_token), and the eMSP that authorized the
 * session on it. One rule for the Session (projections/ocpi-sessions.ts, event by event) and the
 * CDR (commands/process: the whole stream), so they never name different tokens or parties.
 */
export interface SessionToken {
  readonly idToken: IdToken;
  /**
   * The eMSP whose real-time answer or START_SESSION authorized this token for the session (the
   * latest that said so); null when none did (our own token list or policy decided): the token's
   * own party then, as the token stream records it.
   */
  readonly authorizingParty: AuthorizingParty | null;
}

/**
 * The start's token stands (a 1.6 start always names one). A 2.0.1 start may name none (cable
 * plugged in first): the token then comes with a later authorization. Naming the token already
 * named keeps what its authorizations said.
 */
export function tokenWithStarted(current: SessionToken | null, started: Pick<TransactionEventData<'TransactionStarted'>, 'idToken'>): SessionToken | null {
  const idToken = started.idToken;
  if (idToken === null) return current;
  return current !== null && current.idToken.idToken === idToken.idToken ? { ...current, idToken } : { idToken, authorizingParty: null };
}

/**
 * An accepted authorization names the token when none is named yet (the first accepted one: a
 * driver's card after the cable). It never renames it: a stop with another card (2.0.1 Ended
 * with the stopping token) does not make that card the session's. An authorization of the named
 * token by an eMSP records that eMSP; a refused one says nothing.
 */
export function tokenWithAuthorized(current: SessionToken | null, authorized: TransactionEventData<'TransactionAuthorized'>): SessionToken | null {
  if (authorized.result !== 'Accepted') return current;
  const named = current ?? { idToken: authorized.idToken, authorizingParty: null };
  if (named.idToken.idToken !== authorized.idToken.idToken || authorized.authorizingParty === undefined) return named;
  return { ...named, authorizingParty: authorized.authorizingParty };
}

/** The session's token from a whole transaction stream's facts (the CDR's way); null: no token ever named. */
export function sessionTokenOf(
  started: Pick<TransactionEventData<'TransactionStarted'>, 'idToken'>,
  authorizations: readonly TransactionEventData<'TransactionAuthorized'>[],
): SessionToken | null {
  return authorizations.reduce(tokenWithAuthorized, tokenWithStarted(null, started));
}

/**
 * An authorizing eMSP as events record it (upper case), or InvalidCommandError: the CDR will name it.
 * Its Token's contract_id and type, when given, must be ones a CDR can carry (CiString(36), OCPI TokenType).
 */
export function checkAuthorizingParty(party: AuthorizingParty, commandType: string): AuthorizingParty {
  const parsed = authorizingPartySchema.safeParse({ ...party, countryCode: String(party.countryCode).toUpperCase(), partyId: String(party.partyId).toUpperCase() });
  if (!parsed.success) {
    throw new InvalidCommandError(
      'authorizingParty must be an OCPI party: a 2-letter country code and a 3-character party id (its contractId: 1 to 36 printable ASCII characters, its tokenType: an OCPI TokenType)',
      commandType,
    );
  }
  return parsed.data;
}
