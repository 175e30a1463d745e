import type { IdToken } from '../../shared/values.js';
import type { AuthorizingParty } from '../../transaction/events.js';

/**
 * Commands to the `remoteStart` aggregate. The operation runner (ocpp/operations) records and
 * refuses; the station message translators claim. Times are server time, ISO-8601 with a zone.
 */

export interface RecordRemoteStart {
  readonly type: 'RecordRemoteStart';
  readonly operationId: string;
  readonly stationId: string;
  readonly evseId: number | null;
  readonly idToken: IdToken;
  readonly remoteStartId: number | null;
  readonly authorizationReference: string | null;
  /** The eMSP whose START_SESSION this is; absent or null for an operator's. */
  readonly authorizingParty?: AuthorizingParty | null;
  readonly requestedBy: string;
  readonly requestedAt: string;
}

export interface RefuseRemoteStart {
  readonly type: 'RefuseRemoteStart';
  readonly operationId: string;
  readonly reason: string;
  readonly refusedAt: string;
}

/**
 * A station started a transaction: the newest open remote start of this stream that fits it (same
 * station, its EVSE or none named, its 2.0.1 remoteStartId or 1.6 token, requested within the
 * window; a token the message names must be the remote start's) becomes this transaction's. None
 * fits: nothing is recorded, the start was local (and its token is authorized as any other).
 */
export interface ClaimRemoteStart {
  readonly type: 'ClaimRemoteStart';
  readonly transactionId: string;
  readonly stationId: string;
  /** The EVSE the transaction runs on; absent when the message does not say (2.0.1 Updated). */
  readonly evseId?: number | null;
  /** The token the station names (1.6 idTag, 2.0.1 idToken): always compared (without case); the key when there is no remoteStartId. */
  readonly idToken?: IdToken | null;
  /** 2.0.1 remoteStartId the station echoed. */
  readonly remoteStartId?: number | null;
  /** Server time the start arrived (station clocks drift; the window is measured on ours). */
  readonly claimedAt: string;
}

export type RemoteStartCommand = RecordRemoteStart | RefuseRemoteStart | ClaimRemoteStart;

export const remoteStartCommandTypes = ['RecordRemoteStart', 'RefuseRemoteStart', 'ClaimRemoteStart'] as const satisfies readonly RemoteStartCommand['type'][];
