import type { IdToken } from '../../shared/values.js';

/** Recorded by the operation runner (ocpp/operations) before ReserveNow is sent. Times are server time, ISO-8601 with a zone. */
export interface RecordReservation {
  readonly type: 'RecordReservation';
  readonly operationId: string;
  readonly stationId: string;
  readonly reservationId: number;
  readonly evseId: number | null;
  readonly idToken: IdToken;
  readonly authorizationReference: string | null;
  readonly expiresAt: string;
  readonly requestedBy: string;
  readonly requestedAt: string;
}

export type ReservationCommand = RecordReservation;

export const reservationCommandTypes = ['RecordReservation'] as const satisfies readonly ReservationCommand['type'][];
