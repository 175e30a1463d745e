import type { AuthorizationBasis, TransactionEventData } from './events.js';

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
