import { z } from 'zod';
import { defineEvent, type EventOf } from '../../shared/event-definition.js';
import { isoTimestamp, ocppVersions } from '../../shared/values.js';

/**
 * Events of the `stationOperation` aggregate (stream `stationOperation-<tenant>-<operationId>`):
 * one CSMS→station command (start charging, reset, change a setting...) and what became of it.
 *
 * Why an aggregate of its own rather than the station's stream: an operation lives for seconds and
 * has exactly one outcome, so its stream is two events long; kept in the station stream it would
 * make every StatusNotification reload every operation ever sent, contend with status traffic for
 * the stream's revision, and leave an operation whose process crashed "open" in the station state
 * forever. Read models find a station's operations by the `stationId` in the data.
 */

export const stationOperationAggregateType = 'stationOperation';

/** Operation ids are ours (uuid) or the caller's (e.g. an OCPI command id); bounded like other ids. */
export const operationIdSchema = z.string().min(1).max(100);

/** A JSON object, as sent to or received from a station (bounded by the gateway's frame size). */
const jsonObject = z.record(z.string(), z.json());

export const StationOperationRequested = defineEvent({
  type: 'StationOperationRequested',
  aggregateType: stationOperationAggregateType,
  schemaVersion: 1,
  schema: z.object({
    operationId: operationIdSchema,
    stationId: z.string().min(1).max(48),
    /** Version-neutral: `name` (startCharging, reset, raw...) and its parameters as the operator gave them. */
    operation: z.object({ name: z.string().min(1).max(50), params: jsonObject }),
    /**
     * What was to be sent: the connection's version, the OCPP action and payload. null when the
     * station was not connected, so no version could be chosen (it is then Failed at once).
     */
    ocppVersion: z.enum(ocppVersions).nullable(),
    action: z.string().min(1).max(50).nullable(),
    request: jsonObject.nullable(),
    /** e.g. `user:alice`, `partner:NL-ABC` (also in the metadata; kept here for read models). */
    requestedBy: z.string().min(1).max(200),
    /** Server time. */
    requestedAt: isoTimestamp,
  }),
});

export const StationOperationAnswered = defineEvent({
  type: 'StationOperationAnswered',
  aggregateType: stationOperationAggregateType,
  schemaVersion: 1,
  schema: z.object({
    operationId: operationIdSchema,
    /**
     * The answer's `status` as the station spelled it (Accepted, Rejected, Scheduled, Unlocked,
     * RebootRequired...); null for answers without one (GetConfiguration, GetLocalListVersion,
     * 1.6 UpdateFirmware and GetDiagnostics).
     */
    status: z.string().min(1).max(50).nullable(),
    /** The CALLRESULT payload, verbatim (already valid against the official schema). */
    answer: jsonObject,
    answeredAt: isoTimestamp,
  }),
});

export const stationOperationFailureKinds = [
  'not-connected',
  'disconnected',
  'timeout',
  'call-error',
  'queue-full',
  'invalid-request',
  'invalid-response',
] as const;
export type StationOperationFailureKind = (typeof stationOperationFailureKinds)[number];

export const stationOperationFailureSchema = z.discriminatedUnion('kind', [
  /** No connection: nothing was sent. */
  z.object({ kind: z.literal('not-connected') }),
  /** The connection dropped and did not return in time: the station may or may not have run it. */
  z.object({ kind: z.literal('disconnected') }),
  /** No answer in time: the station may still run it. */
  /** timeoutMs null: the gateway's default (`ocppCallTimeoutMs` unless configured otherwise). */
  z.object({ kind: z.literal('timeout'), timeoutMs: z.number().int().positive().nullable() }),
  /** The station answered with a CALLERROR. */
  z.object({ kind: z.literal('call-error'), code: z.string().min(1).max(50), description: z.string().max(255) }),
  /** Too many calls already waiting for this station: nothing was sent. */
  z.object({ kind: z.literal('queue-full') }),
  /** Our request broke the official schema: a bug on our side or a bad raw payload; nothing was sent. */
  z.object({ kind: z.literal('invalid-request'), description: z.string().max(1000) }),
  /** The station's answer broke the official schema; what it sent is kept. */
  z.object({ kind: z.literal('invalid-response'), description: z.string().max(1000), answer: z.json().nullable() }),
]);
export type StationOperationFailure = z.infer<typeof stationOperationFailureSchema>;

export const StationOperationFailed = defineEvent({
  type: 'StationOperationFailed',
  aggregateType: stationOperationAggregateType,
  schemaVersion: 1,
  schema: z.object({ operationId: operationIdSchema, reason: stationOperationFailureSchema, failedAt: isoTimestamp }),
});

export const stationOperationEventDefinitions = [StationOperationRequested, StationOperationAnswered, StationOperationFailed] as const;

export type StationOperationEvent = EventOf<(typeof stationOperationEventDefinitions)[number]>;
export type StationOperationEventType = StationOperationEvent['type'];
export type StationOperationEventData<T extends StationOperationEventType> = Extract<StationOperationEvent, { type: T }>['data'];
