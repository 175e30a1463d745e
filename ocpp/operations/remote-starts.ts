import { v5 as uuidv5 } from 'uuid';
import type { IdToken } from '../../domain/shared/values.js';
import type { StationOperationFailure } from '../../domain/station/operation/events.js';
import { InvalidCommandError } from '../../domain/shared/errors.js';
import { authorizationReferenceSchema, type RemoteStartCommand } from '../../domain/station/remote-start/index.js';
import { checkAuthorizingParty } from '../../domain/transaction/session-authorization.js';
import type { OcppVersion } from '../errors.js';
import type { StationOperation } from './operations.js';

/**
 * Remote starts recorded where the station's later start finds them (domain/station/remote-start):
 * the runner records one before sending RemoteStartTransaction / RequestStartTransaction (a station
 * may send its StartTransaction right behind its answer) and refuses it when the station did not
 * take it; the translators claim it (ocpp/translate/shared/remote-starts.ts).
 */

/** Fixed namespace of remote-start stream ids (uuid v5); changing it would lose open remote starts. */
export const remoteStartNamespace = '0b6f3a2e-9d4c-5e71-8a2b-6c3d4e5f7a81';

/**
 * The stream a station's start can compute: 1.6 names no remote start, only its idTag; 2.0.1 echoes
 * the remoteStartId. An Authorize names only the token: the idTag stream (whose key says 1.6 for
 * history) holds 2.0.1 remote starts too, for it. uuid v5 of bytes: fixed length whatever the ids,
 * and no separator to escape.
 */
export function remoteStartStreamId(stationId: string, by: { readonly idTag: string } | { readonly remoteStartId: number }): string {
  // Case-insensitive idTags (1.6 CiString20): one stream whatever case the station echoes.
  const key = 'idTag' in by ? `1.6\n${stationId}\n${by.idTag.toLowerCase()}` : `2.0.1\n${stationId}\n${by.remoteStartId}`;
  return uuidv5(Buffer.from(key, 'utf8'), remoteStartNamespace);
}

export type RemoteStartOperation = Extract<StationOperation, { name: 'startCharging' }>;

/** Refused before anything is recorded: the reference goes into events and OCPI objects as CiString(36), the party into CDRs. */
export function checkRemoteStart(operation: StationOperation): void {
  if (operation.name !== 'startCharging') return;
  if (operation.authorizingParty !== undefined) checkAuthorizingParty(operation.authorizingParty, operation.name);
  if (operation.authorizationReference === undefined) return;
  if (!authorizationReferenceSchema.safeParse(operation.authorizationReference).success) {
    throw new InvalidCommandError('authorizationReference must be 1 to 36 printable ASCII characters (OCPI CiString(36))', operation.name);
  }
}

/**
 * The command recording a remote start about to be sent, and the stream it goes to (its claims and
 * refusal too). 2.0.1 also records it by token (`tokenStreamId`): its Authorize (AuthorizeRemoteStart)
 * names only the token, and finds it there; that copy is never claimed or refused, the status is
 * the one in `streamId`. 1.6's stream is the token's already.
 */
export function remoteStartRecord(
  version: OcppVersion,
  stationId: string,
  operation: RemoteStartOperation,
  facts: { readonly operationId: string; readonly remoteStartId: number; readonly requestedBy: string; readonly requestedAt: string },
): { readonly streamId: string; readonly tokenStreamId: string | null; readonly command: RemoteStartCommand } {
  const idToken: IdToken = { idToken: operation.idToken.idToken, type: operation.idToken.type };
  const remoteStartId = version === 'ocpp1.6' ? null : facts.remoteStartId;
  const byToken = remoteStartStreamId(stationId, { idTag: idToken.idToken });
  return {
    streamId: remoteStartId === null ? byToken : remoteStartStreamId(stationId, { remoteStartId }),
    tokenStreamId: remoteStartId === null ? null : byToken,
    command: {
      type: 'RecordRemoteStart',
      operationId: facts.operationId,
      stationId,
      evseId: operation.evseId ?? null,
      idToken,
      remoteStartId,
      authorizationReference: operation.authorizationReference ?? null,
      authorizingParty: operation.authorizingParty ?? null,
      requestedBy: facts.requestedBy,
      requestedAt: facts.requestedAt,
    },
  };
}

/**
 * Why no transaction will come of a remote start, or null when one may: Accepted, or no answer
 * (a timeout or a dropped connection: the station may have started anyway).
 */
export function remoteStartRefusal(outcome: { readonly status: string | null } | { readonly failure: StationOperationFailure }): string | null {
  if ('status' in outcome) return outcome.status === 'Accepted' ? null : (outcome.status ?? 'no status');
  const kind = outcome.failure.kind;
  return kind === 'timeout' || kind === 'disconnected' ? null : kind;
}
