import { assertNever } from '../../shared/assert.js';
import { eventFrom } from '../../shared/event-definition.js';
import { InvalidCommandError } from '../../shared/errors.js';
import { checkNonNegativeInteger, checkText, idTokenSchema, normalizeTimestamp } from '../../shared/values.js';
import type { ReservationCommand } from './commands.js';
import { ReservationRequested, type ReservationEvent, type ReservationEventData } from './events.js';
import { authorizationReferenceSchema } from '../../transaction/events.js';

/**
 * A stream is one station and one OCPP reservation id. A new ReserveNow with the same id replaces
 * the reservation at the station (1.6 §5.13, 2.0.1 H01, OCPI RESERVE_NOW "replaces"): the newest is the one kept.
 */
export interface ReservationState {
  readonly latest: ReservationEventData<'ReservationRequested'> | null;
}

export const initialReservationState = (): ReservationState => ({ latest: null });

export function evolveReservation(state: ReservationState, event: ReservationEvent): ReservationState {
  switch (event.type) {
    case 'ReservationRequested':
      return { latest: event.data };
    default:
      return assertNever(event.type, 'reservation event');
  }
}

export function decideReservation(command: ReservationCommand, state: ReservationState): ReservationEvent[] {
  switch (command.type) {
    case 'RecordReservation': {
      const operationId = checkText(command.operationId, 'operationId', 100, command.type);
      // The same operation again (a retried send): already recorded.
      if (state.latest?.operationId === operationId) return [];
      const idToken = idTokenSchema.safeParse(command.idToken);
      if (!idToken.success) throw new InvalidCommandError(`invalid idToken: ${idToken.error.message}`, command.type);
      const reference = command.authorizationReference;
      if (reference !== null && !authorizationReferenceSchema.safeParse(reference).success) {
        throw new InvalidCommandError('authorizationReference must be 1 to 36 printable ASCII characters', command.type);
      }
      if (command.evseId !== null && !(Number.isSafeInteger(command.evseId) && command.evseId >= 1)) {
        throw new InvalidCommandError(`evseId must be a positive integer: ${String(command.evseId)}`, command.type);
      }
      return [
        eventFrom(ReservationRequested, {
          operationId,
          stationId: checkText(command.stationId, 'stationId', 48, command.type),
          reservationId: checkNonNegativeInteger(command.reservationId, 'reservationId', command.type),
          evseId: command.evseId,
          idToken: idToken.data,
          authorizationReference: reference,
          expiresAt: normalizeTimestamp(command.expiresAt, 'expiresAt', command.type),
          requestedBy: checkText(command.requestedBy, 'requestedBy', 200, command.type),
          requestedAt: normalizeTimestamp(command.requestedAt, 'requestedAt', command.type),
        }),
      ];
    }
    default:
      return assertNever(command.type, 'reservation command');
  }
}
