import { InvalidCommandError } from '../shared/errors.js';
import { ForeignTransactionError } from './errors.js';
import { messageContextSchema, type MessageContext } from './events.js';

/**
 * The optional message context (triggerReason, seqNo, offline) of a command, checked, with absent
 * fields left out of the event rather than written as undefined (event data is JSON).
 */
export function contextOf(input: MessageContext, commandType: string): MessageContext {
  const given = { triggerReason: input.triggerReason, seqNo: input.seqNo, offline: input.offline };
  const parsed = messageContextSchema.safeParse(given);
  if (!parsed.success) throw new InvalidCommandError(`invalid message context: ${parsed.error.message}`, commandType);
  const context: { -readonly [K in keyof MessageContext]: MessageContext[K] } = {};
  if (parsed.data.triggerReason !== undefined) context.triggerReason = parsed.data.triggerReason;
  if (parsed.data.seqNo !== undefined) context.seqNo = parsed.data.seqNo;
  if (parsed.data.offline !== undefined) context.offline = parsed.data.offline;
  return context;
}

/**
 * A station may only write to its own transactions: 1.6 transaction ids are small integers a
 * misconfigured or hostile station can simply guess. Refused as a state error (nothing to fix in
 * the content; the transaction is someone else's).
 */
export function checkSameStation(commandStationId: string | null | undefined, transactionStationId: string, commandType: string): void {
  if (commandStationId != null && commandStationId !== transactionStationId) {
    throw new ForeignTransactionError('transaction belongs to another station', commandType);
  }
}
