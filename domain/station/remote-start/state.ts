import { assertNever } from '../../shared/assert.js';
import type { IdToken } from '../../shared/values.js';
import { timeMs } from '../../shared/values.js';
import type { AuthorizingParty } from '../../transaction/events.js';
import type { RemoteStartEvent } from './events.js';

/**
 * Remote starts of a stream kept in its state, newest last. A stream is one station and one token
 * (1.6) or remoteStartId (2.0.1), so only a driver starting again and again remotely fills it;
 * older entries are long past the claim window, so dropping them changes no decision.
 */
export const remoteStartsKeptMax = 20;

export interface RemoteStartEntry {
  readonly operationId: string;
  readonly stationId: string;
  readonly evseId: number | null;
  readonly idToken: IdToken;
  readonly remoteStartId: number | null;
  readonly authorizationReference: string | null;
  readonly authorizingParty: AuthorizingParty | null;
  readonly requestedAtMs: number;
  readonly status: 'open' | 'refused' | 'claimed';
  /** The transaction that claimed it. */
  readonly transactionId: string | null;
}

export interface RemoteStartState {
  readonly entries: readonly RemoteStartEntry[];
}

export const initialRemoteStartState = (): RemoteStartState => ({ entries: [] });

function withEntry(state: RemoteStartState, operationId: string, change: (entry: RemoteStartEntry) => RemoteStartEntry): RemoteStartState {
  return { entries: state.entries.map((entry) => (entry.operationId === operationId ? change(entry) : entry)) };
}

export function evolveRemoteStart(state: RemoteStartState, event: RemoteStartEvent): RemoteStartState {
  switch (event.type) {
    case 'RemoteStartRequested': {
      const { operationId, stationId, evseId, idToken, remoteStartId, authorizationReference, requestedAt } = event.data;
      const authorizingParty = event.data.authorizingParty ?? null;
      const entry: RemoteStartEntry = { operationId, stationId, evseId, idToken, remoteStartId, authorizationReference, authorizingParty, requestedAtMs: timeMs(requestedAt), status: 'open', transactionId: null };
      return { entries: [...state.entries, entry].slice(-remoteStartsKeptMax) };
    }
    case 'RemoteStartRefused':
      return withEntry(state, event.data.operationId, (entry) => ({ ...entry, status: 'refused' }));
    case 'RemoteStartClaimed':
      return withEntry(state, event.data.operationId, (entry) => ({ ...entry, status: 'claimed', transactionId: event.data.transactionId }));
    default:
      return assertNever(event, 'remote start event');
  }
}
