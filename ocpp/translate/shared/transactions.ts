import { IllegalStateError } from '../../../domain/shared/errors.js';
import type { IdToken } from '../../../domain/shared/values.js';
import type { TransactionEventData } from '../../../domain/transaction/events.js';
import { decideAuthorization, remoteStartAuthorization, type AuthorizationDecision } from './authorization.js';
import { eventData, type Translation } from './context.js';
import { recordRefusal } from './refusals.js';
import type { ClaimedRemoteStart } from './remote-starts.js';

/**
 * Decides a token's authorization and records it as TransactionAuthorized on `aggregateId`. The
 * answer is the recorded result: on a repeated CALL, the one recorded then, so the station hears
 * the same thing twice even if the token changed in between. A start claimed by a remote start is
 * authorized by it (basis 'remoteStart', with the eMSP's reference), not by the token list.
 */
export async function authorizeAndRecord(
  translation: Translation,
  options: {
    idToken: IdToken;
    at: string;
    aggregateId: string;
    commandId: string;
    evseId?: number | null;
    /** The transaction as the station named it, when the message names one: a refused record is then recorded as a refusal. */
    namedTransactionId?: string;
    /** The remote start this start follows (shared/remote-starts.ts). */
    remoteStart?: ClaimedRemoteStart | null;
  },
): Promise<AuthorizationDecision> {
  const decision = options.remoteStart ? remoteStartAuthorization(options.remoteStart) : await decideAuthorization(translation, options.idToken, options.at);
  try {
    const result = await translation.send(
      {
        type: 'AuthorizeTransaction',
        stationId: translation.stationId,
        evseId: options.evseId ?? null,
        idToken: options.idToken,
        result: decision.result,
        basis: decision.basis,
        authorizedAt: options.at,
        authorizationReference: decision.authorizationReference ?? null,
        remoteStartOperationId: decision.remoteStartOperationId ?? null,
      },
      options.aggregateId,
      options.commandId,
      options.at,
    );
    const recorded = eventData<TransactionEventData<'TransactionAuthorized'>>(result, 'TransactionAuthorized');
    // v1 events (before the basis was kept) read as basis null: keep today's decision's then.
    return recorded ? { ...decision, result: recorded.result, basis: recorded.basis ?? decision.basis, ...recordedLinks(recorded) } : decision;
  } catch (error) {
    // The transaction has ended (a late message with its token): the answer still matters to the
    // station's cache, the record does not belong to an ended session; the refusal is recorded instead.
    if (!(error instanceof IllegalStateError)) throw error;
    if (options.namedTransactionId === undefined) translation.unrecorded(`authorization not recorded: ${error.message}`);
    else await recordRefusal(translation, 'stateConflict', { transactionId: options.namedTransactionId, fact: 'authorization', what: 'authorization' }, error.message);
    return decision;
  }
}

/** The reference and remote start as recorded the first time (a repeated CALL answers from them). */
function recordedLinks(recorded: TransactionEventData<'TransactionAuthorized'>): Pick<AuthorizationDecision, 'authorizationReference' | 'remoteStartOperationId'> {
  return {
    ...(recorded.authorizationReference === undefined ? {} : { authorizationReference: recorded.authorizationReference }),
    ...(recorded.remoteStartOperationId === undefined ? {} : { remoteStartOperationId: recorded.remoteStartOperationId }),
  };
}
