import { foldStream } from '../../../commands/process/streams.js';
import { streamName } from '../../../domain/shared/event.js';
import { reservationDecider } from '../../../domain/station/reservation/index.js';
import { reservationStreamId } from '../../operations/reservations.js';
import type { Translation } from './context.js';

/**
 * The eMSP's authorization_reference of the reservation a transaction uses (1.6 StartTransaction
 * reservationId, 2.0.1 TransactionEvent reservationId): OCPI 2.2.1 ReserveNow says the Session and
 * CDR SHALL carry it. The newest reservation under that id at this station (a new ReserveNow with
 * the same id replaces the old one there too). null: none recorded, or it had no reference.
 */
export async function reservationReference(translation: Translation, reservationId: number | undefined): Promise<string | null> {
  if (reservationId === undefined) return null;
  const stream = streamName(reservationDecider.aggregateType, translation.tenantId, reservationStreamId(translation.stationId, reservationId));
  const { state } = await foldStream(translation.deps.eventStore, reservationDecider, stream);
  return state.latest?.authorizationReference ?? null;
}
