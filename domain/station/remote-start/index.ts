import type { Decider } from '../../shared/decider.js';
import type { RemoteStartCommand } from './commands.js';
import { decideRemoteStart } from './decide.js';
import { remoteStartAggregateType, type RemoteStartEvent } from './events.js';
import { evolveRemoteStart, initialRemoteStartState, type RemoteStartState } from './state.js';

export const remoteStartDecider: Decider<RemoteStartCommand, RemoteStartState, RemoteStartEvent> = {
  aggregateType: remoteStartAggregateType,
  initialState: initialRemoteStartState,
  decide: decideRemoteStart,
  evolve: evolveRemoteStart,
};

export * from './commands.js';
export * from './events.js';
export { decideRemoteStart, openRemoteStartFor, remoteStartClaimWindowMs, remoteStartClockSkewMs } from './decide.js';
export * from './state.js';
