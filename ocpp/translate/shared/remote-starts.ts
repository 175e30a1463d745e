import type { IdToken } from '../../../domain/shared/values.js';
import type { RemoteStartEventData } from '../../../domain/station/remote-start/events.js';
import { remoteStartStreamId } from '../../operations/remote-starts.js';
import { eventData, type Translation } from './context.js';

/** A remote start a station's start turned out to follow (domain/station/remote-start). */
export type ClaimedRemoteStart = RemoteStartEventData<'RemoteStartClaimed'>;

/**
 * Claims the remote start a station's transaction start follows, if any: the newest open one for
 * this station and token (1.6) or remoteStartId (2.0.1) recorded within the claim window. The
 * command id is the message's content, so a retried start gets the claim it made the first time.
 * null: no remote start fits (a local start), or this transaction already claimed it with another message.
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
): Promise<ClaimedRemoteStart | null> {
  const by = start.remoteStartId !== undefined ? { remoteStartId: start.remoteStartId } : start.idToken ? { idTag: start.idToken.idToken } : null;
  if (by === null) return null;
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
    remoteStartStreamId(translation.stationId, by),
    translation.commandId('claim-remote-start', { contentOnly: true }),
  );
  return eventData<ClaimedRemoteStart>(result, 'RemoteStartClaimed') ?? null;
}
