import { assertNever } from '../shared/assert.js';
import { timeMs } from '../shared/values.js';
import type { TokenEvent, TokenFacts } from './events.js';

export type TokenState =
  | { readonly status: 'none' }
  | {
      readonly status: 'issued';
      readonly facts: TokenFacts;
      readonly blockedReason: string | null;
      readonly expiredAt: string | null;
    };

export const initialTokenState = (): TokenState => ({ status: 'none' });

export function evolveToken(state: TokenState, event: TokenEvent): TokenState {
  switch (event.type) {
    case 'TokenIssued':
      return { status: 'issued', facts: event.data, blockedReason: null, expiredAt: null };
    case 'TokenUpdated': {
      if (state.status !== 'issued') return { status: 'issued', facts: event.data, blockedReason: null, expiredAt: null };
      // New validity later than the recorded expiry renews the token (OCPI PUT with a new valid_until).
      const renewed =
        state.expiredAt !== null && event.data.validUntil !== null && timeMs(event.data.validUntil) > timeMs(state.expiredAt);
      return { ...state, facts: event.data, expiredAt: renewed ? null : state.expiredAt };
    }
    case 'TokenBlocked':
      return state.status === 'issued' ? { ...state, blockedReason: event.data.reason } : state;
    case 'TokenUnblocked':
      return state.status === 'issued' ? { ...state, blockedReason: null } : state;
    case 'TokenExpired':
      return state.status === 'issued' ? { ...state, expiredAt: event.data.expiredAt } : state;
    default:
      return assertNever(event, 'token event');
  }
}

export type TokenAuthorizationStatus = 'Accepted' | 'Blocked' | 'Expired' | 'Invalid' | 'Unknown';

export interface AuthorizationContext {
  /** True when the eMSP cannot be asked now (OCPI real-time authorization failed or is off). */
  readonly realtimeUnavailable?: boolean;
}

/**
 * What a gateway answers to Authorize from what we know of the token at `at` (station time).
 * For OCPI tokens the whitelist decides whether our copy may answer (OCPI 2.2.1 WhitelistType):
 * ALWAYS/ALLOWED: yes; ALLOWED_OFFLINE: only when the eMSP cannot be reached, otherwise Unknown
 * (ask the eMSP); NEVER: Unknown (ask the eMSP), or Invalid when it cannot be reached.
 * Local tokens have no eMSP: the whitelist does not apply.
 */
export function authorizationStatus(state: TokenState, at: string, context: AuthorizationContext = {}): TokenAuthorizationStatus {
  if (state.status === 'none') return 'Unknown';
  if (state.blockedReason !== null) return 'Blocked';
  const atMs = timeMs(at);
  if (Number.isNaN(atMs)) throw new Error(`authorizationStatus: not a time: ${at}`);
  if (state.expiredAt !== null && timeMs(state.expiredAt) <= atMs) return 'Expired';
  if (state.facts.validUntil !== null && timeMs(state.facts.validUntil) <= atMs) return 'Expired';
  if (state.facts.source === 'local') return 'Accepted';
  const offline = context.realtimeUnavailable === true;
  switch (state.facts.whitelist) {
    case 'ALWAYS':
    case 'ALLOWED':
      return 'Accepted';
    case 'ALLOWED_OFFLINE':
      return offline ? 'Accepted' : 'Unknown';
    case 'NEVER':
      return offline ? 'Invalid' : 'Unknown';
    default:
      return assertNever(state.facts.whitelist, 'whitelist');
  }
}

/**
 * True when `authorizationStatus` answers Accepted only because the eMSP cannot be asked: an OCPI
 * token whitelisted ALLOWED_OFFLINE. Recorded as the authorization's basis ('offlineWhitelist'),
 * so such sessions can be checked with the eMSP once it is reachable again.
 */
export function acceptedByOfflineWhitelist(state: TokenState, at: string, context: AuthorizationContext = {}): boolean {
  return (
    state.status === 'issued' &&
    state.facts.source === 'ocpi' &&
    state.facts.whitelist === 'ALLOWED_OFFLINE' &&
    authorizationStatus(state, at, context) === 'Accepted'
  );
}
