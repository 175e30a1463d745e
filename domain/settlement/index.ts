import type { Decider } from '../shared/decider.js';
import type { SettlementCommand } from './commands.js';
import { decideSettlement } from './decide.js';
import { settlementAggregateType, type SettlementEvent } from './events.js';
import { evolveSettlement, initialSettlementState, type SettlementState } from './state.js';

/** One stream per partner, month and currency: `settlement-<tenantId>-<partner>:<YYYY-MM>:<currency>`. */
export const settlementDecider: Decider<SettlementCommand, SettlementState, SettlementEvent> = {
  aggregateType: settlementAggregateType,
  initialState: initialSettlementState,
  decide: decideSettlement,
  evolve: evolveSettlement,
};

/** The stream id part of a settlement period. */
export const settlementPeriodId = (partner: string, period: string, currency: string) => `${partner}:${period}:${currency}`;
/**
 * The stream id part of a period opened before periods were per currency: it holds the period in
 * the currency its SettlementPeriodOpened names, so that currency's period of the month is this one.
 */
export const settlementPeriodIdBeforeCurrencies = (partner: string, period: string) => `${partner}:${period}`;

export * from './carry.js';
export * from './commands.js';
export { decideSettlement } from './decide.js';
export * from './events.js';
export * from './precision.js';
export * from './reconcile.js';
export { reconciledEvent } from './reconciled.js';
export * from './state.js';
