import { assertNever } from '../shared/assert.js';
import type { PartnerConnection } from './commands.js';
import type { PartnerEvent } from './events.js';

export type PartnerState =
  | { readonly status: 'none' }
  /** A registration token exists (A, or our B mid-handshake); nothing else may be called with it. */
  | { readonly status: 'pending'; readonly tokenHash: string; readonly previous: PartnerConnection | null }
  | {
      readonly status: 'registered';
      readonly initiatedBy: 'partner' | 'us';
      readonly connection: PartnerConnection;
      /** Hash of the token they present to us. */
      readonly tokenHash: string;
      /** The token we present to them, sealed; null only between the events of one command. */
      readonly tokenSealed: string | null;
    }
  /** Every token revoked; the last connection is kept for the record. */
  | { readonly status: 'unregistered'; readonly connection: PartnerConnection };

export const initialPartnerState = (): PartnerState => ({ status: 'none' });

export function evolvePartner(state: PartnerState, event: PartnerEvent): PartnerState {
  switch (event.type) {
    case 'PartnerRegistered': {
      const { initiatedBy, ...connection } = event.data;
      const tokenHash = state.status === 'pending' ? state.tokenHash : '';
      return { status: 'registered', initiatedBy, connection, tokenHash, tokenSealed: null };
    }
    case 'CredentialsTokenIssued': {
      const data = event.data;
      if (data.presentedBy === 'partner') {
        if (state.status === 'registered') return { ...state, tokenHash: data.tokenHash };
        return { status: 'pending', tokenHash: data.tokenHash, previous: state.status === 'unregistered' ? state.connection : state.status === 'pending' ? state.previous : null };
      }
      return state.status === 'registered' ? { ...state, tokenSealed: data.tokenSealed } : state;
    }
    case 'PartnerUpdated':
      return state.status === 'registered' ? { ...state, connection: event.data } : state;
    case 'PartnerUnregistered':
      return state.status === 'registered' ? { status: 'unregistered', connection: state.connection } : state;
    case 'ClientInfoReported':
      // The reported parties live in the read model; the aggregate's rules do not depend on them.
      return state;
    default:
      return assertNever(event, 'partner event');
  }
}
