import type { Decider } from '../../shared/decider.js';
import type { StationOperationCommand } from './commands.js';
import { decideStationOperation } from './decide.js';
import { stationOperationAggregateType, type StationOperationEvent } from './events.js';
import { evolveStationOperation, initialStationOperationState, type StationOperationState } from './state.js';

export const stationOperationDecider: Decider<StationOperationCommand, StationOperationState, StationOperationEvent> = {
  aggregateType: stationOperationAggregateType,
  initialState: initialStationOperationState,
  decide: decideStationOperation,
  evolve: evolveStationOperation,
};

export * from './commands.js';
export * from './events.js';
export { answerStatus, decideStationOperation } from './decide.js';
export * from './state.js';
