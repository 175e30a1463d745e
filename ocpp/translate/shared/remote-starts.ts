import { foldStream } from '../../../commands/process/streams.js';
import { streamName } from '../../../domain/shared/event.js';
import { sameIdToken, type IdToken } from '../../../domain/shared/values.js';
import {
  openRemoteStartFor,
  remoteStartDecider,
  type RemoteStartEntry,
  type RemoteStartEventData,
  type RemoteStartState,
} from '../../../domain/station/remote-start/index.js';
import type { AuthorizingParty } from '../../../domain/transaction/events.js';
import { remoteStartStreamId } from '../../operations/remote-starts.js';
import { eventData, type Translation } from './context.js';

/** A remote start a station's start turned out to follow (domain/station/remote-start). */
export type ClaimedRemoteStart = RemoteStartEventData<'RemoteStartClaimed'>;

/** What of a remote start authorizes a start or an Authorize that follows it (shared/authorization.ts `remoteStartAuthorization`). */
export interface RemoteStartAuthority {
  readonly operationId: string;
  /** The token the remote start named (the command's: the one authorized). */
  readonly idToken: IdToken;
  readonly authorizationReference: string | null;
  /** The eMSP whose START_SESSION it was; absent for an operator's. */
  readonly authorizingParty?: AuthorizingParty;
}

/**
 * Claims the remote start a station's transaction start follows, if any: the newest open one for
 * this station and token (1.6) or remoteStartId (2.0.1) recorded within the claim window; a token
 * the message names must be the remote start's (domain decide.ts `fits`). The command id is the
 * message's content, so a retried start gets the claim it made the first time. A later 2.0.1
 * message of the same transaction echoing the remoteStartId again gets the claim this transaction
 * made (`claimOf`), so its token is not asked about as a stranger's.
 * null: no remote start fits (a local start), or another transaction claimed it.
 */
export async function claimRemoteStart(
  translation: Translation,
  start: {
    readonly transactionId: string;
    readonly evseId?: number | null;
    readonly idToken: IdToken | null;
    /** 2.0.1 transactionInfo.remoteStartId; absent: matched by the station's token (1.6). */
    readonly remoteStartId?: number;
  },
): Promise<RemoteStartAuthority | null> {
  const by = start.remoteStartId !== undefined ? { remoteStartId: start.remoteStartId } : start.idToken ? { idTag: start.idToken.idToken } : null;
  if (by === null) return null;
  const aggregateId = remoteStartStreamId(translation.stationId, by);
  const result = await translation.send(
    {
      type: 'ClaimRemoteStart',
      transactionId: start.transactionId,
      stationId: translation.stationId,
      evseId: start.evseId ?? null,
      idToken: start.idToken,
      remoteStartId: start.remoteStartId ?? null,
      // Our clock, not the station's: the window runs from when we sent the remote start.
      claimedAt: translation.nowIso(),
    },
    aggregateId,
    translation.commandId('claim-remote-start', { contentOnly: true }),
  );
  const claimed = eventData<ClaimedRemoteStart>(result, 'RemoteStartClaimed');
  if (claimed !== undefined) return claimed;
  // 1.6 starts a transaction with one message (a retry is the same command, answered above), and its
  // idTag stream may be long; a remoteStartId's stream holds one remote start.
  if (start.remoteStartId === undefined) return null;
  const claim = claimOf(await remoteStartsIn(translation, aggregateId), translation.stationId, start.transactionId);
  return claim !== null && (start.idToken === null || sameIdToken(claim.idToken, start.idToken)) ? authorityOf(claim) : null;
}

/**
 * The open remote start of this station for this token within the claim window, not claimed: what
 * a station that authorizes before starting (1.6 AuthorizeRemoteTxRequests, 2.0.1 AuthorizeRemoteStart)
 * is answered from. The token's stream finds it; for 2.0.1, whether it is still open is in its
 * remoteStartId's stream (the copy by token is never claimed or refused).
 */
export async function openRemoteStart(translation: Translation, idToken: IdToken): Promise<RemoteStartAuthority | null> {
  const stationId = translation.stationId;
  const nowMs = translation.deps.clock.now().getTime();
  const byToken = openRemoteStartFor(await remoteStartsIn(translation, remoteStartStreamId(stationId, { idTag: idToken.idToken })), { stationId, idToken }, nowMs);
  if (byToken === null || byToken.remoteStartId === null) return byToken && authorityOf(byToken);
  const byId = await remoteStartsIn(translation, remoteStartStreamId(stationId, { remoteStartId: byToken.remoteStartId }));
  const current = byId.entries.find((entry) => entry.operationId === byToken.operationId);
  return current?.status === 'open' ? authorityOf(current) : null;
}

/** A remote-start stream folded as its command handler would (command-side read). */
async function remoteStartsIn(translation: Translation, aggregateId: string): Promise<RemoteStartState> {
  const stream = streamName(remoteStartDecider.aggregateType, translation.tenantId, aggregateId);
  return (await foldStream(translation.deps.eventStore, remoteStartDecider, stream)).state;
}

function claimOf(state: RemoteStartState, stationId: string, transactionId: string): RemoteStartEntry | null {
  return state.entries.find((entry) => entry.status === 'claimed' && entry.stationId === stationId && entry.transactionId === transactionId) ?? null;
}

function authorityOf(entry: RemoteStartEntry): RemoteStartAuthority {
  const { operationId, idToken, authorizationReference, authorizingParty } = entry;
  return { operationId, idToken, authorizationReference, ...(authorizingParty === null ? {} : { authorizingParty }) };
}
