import type { Decider } from '../shared/decider.js';
import type { LocationCommand } from './commands.js';
import { decideLocation } from './decide.js';
import { locationAggregateType, type LocationEvent } from './events.js';
import { evolveLocation, initialLocationState, type LocationState } from './state.js';

/** One stream per OCPI location: `location-<tenantId>-<locationId>`, its EVSEs inside. */
export const locationDecider: Decider<LocationCommand, LocationState, LocationEvent> = {
  aggregateType: locationAggregateType,
  initialState: initialLocationState,
  decide: decideLocation,
  evolve: evolveLocation,
};

export * from './commands.js';
export { decideLocation } from './decide.js';
export * from './events.js';
export * from './facts.js';
export * from './state.js';
