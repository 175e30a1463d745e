import type { RecordedEvent } from '../../adapters/event-store/port.js';
import { parseStreamName } from '../../domain/shared/event.js';
import type { PushBuildContext, PushChange, PushRequest, PushSource, PushTrigger } from '../push/source.js';
import { sessionPatchSchema, type Session, type SessionPatch } from '../schemas/index.js';
import { findSessionRow, isForAudience, sendableSession, sessionKeys } from './read.js';

/**
 * Sessions pushed to the eMSP of the session's token: the start
 * and the end as a whole Session (PUT), meter readings as a PATCH of kwh, status and last_updated.
 *
 * A charging-state change is an 'object' change (PUT), not a PATCH: it closes the current charging
 * period with its final figures, and mod_sessions says charging_periods in a PATCH are ADDED to the
 * receiver's list ("to replace or remove, the Sender SHALL use PUT"). A PATCH built from the state
 * at delivery time cannot know which periods the partner already holds, so periods travel only in
 * PUTs; PATCHes never carry them.
 *
 * A PATCH goes only to a partner holding the Session (PushBuildContext.holds): any other gets the
 * whole Session first; one answering 2003 to a PATCH is sent the whole next (ocpi/push/deliver.ts).
 */

const changeOf: Record<string, PushChange> = {
  TransactionStarted: 'object',
  ChargingStateChanged: 'object',
  TransactionEnded: 'object',
  MeterReadingRecorded: 'status',
};

/** Nothing follows a finished session but, at most, a late reading: sent whole, as the partner's hold is not kept. */
const finalStatuses: ReadonlySet<Session['status']> = new Set(['COMPLETED', 'INVALID']);

/**
 * The whole Session. The partner holds it once accepted, so later readings may travel as PATCHes;
 * a finished one's hold is dropped instead, so `partner_objects` keeps only sessions still running.
 */
function putSession(path: string, session: Session): PushRequest {
  const hold = finalStatuses.has(session.status) ? { releases: session.id } : { establishes: session.id };
  return { method: 'PUT', path, body: session, ...hold };
}

export const sessionsPushSource: PushSource = {
  module: 'sessions',
  projections: ['ocpi_sessions', 'locations'],
  eventTypes: new Set(Object.keys(changeOf)),
  triggers(event: RecordedEvent): readonly PushTrigger[] {
    const change = changeOf[event.type];
    if (change === undefined) return [];
    return [{ module: 'sessions', objectKey: parseStreamName(event.streamId).id, change }];
  },
  async build(context: PushBuildContext, objectKey: string, change: PushChange): Promise<PushRequest | null> {
    const row = await findSessionRow(context.db, context.tenantId, objectKey);
    if (row === null || !isForAudience(row, { all: false, parties: context.partner.parties }, context.us)) return null;
    const session = await sendableSession(context.db, context.tenantId, context.us, row, undefined, context.now);
    if (session === null) return null;
    const path = `/${context.us.countryCode}/${context.us.partyId}/${encodeURIComponent(session.id)}`;
    // A partner that never accepted this session (registered mid-session, or our PUT was refused
    // or lost) could not place a PATCH of it: it gets the whole Session.
    if (change !== 'status' || (context.holds !== undefined && !(await context.holds(session.id)))) return putSession(path, session);
    const patch: SessionPatch = { kwh: session.kwh, status: session.status, last_updated: session.last_updated };
    return { method: 'PATCH', path, body: sessionPatchSchema.parse(patch), partOf: session.id };
  },
  listKeys(context, afterKey, limit) {
    return sessionKeys(context.db, context.tenantId, afterKey, limit);
  },
};
