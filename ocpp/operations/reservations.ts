import { v5 as uuidv5 } from 'uuid';
import { InvalidCommandError } from '../../domain/shared/errors.js';
import { normalizeTimestamp } from '../../domain/shared/values.js';
import { authorizationReferenceSchema } from '../../domain/transaction/events.js';
import type { ReservationCommand } from '../../domain/station/reservation/index.js';
import type { StationOperation } from './operations.js';

/**
 * Reservations recorded where the transaction that uses one finds them (domain/station/reservation):
 * the runner records one before sending ReserveNow; 1.6 StartTransaction and 2.0.1 TransactionEvent
 * name its reservationId, and the translators read the eMSP's authorization_reference from it
 * (ocpp/translate/shared/reservations.ts).
 */

/** Fixed namespace of reservation stream ids (uuid v5); changing it would lose recorded reservations. */
export const reservationNamespace = '7c1e9a4d-2b6f-5d38-9e0a-4f5b6c7d8e92';

/** Station + OCPP reservation id, as uuid v5 of bytes: fixed length, no separator to escape. */
export function reservationStreamId(stationId: string, reservationId: number): string {
  return uuidv5(Buffer.from(`${stationId}\n${reservationId}`, 'utf8'), reservationNamespace);
}

export type ReserveNowOperation = Extract<StationOperation, { name: 'reserveNow' }>;

/** Refused before anything is recorded: the reference goes into events and OCPI objects as CiString(36). */
export function checkReservation(operation: StationOperation): void {
  if (operation.name !== 'reserveNow') return;
  normalizeTimestamp(operation.expiresAt, 'expiresAt', operation.name);
  if (operation.authorizationReference === undefined) return;
  if (!authorizationReferenceSchema.safeParse(operation.authorizationReference).success) {
    throw new InvalidCommandError('authorizationReference must be 1 to 36 printable ASCII characters (OCPI CiString(36))', operation.name);
  }
}

/** The command recording a reservation about to be sent, and the stream it goes to. */
export function reservationRecord(
  stationId: string,
  operation: ReserveNowOperation,
  facts: { readonly operationId: string; readonly requestedBy: string; readonly requestedAt: string },
): { readonly streamId: string; readonly command: ReservationCommand } {
  return {
    streamId: reservationStreamId(stationId, operation.reservationId),
    command: {
      type: 'RecordReservation',
      operationId: facts.operationId,
      stationId,
      reservationId: operation.reservationId,
      // 0 (1.6 connector 0) and absent: any EVSE.
      evseId: operation.evseId === undefined || operation.evseId === 0 ? null : operation.evseId,
      idToken: { idToken: operation.idToken.idToken, type: operation.idToken.type },
      authorizationReference: operation.authorizationReference ?? null,
      expiresAt: operation.expiresAt,
      requestedBy: facts.requestedBy,
      requestedAt: facts.requestedAt,
    },
  };
}
