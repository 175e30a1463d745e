import type { Decider } from '../../shared/decider.js';
import type { ReservationCommand } from './commands.js';
import { decideReservation, evolveReservation, initialReservationState, type ReservationState } from './decide.js';
import { reservationAggregateType, type ReservationEvent } from './events.js';

export const reservationDecider: Decider<ReservationCommand, ReservationState, ReservationEvent> = {
  aggregateType: reservationAggregateType,
  initialState: initialReservationState,
  decide: decideReservation,
  evolve: evolveReservation,
};

export * from './commands.js';
export * from './events.js';
export { decideReservation, evolveReservation, initialReservationState, type ReservationState } from './decide.js';
