import type { Decider } from '../shared/decider.js';
import type { CdrCommand } from './commands.js';
import { decideCdr } from './decide.js';
import { cdrAggregateType, type CdrEvent } from './events.js';
import { evolveCdr, initialCdrState, type CdrState } from './state.js';

/** One stream per CDR: `cdr-<tenantId>-<cdrId>` (credit and corrected CDRs have their own). */
export const cdrDecider: Decider<CdrCommand, CdrState, CdrEvent> = {
  aggregateType: cdrAggregateType,
  initialState: initialCdrState,
  decide: decideCdr,
  evolve: evolveCdr,
};

export * from './commands.js';
export { creditCdrFrom } from './credit.js';
export { decideCdr } from './decide.js';
export * from './events.js';
export * from './money.js';
export * from './ocpi.js';
export * from './state.js';
export { checkCdrRules } from './validate.js';
