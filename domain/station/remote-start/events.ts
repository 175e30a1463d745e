import { z } from 'zod';
import { defineEvent, type EventOf } from '../../shared/event-definition.js';
import { idTokenSchema, isoTimestamp } from '../../shared/values.js';
import { authorizationReferenceSchema, authorizingPartySchema } from '../../transaction/events.js';
import { operationIdSchema } from '../operation/events.js';

/**
 * Events of the `remoteStart` aggregate: remote starts sent to a station (OCPI START_SESSION, an
 * operator's startCharging), kept so the transaction the station then starts can be told apart
 * from a local start (OCPI auth_method COMMAND) and carry the eMSP's authorization_reference.
 *
 * Why an aggregate: 1.6 StartTransaction does not say it follows a RemoteStartTransaction, and the
 * station operation's stream is named by an id the station never sees. So the remote start is
 * also recorded under an id the start can compute, `remoteStartStreamId` in ocpp/operations:
 * 1.6 station + idTag, 2.0.1 station + remoteStartId (which the station echoes, F01/F02). The
 * store, not memory, holds it: a restart between the remote start and the start loses nothing.
 */

export const remoteStartAggregateType = 'remoteStart';

/** OCPI CiString(36): the eMSP's reference for its authorization (mod_commands StartSession). */
export { authorizationReferenceSchema };

export const RemoteStartRequested = defineEvent({
  type: 'RemoteStartRequested',
  aggregateType: remoteStartAggregateType,
  schemaVersion: 1,
  schema: z.object({
    /** The station operation that sent it (stream `stationOperation-<tenant>-<operationId>`). */
    operationId: operationIdSchema,
    stationId: z.string().min(1).max(48),
    /** null: the station chooses the EVSE (1.6 connectorId and 2.0.1 evseId are optional). */
    evseId: z.number().int().min(1).nullable(),
    idToken: idTokenSchema,
    /** 2.0.1 remoteStartId sent with it; null for 1.6, which has none. */
    remoteStartId: z.number().int().min(1).nullable(),
    /** The eMSP's authorization_reference (OCPI START_SESSION); null for an operator's remote start. */
    authorizationReference: authorizationReferenceSchema.nullable(),
    /**
     * The eMSP whose START_SESSION this is (its Token's country_code/party_id): it authorized the
     * session and pays for it. Absent for an operator's remote start, and on events stored before it existed.
     */
    authorizingParty: authorizingPartySchema.optional(),
    /** `partner:<id>`, `user:<name>`. */
    requestedBy: z.string().min(1).max(200),
    /** Server time, recorded before the call is sent, so a start that follows at once finds it. */
    requestedAt: isoTimestamp,
  }),
});

/** The station did not take it (Rejected, a CALLERROR, not connected): no transaction will come of it. */
export const RemoteStartRefused = defineEvent({
  type: 'RemoteStartRefused',
  aggregateType: remoteStartAggregateType,
  schemaVersion: 1,
  schema: z.object({
    operationId: operationIdSchema,
    /** The station's status word, or the failure kind of the operation. */
    reason: z.string().min(1).max(50),
    refusedAt: isoTimestamp,
  }),
});

/** A transaction the station started is the one this remote start asked for; a remote start is claimed once. */
export const RemoteStartClaimed = defineEvent({
  type: 'RemoteStartClaimed',
  aggregateType: remoteStartAggregateType,
  schemaVersion: 1,
  schema: z.object({
    operationId: operationIdSchema,
    transactionId: z.string().min(1).max(64),
    stationId: z.string().min(1).max(48),
    /** The remote start's own token and reference, so the claim alone tells the transaction what authorized it. */
    idToken: idTokenSchema,
    authorizationReference: authorizationReferenceSchema.nullable(),
    authorizingParty: authorizingPartySchema.optional(),
    /** Server time of the start's arrival. */
    claimedAt: isoTimestamp,
  }),
});

export const remoteStartEventDefinitions = [RemoteStartRequested, RemoteStartRefused, RemoteStartClaimed] as const;

export type RemoteStartEvent = EventOf<(typeof remoteStartEventDefinitions)[number]>;
export type RemoteStartEventType = RemoteStartEvent['type'];
export type RemoteStartEventData<T extends RemoteStartEventType> = Extract<RemoteStartEvent, { type: T }>['data'];
