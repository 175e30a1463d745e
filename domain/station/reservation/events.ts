import { z } from 'zod';
import { defineEvent, type EventOf } from '../../shared/event-definition.js';
import { idTokenSchema, isoTimestamp } from '../../shared/values.js';
import { authorizationReferenceSchema } from '../../transaction/events.js';
import { operationIdSchema } from '../operation/events.js';

/**
 * Events of the `reservation` aggregate: reservations sent to a station (OCPI RESERVE_NOW, an
 * operator's reserveNow), kept under an id the transaction that uses one can compute (station +
 * OCPP reservationId, ocpp/operations/reservations.ts), so it carries the eMSP's
 * authorization_reference (OCPI 2.2.1 ReserveNow: the Session and CDR SHALL carry it). The station
 * operation's own stream is named by an id the station never sees; the store, not memory, holds
 * it, so a restart between the reservation and the start loses nothing.
 */

export const reservationAggregateType = 'reservation';

export const ReservationRequested = defineEvent({
  type: 'ReservationRequested',
  aggregateType: reservationAggregateType,
  schemaVersion: 1,
  schema: z.object({
    /** The station operation that sent it (stream `stationOperation-<tenant>-<operationId>`). */
    operationId: operationIdSchema,
    stationId: z.string().min(1).max(48),
    /** The OCPP reservation id (1.6 reservationId, 2.0.1 id) the station echoes when a transaction uses it. */
    reservationId: z.number().int().min(0),
    /** null: any EVSE of the station. */
    evseId: z.number().int().min(1).nullable(),
    idToken: idTokenSchema,
    /** The eMSP's authorization_reference (OCPI RESERVE_NOW); null for an operator's reservation or none given. */
    authorizationReference: authorizationReferenceSchema.nullable(),
    expiresAt: isoTimestamp,
    /** `partner:<id>`, `user:<name>`. */
    requestedBy: z.string().min(1).max(200),
    /** Server time, recorded before the call is sent. */
    requestedAt: isoTimestamp,
  }),
});

export const reservationEventDefinitions = [ReservationRequested] as const;

export type ReservationEvent = EventOf<(typeof reservationEventDefinitions)[number]>;
export type ReservationEventData<T extends ReservationEvent['type']> = Extract<ReservationEvent, { type: T }>['data'];
