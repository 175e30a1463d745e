import type { Decider } from '../shared/decider.js';
import type { PartnerCommand } from './commands.js';
import { decidePartner } from './decide.js';
import { partnerAggregateType, type PartnerEvent } from './events.js';
import { evolvePartner, initialPartnerState, type PartnerState } from './state.js';

export const partnerDecider: Decider<PartnerCommand, PartnerState, PartnerEvent> = {
  aggregateType: partnerAggregateType,
  initialState: initialPartnerState,
  decide: decidePartner,
  evolve: evolvePartner,
};

export * from './commands.js';
export * from './events.js';
export { decidePartner } from './decide.js';
export * from './state.js';
