import type { Decider } from '../shared/decider.js';
import type { StationCommand } from './commands.js';
import { decideStation } from './decide.js';
import { stationAggregateType, type StationEvent } from './events.js';
import { evolveStation, initialStationState, type StationState } from './state.js';

export const stationDecider: Decider<StationCommand, StationState, StationEvent> = {
  aggregateType: stationAggregateType,
  initialState: initialStationState,
  decide: decideStation,
  evolve: evolveStation,
};

export * from './commands.js';
export * from './events.js';
export { configurationEntriesPerCommandMax, decideStation } from './decide.js';
export * from './state.js';
// CSMS→station operations: an aggregate of their own (see operation/events.ts for why).
export * from './operation/index.js';
// Remote starts, kept under an id the station's later start can find (remote-start/events.ts).
export * from './remote-start/index.js';
// Reservations, kept under an id the transaction that uses one can find (reservation/events.ts).
export * from './reservation/index.js';
