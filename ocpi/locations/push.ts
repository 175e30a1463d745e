import type { RecordedEvent } from '../../adapters/event-store/port.js';
import { quoteIdentifier } from '../../adapters/sql/port.js';
import { parseStreamName } from '../../domain/shared/event.js';
import { liveSchemaName } from '../../projections/schema.js';
import type { PushBuildContext, PushChange, PushRequest, PushSource, PushTrigger } from '../push/source.js';
import { evsePatchSchema } from '../schemas/locations.js';
import { checkObject, findLocation, locationIdsAfter } from './objects.js';
import { findEvseByStation } from './lookup.js';

/**
 * Pushes of the Locations module to eMSPs (mod_locations "Receiver Interface"). Object keys:
 *   `<locationId>`                      the Location: PUT /{cc}/{pid}/{location_id}
 *   `<locationId>/<evseUid>`            an EVSE: PUT /{cc}/{pid}/{location_id}/{evse_uid}
 *   `station:<stationId>/<stationEvse>` a station EVSE's status: PATCH {status, last_updated} of
 *                                       the EVSE it is assigned to (none: nothing to send)
 *   `station:<stationId>`               a station-wide change (online, availability, connector 0):
 *                                       PUT the Location holding the station's EVSEs
 * triggers() is pure and cannot look up which EVSE a station EVSE is; build() resolves it then.
 * An EVSE push to a partner that does not hold the Location yet (PushBuildContext.holds) sends the
 * whole Location instead, so a new partner's first object of a location is always its PUT.
 */

const moduleName = 'locations';
const stationPrefix = 'station:';

const trigger = (objectKey: string, change: PushChange): PushTrigger => ({ module: moduleName, objectKey, change });

function triggers(event: RecordedEvent): readonly PushTrigger[] {
  const id = parseStreamName(event.streamId).id;
  const data = event.data as { evse?: { evseUid: string }; evseUid?: string; evseId?: number };
  switch (event.type) {
    case 'LocationDeclared':
    case 'LocationUpdated':
      return [trigger(id, 'object')];
    case 'EvseAssigned':
    case 'EvseUpdated':
      return [trigger(`${id}/${data.evse!.evseUid}`, 'object')];
    case 'EvseRemoved':
      return [trigger(`${id}/${data.evseUid!}`, 'object')];
    case 'ConnectorStatusChanged':
      return [trigger(`${stationPrefix}${id}/${data.evseId!}`, 'status')];
    case 'AvailabilityChanged':
      return [trigger(data.evseId === 0 ? `${stationPrefix}${id}` : `${stationPrefix}${id}/${data.evseId!}`, 'status')];
    case 'StationConnected':
    case 'StationDisconnected':
    case 'StationStatusChanged':
      return [trigger(`${stationPrefix}${id}`, 'status')];
    default:
      return [];
  }
}

const partyPath = (context: PushBuildContext) => `/${context.us.countryCode}/${context.us.partyId}`;

async function putLocation(context: PushBuildContext, locationId: string): Promise<PushRequest | null> {
  const location = await findLocation(context.db, context.tenantId, context.us, locationId, { unpublished: true });
  return location === null ? null : { method: 'PUT', path: `${partyPath(context)}/${locationId}`, body: location, establishes: locationId };
}

async function evseRequest(context: PushBuildContext, locationId: string, evseUid: string, change: PushChange): Promise<PushRequest | null> {
  // Partners never saw an unpublished location: no EVSE of it is sent.
  const location = await findLocation(context.db, context.tenantId, context.us, locationId);
  const evse = location?.evses?.find((candidate) => candidate.uid === evseUid);
  if (evse === undefined) return null;
  // A partner that never got the Location (registered after it, or its PUT still queued) cannot
  // place an EVSE of it (mod_locations: the Location comes first): it gets the whole Location.
  if (context.holds !== undefined && !(await context.holds(locationId))) return putLocation(context, locationId);
  const path = `${partyPath(context)}/${locationId}/${evseUid}`;
  // partOf: a partner answering 2003 lost the Location; it gets the whole next (ocpi/push/deliver.ts).
  if (change !== 'status') return { method: 'PUT', path, body: evse, partOf: locationId };
  const body = checkObject(evsePatchSchema, { status: evse.status, last_updated: evse.last_updated }, `EVSE ${locationId}/${evseUid} status`);
  return { method: 'PATCH', path, body, partOf: locationId };
}

/** The location holding a station's EVSEs; with several, the most recently changed one. */
async function locationOfStation(context: PushBuildContext, stationId: string): Promise<string | null> {
  const { rows } = await context.db.query<{ location_id: string }>(
    `SELECT location_id FROM ${quoteIdentifier(liveSchemaName('locations'))}.location_evses
      WHERE tenant_id = $1 AND station_id = $2 AND NOT removed ORDER BY last_updated DESC, location_id LIMIT 1`,
    [context.tenantId, stationId],
  );
  return rows[0]?.location_id ?? null;
}

async function build(context: PushBuildContext, objectKey: string, change: PushChange): Promise<PushRequest | null> {
  if (change === 'delete') return null; // OCPI locations are never deleted (EVSE status REMOVED)
  if (objectKey.startsWith(stationPrefix)) {
    const rest = objectKey.slice(stationPrefix.length);
    const slash = rest.lastIndexOf('/');
    const stationEvseId = slash < 0 ? NaN : Number(rest.slice(slash + 1));
    if (!Number.isInteger(stationEvseId)) {
      const locationId = await locationOfStation(context, rest);
      return locationId === null ? null : putLocation(context, locationId);
    }
    const ref = await findEvseByStation(context.db, context.tenantId, rest.slice(0, slash), stationEvseId);
    return ref === null ? null : evseRequest(context, ref.locationId, ref.evseUid, 'status');
  }
  const slash = objectKey.indexOf('/');
  if (slash < 0) return putLocation(context, objectKey);
  return evseRequest(context, objectKey.slice(0, slash), objectKey.slice(slash + 1), change);
}

export const locationsPushSource: PushSource = {
  module: moduleName,
  projections: ['locations'],
  eventTypes: new Set([
    'LocationDeclared', 'LocationUpdated', 'EvseAssigned', 'EvseUpdated', 'EvseRemoved',
    'ConnectorStatusChanged', 'AvailabilityChanged', 'StationConnected', 'StationDisconnected', 'StationStatusChanged',
  ]),
  triggers,
  build,
  listKeys: (context, afterKey, limit) => locationIdsAfter(context.db, context.tenantId, afterKey, limit),
};
