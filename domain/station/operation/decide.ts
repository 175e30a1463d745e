import { assertNever } from '../../shared/assert.js';
import { eventFrom } from '../../shared/event-definition.js';
import { IllegalStateError, InvalidCommandError } from '../../shared/errors.js';
import { checkText, normalizeTimestamp, sameJson } from '../../shared/values.js';
import type { StationOperationCommand } from './commands.js';
import {
  StationOperationAnswered,
  StationOperationFailed,
  StationOperationRequested,
  stationOperationFailureSchema,
  type StationOperationEvent,
} from './events.js';
import type { StationOperationState } from './state.js';

/** Longest status string kept from an answer; OCPP's longest status enum value is 27 characters. */
const answerStatusCharsMax = 50;

/**
 * One request, then exactly one outcome. A repeated command is recognised by the command handler
 * (same command id) before it gets here; a second, different outcome is refused: the first one
 * was a fact, and a station cannot both answer and time out the same call.
 */
export function decideStationOperation(command: StationOperationCommand, state: StationOperationState): StationOperationEvent[] {
  switch (command.type) {
    case 'RequestStationOperation': {
      const operationId = checkText(command.operationId, 'operationId', 100, command.type);
      const stationId = checkText(command.stationId, 'stationId', 48, command.type);
      const name = checkText(command.operation?.name, 'operation name', 50, command.type);
      const requestedBy = checkText(command.requestedBy, 'requestedBy', 200, command.type);
      const requestedAt = normalizeTimestamp(command.requestedAt, 'requestedAt', command.type);
      const sent = [command.ocppVersion, command.action, command.request];
      // All three or none: a request is either addressed to a connection's version, or to no connection.
      if (!(sent.every((value) => value === null) || sent.every((value) => value !== null))) {
        throw new InvalidCommandError('ocppVersion, action and request go together', command.type);
      }
      if (state.status !== 'none') {
        if (state.operationId === operationId && state.stationId === stationId && state.name === name) return [];
        throw new IllegalStateError(`operation ${operationId} already exists`, command.type);
      }
      return [
        eventFrom(StationOperationRequested, {
          operationId,
          stationId,
          operation: { name, params: json(command.operation.params, 'params', command.type) },
          ocppVersion: command.ocppVersion,
          action: command.action,
          request: command.request === null ? null : json(command.request, 'request', command.type),
          requestedBy,
          requestedAt,
        }),
      ];
    }
    case 'RecordStationOperationAnswer': {
      const answeredAt = normalizeTimestamp(command.answeredAt, 'answeredAt', command.type);
      checkOpen(state, command.operationId, command.type);
      const answer = json(command.answer, 'answer', command.type);
      return [eventFrom(StationOperationAnswered, { operationId: command.operationId, status: answerStatus(answer), answer, answeredAt })];
    }
    case 'RecordStationOperationFailure': {
      const failedAt = normalizeTimestamp(command.failedAt, 'failedAt', command.type);
      checkOpen(state, command.operationId, command.type);
      const parsed = stationOperationFailureSchema.safeParse(command.reason);
      if (!parsed.success) throw new InvalidCommandError(`invalid failure reason: ${parsed.error.message}`, command.type);
      return [eventFrom(StationOperationFailed, { operationId: command.operationId, reason: parsed.data, failedAt })];
    }
    default:
      return assertNever(command, 'station operation command');
  }
}

function checkOpen(state: StationOperationState, operationId: string, commandType: string): void {
  if (state.status === 'none') throw new IllegalStateError(`operation ${operationId} was never requested`, commandType);
  if (state.operationId !== operationId) throw new InvalidCommandError(`operation id ${operationId} is not this stream's ${state.operationId}`, commandType);
  if (state.status !== 'requested') throw new IllegalStateError(`operation ${operationId} already ${state.status}`, commandType);
}

/** The answer's own `status`, when it has one that reads as a status word. */
export function answerStatus(answer: Readonly<Record<string, unknown>>): string | null {
  const status = answer.status;
  return typeof status === 'string' && status.length > 0 && status.length <= answerStatusCharsMax ? status : null;
}

/** Event data is JSON: a round trip drops undefined fields and refuses what JSON cannot hold. */
function json(value: unknown, field: string, commandType: string): Record<string, never> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidCommandError(`${field} must be a JSON object`, commandType);
  }
  const copy = JSON.parse(JSON.stringify(value)) as Record<string, never>;
  // NaN and Infinity become null on the way; refuse instead of recording something else than was given.
  if (!sameJson(copy, value)) throw new InvalidCommandError(`${field} is not plain JSON`, commandType);
  return copy;
}
