import type { Decider } from '../shared/decider.js';
import type { TransactionCommand } from './commands.js';
import { decideTransaction } from './decide.js';
import { transactionAggregateType, type TransactionEvent } from './events.js';
import { evolveTransaction, initialTransactionState, type TransactionState } from './state.js';

export const transactionDecider: Decider<TransactionCommand, TransactionState, TransactionEvent> = {
  aggregateType: transactionAggregateType,
  initialState: initialTransactionState,
  decide: decideTransaction,
  evolve: evolveTransaction,
};

export * from './commands.js';
export * from './events.js';
export { decideTransaction, meterReadingsPerTransactionMax } from './decide.js';
export { chargingStateChangesPerTransactionMax } from './charging-state.js';
export * from './state.js';
export { ForeignTransactionError, TransactionNotStartedError } from './errors.js';
export * from './session-authorization.js';
