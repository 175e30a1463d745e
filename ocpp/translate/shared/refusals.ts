import { invariant } from '../../../domain/shared/assert.js';
import { IllegalStateError } from '../../../domain/shared/errors.js';
import type { MessageRefusalReason } from '../../../domain/station/refusals.js';
import { ForeignTransactionError, TransactionNotStartedError } from '../../../domain/transaction/errors.js';
import { envelopeIdLengthMax } from '../../../commands/envelope.js';
import { OcppCallError } from '../../errors.js';
import type { Translation } from './context.js';

/**
 * The one rule for station messages about a transaction (ocpp/README.md, "Acknowledged means
 * recorded"): a CALLRESULT means the message is in the event log, as the fact or as a
 * StationMessageRefused on the sending station's stream.
 * - The transaction belongs to another station: CALLERROR SecurityError, and the refusal recorded.
 * - No such transaction, or a state conflict a retry cannot fix (a reading after the end, a second
 *   end with other facts): answered as received (a CALLERROR would only make the station retry it,
 *   1.6 §4.7, 2.0.1 E14, while its queue waits) and the refusal recorded.
 * Content errors (InvalidCommandError) stay CALLERRORs and are not recorded.
 */

/** Which fact of the message was refused: part of the refusal's identity, so each is recorded once. */
export type RefusedFact = 'reading' | 'end' | 'chargingState' | 'authorization';

export interface RefusalTarget {
  /** The transaction as the station named it. */
  readonly transactionId: string;
  readonly fact: RefusedFact;
  /** For the record: which part of the message, e.g. "reading 2". */
  readonly what: string;
}

function reasonOf(error: IllegalStateError): MessageRefusalReason {
  if (error instanceof ForeignTransactionError) return 'foreignTransaction';
  if (error instanceof TransactionNotStartedError) return 'unknownTransaction';
  return 'stateConflict';
}

/**
 * Records the refusal on the station's stream. One per (reason, action, fact, transaction): the
 * command id says only that, so a retry, a resend under a new message id, or the next of a flood of
 * readings for the same transaction appends nothing. The station aggregate caps how many distinct
 * ones a minute adds (domain/station/refusals.ts) and refuses beyond that (IllegalStateError).
 */
export async function recordRefusal(translation: Translation, reason: MessageRefusalReason, target: RefusalTarget, detail: string): Promise<void> {
  const commandId = `${translation.stationId}:refused:${reason}:${translation.action}:${target.fact}:${target.transactionId}`;
  invariant(commandId.length <= envelopeIdLengthMax, `refusal command id of ${commandId.length} characters`);
  await translation.send(
    {
      type: 'RecordMessageRefusal',
      action: translation.action,
      messageId: translation.call.messageId,
      reason,
      transactionId: target.transactionId,
      detail: `${target.what}: ${detail}`,
      refusedAt: translation.nowIso(),
    },
    translation.stationId,
    commandId,
  );
}

/** Runs `work` (one command about the named transaction) and applies the rule above to its state refusals. */
export async function recordOrRefuse(translation: Translation, target: RefusalTarget, work: () => Promise<unknown>): Promise<void> {
  try {
    await work();
    return;
  } catch (error) {
    if (!(error instanceof IllegalStateError)) throw error;
    const reason = reasonOf(error);
    if (reason !== 'foreignTransaction') {
      await recordRefusal(translation, reason, target, error.message);
      return;
    }
    try {
      await recordRefusal(translation, reason, target, error.message);
    } catch (recordError) {
      // Over the station's refusal rate: the answer is a CALLERROR either way, nothing claims a record.
      if (!(recordError instanceof IllegalStateError)) throw recordError;
      translation.unrecorded(`refusal not recorded: ${recordError.message}`);
    }
    throw new OcppCallError('SecurityError', `transaction ${target.transactionId} belongs to another station`);
  }
}
