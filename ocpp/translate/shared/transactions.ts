import { streamEventsMax, streamReadPageSizeMax } from '../../../commands/handler.js';
import { upcast } from '../../../domain/events.js';
import { streamName } from '../../../domain/shared/event.js';
import { IllegalStateError } from '../../../domain/shared/errors.js';
import { sameIdToken, type IdToken } from '../../../domain/shared/values.js';
import type { TransactionEventData } from '../../../domain/transaction/events.js';
import { transactionDecider } from '../../../domain/transaction/index.js';
import { decideAuthorization, remoteStartAuthorization, type AuthorizationDecision } from './authorization.js';
import { eventData, type Translation } from './context.js';
import { recordRefusal } from './refusals.js';
import { openRemoteStart, type RemoteStartAuthority } from './remote-starts.js';

/**
 * Decides a token's authorization and records it as TransactionAuthorized on `aggregateId`. The
 * answer is the recorded result: on a repeated CALL, the one recorded then, so the station hears
 * the same thing twice even if the token changed in between. A start claimed by a remote start is
 * authorized by it (basis 'remoteStart', with the eMSP's reference), not by the token list. With
 * `reuseAccepted`, a token this transaction already accepted through a remote start or an eMSP's
 * real-time answer is answered from that, asking nobody and recording nothing: a station repeating the token on a later message must not hear a worse
 * answer (a remote start's token we do not hold would be Unknown) and stop charging (StopTxOnInvalidId).
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
    /** The remote start this start (or Authorize) follows (shared/remote-starts.ts). */
    remoteStart?: RemoteStartAuthority | null;
    /** The message names a transaction that may have run for a while (2.0.1 TransactionEvent): see above. */
    reuseAccepted?: boolean;
    /**
     * The authorization_reference of the reservation the transaction uses (shared/reservations.ts):
     * carried when the decision has none of its own (a remote start's or a real-time answer's).
     */
    reservationReference?: string | null;
  },
): Promise<AuthorizationDecision> {
  if (options.reuseAccepted) {
    const earlier = await acceptedEarlier(translation, options.aggregateId, options.idToken);
    if (earlier !== null) return earlier;
  }
  const decided = options.remoteStart ? remoteStartAuthorization(options.remoteStart) : await decideAuthorization(translation, options.idToken, options.at);
  const decision = options.reservationReference && decided.authorizationReference === undefined ? { ...decided, authorizationReference: options.reservationReference } : decided;
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
        authorizingParty: decision.authorizingParty ?? null,
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

/**
 * A station's Authorize (1.6 §4.1, 2.0.1 C01), recorded on a transaction stream of its own that
 * never starts (Authorize names no transaction; the start that may follow gets its id later). The
 * token of an open remote start of this station is Accepted by it (basis 'remoteStart'), not
 * claimed: a station set to authorize remote starts first (1.6 AuthorizeRemoteTxRequests, 2.0.1
 * AuthorizeRemoteStart) would otherwise never start one whose token we do not hold.
 */
export async function authorizeStationToken(translation: Translation, idToken: IdToken): Promise<AuthorizationDecision> {
  const commandId = translation.commandId('authorize');
  const remoteStart = await openRemoteStart(translation, idToken);
  return authorizeAndRecord(translation, { idToken, at: translation.nowIso(), aggregateId: commandId, commandId, remoteStart });
}

/** The reference, remote start and eMSP as recorded the first time (a repeated CALL answers from them). */
function recordedLinks(recorded: TransactionEventData<'TransactionAuthorized'>): Pick<AuthorizationDecision, 'authorizationReference' | 'remoteStartOperationId' | 'authorizingParty'> {
  return {
    ...(recorded.authorizationReference === undefined ? {} : { authorizationReference: recorded.authorizationReference }),
    ...(recorded.remoteStartOperationId === undefined ? {} : { remoteStartOperationId: recorded.remoteStartOperationId }),
    ...(recorded.authorizingParty === undefined ? {} : { authorizingParty: recorded.authorizingParty }),
  };
}

/** Acceptances someone other than our token list gave: reused, never decided again. */
const reusableBases = new Set<string | null>(['remoteStart', 'realtime']);

/**
 * The first Accepted authorization of this token (without case) recorded on the transaction by a
 * remote start or an eMSP's real-time answer, as its decision; null: none. Paged, stopping at the
 * first: the authorization that let the transaction start is near its beginning; bounded by the
 * longest stream a command may write.
 */

async function acceptedEarlier(translation: Translation, aggregateId: string, idToken: IdToken): Promise<AuthorizationDecision | null> {
  const stream = streamName(transactionDecider.aggregateType, translation.tenantId, aggregateId);
  for (let from = 0; ; ) {
    const page = await translation.deps.eventStore.readStream(stream, { fromRevision: from, maxCount: streamReadPageSizeMax });
    for (const recorded of page) {
      if (recorded.type !== 'TransactionAuthorized') continue;
      const data = upcast(recorded.type, recorded.schemaVersion, recorded.data).data as TransactionEventData<'TransactionAuthorized'>;
      // v1 events have no basis: not reused, decided again as before. Only what someone else
      // authorized (a remote start, an eMSP's real-time answer) is reused: a token of our own list
      // is decided again, so that blocking it mid-session still reaches the station.
      if (data.result !== 'Accepted' || data.basis === null || !reusableBases.has(data.basis) || !sameIdToken(data.idToken, idToken)) continue;
      return { result: 'Accepted', basis: data.basis, facts: null, ...recordedLinks(data) };
    }
    from += page.length;
    if (from > streamEventsMax) throw new Error(`${stream} is longer than ${streamEventsMax} events`);
    if (page.length < streamReadPageSizeMax) return null;
  }
}
