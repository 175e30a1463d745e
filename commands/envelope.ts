import type { RecordedEvent, Position } from '../adapters/event-store/port.js';
import { InvalidCommandError } from '../domain/shared/errors.js';
import { normalizeTimestamp } from '../domain/shared/values.js';

/**
 * A command as gateways send it: the domain command plus who sent it, when, and ids that make a
 * retry recognisable. The commandId must be stable across retries of the same input (e.g. derived
 * from the station id and OCPP message id), or idempotency cannot hold.
 */
export interface CommandEnvelope<TCommand extends { readonly type: string } = { readonly type: string }> {
  readonly commandId: string;
  readonly tenantId: string;
  /** Id of the aggregate within the tenant: station id, transaction id, token id. */
  readonly aggregateId: string;
  /** e.g. `station:CP-1`, `partner:NL-ABC`, `user:alice`. */
  readonly actor: string;
  /** OCPP message id, OCPI request id or GraphQL request id. */
  readonly correlationId: string;
  /** ISO-8601 time on the sender's clock (station, partner). */
  readonly occurredAt: string;
  readonly command: TCommand;
}

export interface CommandResult {
  readonly streamId: string;
  /** The events this command caused, as recorded (also on a duplicate: the original ones). */
  readonly events: readonly RecordedEvent[];
  /** Revision of the stream's last event after the command; 'no_stream' if it still has none. */
  readonly nextExpectedRevision: number | 'no_stream';
  /** Position of the last event appended, or null when the command appended nothing. */
  readonly position: Position | null;
  /** True when the command had been handled before: nothing new was decided or appended. */
  readonly duplicate: boolean;
}

export const envelopeIdLengthMax = 200;

/** Checks the envelope's own fields; returns the normalized occurredAt. */
export function checkEnvelope(envelope: CommandEnvelope): { occurredAt: string } {
  const commandType = typeof envelope.command?.type === 'string' ? envelope.command.type : 'command';
  for (const field of ['commandId', 'tenantId', 'aggregateId', 'actor', 'correlationId'] as const) {
    const value = envelope[field];
    if (typeof value !== 'string' || value.length === 0 || value.length > envelopeIdLengthMax) {
      throw new InvalidCommandError(`envelope ${field} must be 1 to ${envelopeIdLengthMax} characters`, commandType);
    }
  }
  return { occurredAt: normalizeTimestamp(envelope.occurredAt, 'occurredAt', commandType) };
}
