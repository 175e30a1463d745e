import { randomUUID } from 'node:crypto';
import type { Clock } from '../../adapters/clock/clock.js';
import type { EventStore } from '../../adapters/event-store/port.js';
import type { CommandEnvelope, CommandResult } from '../../commands/envelope.js';
import { invariant } from '../../domain/shared/assert.js';
import { IllegalStateError, InvalidCommandError } from '../../domain/shared/errors.js';
import type { OcppVersion as DomainOcppVersion } from '../../domain/shared/values.js';
import type { StationOperationCommand } from '../../domain/station/operation/commands.js';
import { answerStatus } from '../../domain/station/operation/decide.js';
import type { StationOperationFailure } from '../../domain/station/operation/events.js';
import type { RemoteStartCommand } from '../../domain/station/remote-start/commands.js';
import type { ReservationCommand } from '../../domain/station/reservation/commands.js';
import { StationCallError, truncateDescription, type OcppVersion } from '../errors.js';
import { ocppSchemas } from '../schemas.js';
import type { StationCaller } from '../types.js';
import { ocppRequestFor, requestIdFor, type OcppRequest } from './mapping.js';
import { stationOperationNames, transactionIdsIn, type StationOperation } from './operations.js';
import { checkRemoteStart, remoteStartRecord, remoteStartRefusal } from './remote-starts.js';
import { checkReservation, reservationRecord } from './reservations.js';
import { createTransactionLookup, type TransactionLookup } from './transactions.js';

/**
 * Longest an operator may ask to wait for a station. The gateway's own default (30 s) suits most
 * calls; a few stations take minutes to answer GetDiagnostics or a big SendLocalList, but a CLI or
 * HTTP request held longer than this is better retried than kept open.
 */
export const stationOperationTimeoutMsMax = 5 * 60_000;
/** Error descriptions kept in a Failed event (the station's CALLERROR text is cut at 255 by the gateway too). */
const failureDescriptionCharsMax = 1_000;

/**
 * Anything that handles station-operation commands and, for remote starts and reservations, their
 * commands (domain/station/remote-start, domain/station/reservation): the command bus (commands/bus.ts).
 */
export interface StationOperationCommandSender {
  send(envelope: CommandEnvelope<StationOperationCommand | RemoteStartCommand | ReservationCommand>): Promise<CommandResult>;
}

export interface StationOperationsDeps {
  readonly bus: StationOperationCommandSender;
  readonly caller: StationCaller;
  readonly clock: Clock;
  readonly tenantId: string;
  /** For stopCharging and tx charging profiles: the transaction's stream gives the station's id for it. */
  readonly eventStore: EventStore;
  /** Replaces the lookup through `eventStore` (tests). */
  readonly transactions?: TransactionLookup;
}

export interface RunOptions {
  /** Who asked: `user:alice`, `partner:NL-ABC`, `system:smart-charging`. */
  readonly actor: string;
  /** The request that caused it (GraphQL/REST request id, OCPI command id). */
  readonly correlationId: string;
  /** Default: the gateway's call timeout. At most `stationOperationTimeoutMsMax`. */
  readonly timeoutMs?: number;
  /** Caller-chosen id (e.g. to make an OCPI command idempotent); default a new uuid. */
  readonly operationId?: string;
}

export type StationOperationResult =
  | {
      readonly operationId: string;
      readonly outcome: 'answered';
      readonly ocppVersion: DomainOcppVersion;
      readonly action: string;
      /** The answer's status word (Accepted, Rejected, Scheduled...), null when it has none. */
      readonly status: string | null;
      readonly answer: Record<string, unknown>;
    }
  | {
      readonly operationId: string;
      readonly outcome: 'failed';
      readonly ocppVersion: DomainOcppVersion | null;
      readonly action: string | null;
      readonly reason: StationOperationFailure;
    };

export interface StationOperations {
  /**
   * Records the request, sends it to the station, records the answer or the failure and returns
   * it. A failure to reach or hear from the station is a result (`outcome: 'failed'`), not an
   * error. Throws, recording nothing, when the operation is wrong for the station (InvalidCommandError:
   * not expressible in its OCPP version, invalid against the official schema, unknown transaction)
   * or was run before under the same operation id (IllegalStateError).
   */
  run(stationId: string, operation: StationOperation, options: RunOptions): Promise<StationOperationResult>;
}

/**
 * CSMS→station operations (issue "OCPP 1.6J and 2.0.1 gateway"). Only stations connected to this
 * node are reachable: `caller` is this node's gateway. Routing to the node holding the station's
 * WebSocket (docs/design.md, "Scale-out": Redis presence) is not done here; such a station fails
 * `not-connected`.
 */
export function createStationOperations(deps: StationOperationsDeps): StationOperations {
  const transactions = deps.transactions ?? createTransactionLookup(deps.eventStore);

  async function send(operationId: string, suffix: string, command: StationOperationCommand | RemoteStartCommand | ReservationCommand, options: RunOptions, aggregateId = operationId) {
    return deps.bus.send({
      // Deterministic: a retried send is recognised by the command handler and appends nothing.
      commandId: `stationOperation:${operationId}:${suffix}`,
      tenantId: deps.tenantId,
      aggregateId,
      actor: options.actor,
      correlationId: options.correlationId,
      occurredAt: deps.clock.now().toISOString(),
      command,
    });
  }

  async function stationTransactionIds(stationId: string, operation: StationOperation): Promise<Map<string, string>> {
    const ids = new Map<string, string>();
    for (const transactionId of transactionIdsIn(operation)) {
      const found = await transactions.find(deps.tenantId, transactionId);
      if (!found) throw new InvalidCommandError(`unknown transaction ${transactionId}`, operation.name);
      if (found.stationId !== stationId) throw new InvalidCommandError(`transaction ${transactionId} runs on ${found.stationId}, not ${stationId}`, operation.name);
      if (found.ended && operation.name !== 'getTransactionStatus') throw new IllegalStateError(`transaction ${transactionId} has ended`, operation.name);
      // 2.0.1 transactions the translator recorded without a station id are known by ours.
      ids.set(transactionId, found.stationTransactionId ?? transactionId);
    }
    return ids;
  }

  async function prepare(stationId: string, version: OcppVersion, operation: StationOperation, operationId: string): Promise<OcppRequest> {
    const ids = await stationTransactionIds(stationId, operation);
    const request = ocppRequestFor(version, operation, {
      requestId: requestIdFor(operationId),
      stationTransactionId: (transactionId) => {
        const id = ids.get(transactionId);
        invariant(id !== undefined, `transaction ${transactionId} looked up before mapping`);
        return id;
      },
    });
    // Checked here as well as in the gateway, so a wrong operation is refused before it is recorded.
    const schemas = ocppSchemas();
    if (!schemas.isCsmsInitiated(version, request.action)) {
      throw new InvalidCommandError(`${request.action} is not a CSMS→station action in OCPP ${domainVersion(version)}`, operation.name);
    }
    const violation = schemas.validate(version, request.action, 'Request', request.payload);
    if (violation) throw new InvalidCommandError(`${request.action} payload: ${violation.description}`, operation.name);
    return request;
  }

  return {
    async run(stationId, operation, options) {
      if (!stationOperationNames.includes(operation?.name)) throw new InvalidCommandError(`unknown operation ${String(operation?.name)}`);
      if (options.timeoutMs !== undefined && !(Number.isSafeInteger(options.timeoutMs) && options.timeoutMs > 0 && options.timeoutMs <= stationOperationTimeoutMsMax)) {
        throw new InvalidCommandError(`timeoutMs must be 1 to ${stationOperationTimeoutMsMax}`, operation.name);
      }
      checkRemoteStart(operation);
      checkReservation(operation);
      const operationId = options.operationId ?? randomUUID();
      const version = deps.caller.versionOf(stationId);
      const request = version === undefined ? null : await prepare(stationId, version, operation, operationId);
      const ocppVersion = version === undefined ? null : domainVersion(version);
      const { name, ...params } = operation;
      const requested = await send(
        operationId,
        'requested',
        {
          type: 'RequestStationOperation',
          operationId,
          stationId,
          operation: { name, params },
          ocppVersion,
          action: request?.action ?? null,
          request: request?.payload ?? null,
          requestedBy: options.actor,
          requestedAt: deps.clock.now().toISOString(),
        },
        options,
      );
      // Sending again would run a non-idempotent command (a reset, a remote start) twice.
      if (requested.duplicate || requested.events.length === 0) throw new IllegalStateError(`operation ${operationId} was run before`, operation.name);

      // A remote start is recorded where the station's start will find it, before the station can send that start.
      const remoteStart =
        operation.name === 'startCharging' && version !== undefined
          ? remoteStartRecord(version, stationId, operation, { operationId, remoteStartId: requestIdFor(operationId), requestedBy: options.actor, requestedAt: deps.clock.now().toISOString() })
          : null;
      if (remoteStart !== null) await send(operationId, 'remote-start', remoteStart.command, options, remoteStart.streamId);
      if (remoteStart?.tokenStreamId) await send(operationId, 'remote-start-by-token', remoteStart.command, options, remoteStart.tokenStreamId);
      // A reservation likewise, where the transaction that uses it (by its reservationId) finds it.
      if (operation.name === 'reserveNow' && version !== undefined) {
        const reservation = reservationRecord(stationId, operation, { operationId, requestedBy: options.actor, requestedAt: deps.clock.now().toISOString() });
        await send(operationId, 'reservation', reservation.command, options, reservation.streamId);
      }
      const settleRemoteStart = async (outcome: Parameters<typeof remoteStartRefusal>[0]) => {
        const reason = remoteStart === null ? null : remoteStartRefusal(outcome);
        if (remoteStart === null || reason === null) return;
        await send(operationId, 'remote-start-refused', { type: 'RefuseRemoteStart', operationId, reason, refusedAt: deps.clock.now().toISOString() }, options, remoteStart.streamId);
      };

      const fail = async (reason: StationOperationFailure): Promise<StationOperationResult> => {
        await send(operationId, 'outcome', { type: 'RecordStationOperationFailure', operationId, reason, failedAt: deps.clock.now().toISOString() }, options);
        await settleRemoteStart({ failure: reason });
        return { operationId, outcome: 'failed', ocppVersion, action: request?.action ?? null, reason };
      };
      if (version === undefined || request === null || ocppVersion === null) return fail({ kind: 'not-connected' });

      let answer: Record<string, unknown>;
      try {
        const callOptions = options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs };
        answer = (await deps.caller.call(stationId, request.action, request.payload, callOptions)) as Record<string, unknown>;
      } catch (error) {
        // StationCaller rejects only with StationCallError; anything else is a bug, and the operation stays open.
        if (!(error instanceof StationCallError)) throw error;
        return fail(failureOf(error, options.timeoutMs));
      }
      await send(operationId, 'outcome', { type: 'RecordStationOperationAnswer', operationId, answer, answeredAt: deps.clock.now().toISOString() }, options);
      await settleRemoteStart({ status: answerStatus(answer) });
      return { operationId, outcome: 'answered', ocppVersion, action: request.action, status: answerStatus(answer), answer };
    },
  };
}

function domainVersion(version: OcppVersion): DomainOcppVersion {
  return version === 'ocpp1.6' ? '1.6' : '2.0.1';
}

function failureOf(error: StationCallError, timeoutMs: number | undefined): StationOperationFailure {
  const description = error.message.slice(0, failureDescriptionCharsMax);
  switch (error.kind) {
    case 'notConnected':
      return { kind: 'not-connected' };
    case 'disconnected':
      return { kind: 'disconnected' };
    case 'timeout':
      return { kind: 'timeout', timeoutMs: timeoutMs ?? null };
    case 'callError': {
      const received = error as StationCallError & { code?: unknown; description?: unknown };
      return { kind: 'call-error', code: String(received.code).slice(0, 50), description: truncateDescription(String(received.description ?? '')) };
    }
    case 'queueFull':
      return { kind: 'queue-full' };
    case 'invalidRequest':
      return { kind: 'invalid-request', description };
    case 'invalidResponse': {
      const payload = (error as StationCallError & { payload?: unknown }).payload;
      return { kind: 'invalid-response', description, answer: jsonOrNull(payload) };
    }
  }
}

/** What the station sent, if it can be kept as JSON (it came as JSON, so it always can). */
function jsonOrNull(value: unknown): never | null {
  if (value === undefined) return null;
  try {
    return JSON.parse(JSON.stringify(value)) as never;
  } catch {
    return null;
  }
}
