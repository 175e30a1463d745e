import type { Decider } from '../shared/decider.js';
import type { SettlementCommand } from './commands.js';
import { decideSettlement } from './decide.js';
import { settlementAggregateType, type SettlementEvent } from './events.js';
import { evolveSettlement, initialSettlementState, type SettlementState } from './state.js';

/** One stream per partner and month: `settlement-<tenantId>-<partner>:<YYYY-MM>`. */
export const settlementDecider: Decider<SettlementCommand, SettlementState, SettlementEvent> = {
  aggregateType: settlementAggregateType,
  initialState: initialSettlementState,
  decide: decideSettlement,
  evolve: evolveSettlement,
};

/** The stream id part of a settlement period. */
export const settlementPeriodId = (partner: string, period: string) => `${partner}:${period}`;

export * from './commands.js';
export { decideSettlement } from './decide.js';
export * from './events.js';
export * from './reconcile.js';
export { reconciledEvent } from './reconciled.js';
export * from './state.js';
