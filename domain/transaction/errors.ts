import { IllegalStateError } from '../shared/errors.js';

/**
 * Refusals a gateway answers differently from other state errors (ocpp/translate/shared/refusals.ts):
 * both stay IllegalStateErrors, so every caller that does not care keeps treating them alike.
 */

/** A station named a transaction that another station started: not its to write (an entitlement problem). */
export class ForeignTransactionError extends IllegalStateError {}

/** The transaction named has no start: an id we never gave out, or a start that was never received. */
export class TransactionNotStartedError extends IllegalStateError {}
