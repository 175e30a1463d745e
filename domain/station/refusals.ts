import { z } from 'zod';
import { defineEvent, eventFrom, type EventOf } from '../shared/event-definition.js';
import { IllegalStateError, InvalidCommandError } from '../shared/errors.js';
import { checkText, isoTimestamp, normalizeTimestamp, timeMs } from '../shared/values.js';

/**
 * A station message the CSMS refused to record as a fact, recorded as a refusal instead, so that
 * every acknowledged transaction message is in the event log one way or the other (ocpp/README.md,
 * "Acknowledged means recorded"). Lives on the SENDING station's stream: it says what that station
 * did; the transaction it named is left untouched.
 */

/**
 * - foreignTransaction: the transaction was started by another station (answered SecurityError);
 * - unknownTransaction: no transaction of that id has started (an id we never gave out, or a start
 *   we never received);
 * - stateConflict: the transaction refuses the fact (a reading sampled after its end, a second end
 *   with other facts...): a retry cannot fix it.
 */
export const messageRefusalReasons = ['foreignTransaction', 'unknownTransaction', 'stateConflict'] as const;
export type MessageRefusalReason = (typeof messageRefusalReasons)[number];

/**
 * Refusals recorded per station per window. A station spamming refused messages could otherwise
 * grow its stream without limit: gateways record one refusal per (reason, action, transaction)
 * (deterministic command id), and this caps how many distinct ones a minute may add. Beyond it the
 * command is refused and the gateway answers a CALLERROR, so nothing is acknowledged unrecorded.
 */
export const stationRefusalsPerWindowMax = 20;
export const stationRefusalWindowMs = 60_000;
/** The domain's refusal text, as kept on the event. */
export const refusalDetailCharsMax = 500;

export const StationMessageRefused = defineEvent({
  type: 'StationMessageRefused',
  aggregateType: 'station',
  schemaVersion: 1,
  schema: z.object({
    /** The OCPP action (MeterValues, StopTransaction, TransactionEvent...). */
    action: z.string().min(1).max(50),
    /** Message id of the first CALL refused for this (reason, action, transaction). */
    messageId: z.string().min(1).max(36),
    reason: z.enum(messageRefusalReasons),
    /** The transaction as the station named it (1.6 integer as text, 2.0.1 station transaction id). */
    transactionId: z.string().min(1).max(64).nullable(),
    detail: z.string().min(1).max(refusalDetailCharsMax),
    /** Server time: the station's own times are part of the refused facts, not of the refusal. */
    refusedAt: isoTimestamp,
  }),
});
export type StationMessageRefusedEvent = EventOf<typeof StationMessageRefused>;

export interface RecordMessageRefusal {
  readonly type: 'RecordMessageRefusal';
  readonly action: string;
  readonly messageId: string;
  readonly reason: MessageRefusalReason;
  readonly transactionId?: string | null;
  readonly detail: string;
  readonly refusedAt: string;
}

/** Refusals recorded in the current window (server time); null before the first. */
export interface RefusalWindow {
  readonly startedAtMs: number;
  readonly count: number;
}

export function decideMessageRefusal(command: RecordMessageRefusal, window: RefusalWindow | null): StationMessageRefusedEvent[] {
  const type = command.type;
  if (!messageRefusalReasons.includes(command.reason)) throw new InvalidCommandError(`unknown refusal reason ${String(command.reason)}`, type);
  const refusedAt = normalizeTimestamp(command.refusedAt, 'refusedAt', type);
  if (window !== null && inWindow(window, timeMs(refusedAt)) && window.count >= stationRefusalsPerWindowMax) {
    throw new IllegalStateError(`more than ${stationRefusalsPerWindowMax} refused messages in ${stationRefusalWindowMs / 1000} s; retry later`, type);
  }
  return [
    eventFrom(StationMessageRefused, {
      action: checkText(command.action, 'action', 50, type),
      messageId: checkText(command.messageId, 'messageId', 36, type),
      reason: command.reason,
      transactionId: command.transactionId == null ? null : checkText(command.transactionId, 'transactionId', 64, type),
      // Cut, not refused: the detail is our own error text, and losing the refusal over it would be worse.
      detail: checkText(command.detail.slice(0, refusalDetailCharsMax), 'detail', refusalDetailCharsMax, type),
      refusedAt,
    }),
  ];
}

export function evolveRefusalWindow(window: RefusalWindow | null, event: StationMessageRefusedEvent): RefusalWindow {
  const atMs = timeMs(event.data.refusedAt);
  return window !== null && inWindow(window, atMs) ? { startedAtMs: window.startedAtMs, count: window.count + 1 } : { startedAtMs: atMs, count: 1 };
}

// A time before the window's start (another node's clock slightly behind) counts in the window.
function inWindow(window: RefusalWindow, atMs: number): boolean {
  return atMs - window.startedAtMs < stationRefusalWindowMs;
}
