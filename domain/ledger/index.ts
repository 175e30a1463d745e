import type { Decider } from '../shared/decider.js';
import type { LedgerCommand } from './commands.js';
import { decideLedger } from './decide.js';
import { ledgerAggregateType, type LedgerEvent } from './events.js';
import { evolveLedger, initialLedgerState, type LedgerState } from './state.js';

/** One journal per tenant: stream `ledger-<tenantId>-journal` (see events.ts for why). */
export const ledgerDecider: Decider<LedgerCommand, LedgerState, LedgerEvent> = {
  aggregateType: ledgerAggregateType,
  initialState: initialLedgerState,
  decide: decideLedger,
  evolve: evolveLedger,
};

export const ledgerJournalId = 'journal';

export * from './balance.js';
export * from './commands.js';
export { decideLedger } from './decide.js';
export * from './entries.js';
export * from './events.js';
export * from './state.js';
export * from './trial-balance.js';
export { vatSharesOf, type VatShare } from './vat.js';
