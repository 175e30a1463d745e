import { assertNever, invariant } from '../shared/assert.js';
import type { LocationEvent } from './events.js';
import type { EvseFacts, LocationFacts } from './facts.js';

export interface EvseState {
  readonly facts: EvseFacts;
  readonly removed: boolean;
}

export type LocationState =
  | { readonly status: 'none' }
  | {
      readonly status: 'declared';
      readonly locationId: string;
      readonly facts: LocationFacts;
      /** By evse uid, removed ones included: a uid is never reused. */
      readonly evses: Readonly<Record<string, EvseState>>;
    };

export const initialLocationState = (): LocationState => ({ status: 'none' });

export function evolveLocation(state: LocationState, event: LocationEvent): LocationState {
  switch (event.type) {
    case 'LocationDeclared':
      invariant(state.status === 'none', `location ${event.data.locationId} declared twice`);
      return { status: 'declared', locationId: event.data.locationId, facts: event.data.facts, evses: {} };
    case 'LocationUpdated':
      invariant(state.status === 'declared', `location ${event.data.locationId} updated before declared`);
      return { ...state, facts: event.data.facts };
    case 'EvseAssigned':
    case 'EvseUpdated':
      invariant(state.status === 'declared', `location ${event.data.locationId}: EVSE before location`);
      return { ...state, evses: { ...state.evses, [event.data.evse.evseUid]: { facts: event.data.evse, removed: false } } };
    case 'EvseRemoved': {
      invariant(state.status === 'declared', `location ${event.data.locationId}: EVSE removed before location`);
      const evse = state.evses[event.data.evseUid];
      invariant(evse !== undefined, `location ${event.data.locationId}: removed unknown EVSE ${event.data.evseUid}`);
      return { ...state, evses: { ...state.evses, [event.data.evseUid]: { ...evse, removed: true } } };
    }
    default:
      return assertNever(event, 'location event');
  }
}
