import { appendEventsMax, type EventStore, type EventToAppend } from '../../adapters/event-store/port.js';
import { eventFrom } from '../../domain/shared/event-definition.js';
import { TokenBlocked, TokenIssued, TokenUnblocked } from '../../domain/token/events.js';
import { emspInvalidReason } from '../../ocpi/tokens/store.js';

/**
 * Long token streams generated straight into an event store (fast), as an eMSP toggling `valid`
 * thousands of times through PATCH would leave them: for the limits of reading a token back.
 */

/** An eMSP's RFID token DE*EMP, whitelist ALLOWED. */
export const toggledTokenIssued = (uid: string) =>
  eventFrom(TokenIssued, {
    uid, tokenType: 'RFID', contractId: `DE-EMP-C-${uid}`, issuer: 'eMSP', ownerId: null, visualNumber: null, groupId: null, validUntil: null,
    whitelist: 'ALLOWED', source: 'ocpi', countryCode: 'DE', partyId: 'EMP',
  });

/** Event `n` of a generated stream; occurredAt 2026-01-01T00:00:00Z + n ms. */
export const tokenEventToAppend = (event: { type: string; schemaVersion: number; data: object }, n: number): EventToAppend => ({
  eventId: `${String(n).padStart(8, '0')}-0000-4000-8000-000000000000`,
  type: event.type,
  schemaVersion: event.schemaVersion,
  data: event.data as EventToAppend['data'],
  metadata: { tenantId: 't1', correlationId: 'c', causationId: `cmd-${n}`, actor: 'partner:emsp', occurredAt: new Date(Date.UTC(2026, 0, 1, 0, 0, 0, n)).toISOString(), recordedAt: '2026-01-01T00:00:00.000Z' },
});

/** The token issued, then `toggles` times blocked and unblocked again by its eMSP: 1 + 2 × toggles events, valid at the end. */
export async function appendToggledToken(store: EventStore, streamId: string, uid: string, toggles: number): Promise<void> {
  const events = [tokenEventToAppend(toggledTokenIssued(uid), 0)];
  for (let i = 1; i <= toggles; i += 1) {
    events.push(tokenEventToAppend(eventFrom(TokenBlocked, { reason: emspInvalidReason }), 2 * i - 1), tokenEventToAppend(eventFrom(TokenUnblocked, {}), 2 * i));
  }
  for (let from = 0; from < events.length; from += appendEventsMax) await store.append(streamId, events.slice(from, from + appendEventsMax), 'any');
}
