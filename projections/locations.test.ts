import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPostgresEventStore } from '../adapters/event-store/postgres.js';
import type { EventStore } from '../adapters/event-store/port.js';
import type { SqlDatabase } from '../adapters/sql/port.js';
import { EvseAssigned, EvseRemoved, EvseUpdated, LocationDeclared, LocationUpdated, type EvseFacts, type LocationFacts } from '../domain/location/index.js';
import { eventFrom } from '../domain/shared/event-definition.js';
import type { DomainEvent } from '../domain/shared/event.js';
import { AvailabilityChanged, ConnectorStatusChanged, StationConnected, StationDisconnected } from '../domain/station/events.js';
import { findEvse, findEvseByStation } from '../ocpi/locations/lookup.js';
import { createTestPgliteDatabase } from '../test/support/services.js';
import { migrateProjections, startProjectionRunners } from './index.js';
import { ocpiStatusOfConnector } from './locations-status.js';
import { locationsProjection } from './locations.js';

/** Location and station events in, `proj_locations` rows out; EVSE status follows the station. */

const facts: LocationFacts = {
  name: 'Depot', address: 'Main 1', city: 'Oslo', postalCode: '0150', state: null, country: 'NOR',
  coordinates: { latitude: '59.91273', longitude: '10.74609' }, timeZone: 'Europe/Oslo', parkingType: null, facilities: [],
  openingTimes: null, chargingWhenClosed: null, directions: [], operator: null, suboperator: null, owner: null, publish: true,
};
const evse = (uid: string, stationEvseId: number, connectors = 1): EvseFacts => ({
  evseUid: uid, evseId: `NO*CSM*E${uid}`, stationId: 'CP-1', stationEvseId, capabilities: [], physicalReference: null, floorLevel: null,
  connectors: Array.from({ length: connectors }, (_, i) => ({
    connectorId: String(i + 1), stationConnectorId: i + 1, standard: 'IEC_62196_T2' as const, format: 'SOCKET' as const,
    powerType: 'AC_3_PHASE' as const, maxVoltage: 230, maxAmperage: 32, maxElectricPowerW: null, tariffIds: ['T1'],
  })),
});
const status = (evseId: number, s: string, statusAt: string) =>
  eventFrom(ConnectorStatusChanged, { evseId, connectorId: 1, status: s as 'Available', errorCode: null, info: null, vendorId: null, vendorErrorCode: null, statusAt });

describe('locations projection', () => {
  let db: SqlDatabase;
  let eventStore: EventStore;
  let runners: { stop(): Promise<void>; idle(): Promise<void> };
  let minute = 0;

  beforeAll(async () => {
    db = await createTestPgliteDatabase();
    eventStore = await openPostgresEventStore(db);
    await migrateProjections({ db, eventStore });
    runners = startProjectionRunners({ db, eventStore }, { projections: [locationsProjection] });
  });
  afterAll(async () => {
    await runners?.stop();
    await eventStore?.close().catch(() => {});
    await db?.close().catch(() => {});
  });

  /** Appends with recordedAt one minute after the previous append: last_updated must follow it. */
  async function append(stream: string, ...events: DomainEvent[]): Promise<string> {
    minute += 1;
    const recordedAt = new Date(Date.UTC(2025, 0, 1, 0, minute)).toISOString();
    const metadata = { tenantId: 'default', correlationId: 'c', causationId: 'c', actor: 'user:test', occurredAt: recordedAt, recordedAt };
    await eventStore.append(stream, events.map((e) => ({ eventId: randomUUID(), type: e.type, schemaVersion: e.schemaVersion, data: e.data as never, metadata })), 'any');
    await runners.idle();
    return recordedAt;
  }
  const evseRow = async (uid: string) =>
    (await db.query<{ status: string; last_updated: Date }>(`SELECT status, last_updated FROM proj_locations.location_evses WHERE evse_uid = $1`, [uid])).rows[0];
  const locationUpdated = async () =>
    (await db.query<{ last_updated: Date }>(`SELECT last_updated FROM proj_locations.locations WHERE location_id = 'LOC1'`)).rows[0]!.last_updated.toISOString();

  it('maps every OCPP connector status to an OCPI EvseStatus', () => {
    const expected: Record<string, string> = {
      Available: 'AVAILABLE', Preparing: 'CHARGING', Charging: 'CHARGING', SuspendedEV: 'CHARGING', SuspendedEVSE: 'CHARGING',
      Finishing: 'CHARGING', Occupied: 'CHARGING', Reserved: 'RESERVED', Unavailable: 'INOPERATIVE', Faulted: 'OUTOFORDER',
    };
    for (const [ocpp, ocpi] of Object.entries(expected)) expect(ocpiStatusOfConnector(ocpp), ocpp).toBe(ocpi);
    expect(ocpiStatusOfConnector('Exploded')).toBe('UNKNOWN');
    expect(ocpiStatusOfConnector(null)).toBe('UNKNOWN');
  });

  it('keeps a status that arrives before the EVSE is assigned, and follows later ones', async () => {
    await append('station-default-CP-1', eventFrom(StationConnected, { connectionId: 'ws1', ocppVersion: '2.0.1', connectedAt: '2025-01-01T00:00:00.000Z' }));
    await append('station-default-CP-1', status(1, 'Charging', '2025-01-01T00:01:00.000Z'));
    const declaredAt = await append('location-default-LOC1', eventFrom(LocationDeclared, { locationId: 'LOC1', facts }));
    expect(await locationUpdated()).toBe(declaredAt);
    const assignedAt = await append('location-default-LOC1', eventFrom(EvseAssigned, { locationId: 'LOC1', evse: evse('1', 1, 2) }));
    expect(await evseRow('1')).toEqual({ status: 'CHARGING', last_updated: new Date(assignedAt) });
    expect(await locationUpdated()).toBe(assignedAt);
    const connectors = await db.query(`SELECT connector_id, station_connector_id, tariff_ids FROM proj_locations.location_connectors ORDER BY connector_id`);
    expect(connectors.rows).toEqual([
      { connector_id: '1', station_connector_id: 1, tariff_ids: '["T1"]' },
      { connector_id: '2', station_connector_id: 2, tariff_ids: '["T1"]' },
    ]);

    const freeAt = await append('station-default-CP-1', status(1, 'Available', '2025-01-01T00:05:00.000Z'));
    expect(await evseRow('1')).toEqual({ status: 'AVAILABLE', last_updated: new Date(freeAt) });
    expect(await locationUpdated()).toBe(freeAt);
    // An offline-queued older report does not overwrite the newer one.
    await append('station-default-CP-1', status(1, 'Faulted', '2025-01-01T00:02:00.000Z'));
    expect((await evseRow('1'))?.status).toBe('AVAILABLE');
    expect(await findEvseByStation(db, 'default', 'CP-1', 1)).toMatchObject({ locationId: 'LOC1', evseUid: '1', status: 'AVAILABLE', connectors: [{ connectorId: '1', stationConnectorId: 1 }, { connectorId: '2', stationConnectorId: 2 }] });
  });

  it('shows an offline station as UNKNOWN, an Inoperative EVSE as INOPERATIVE, and back', async () => {
    await append('station-default-CP-1', eventFrom(StationDisconnected, { connectionId: 'old', reason: null, disconnectedAt: '2025-01-01T00:09:00.000Z' }));
    expect((await evseRow('1'))?.status).toBe('AVAILABLE'); // a late close of another socket
    await append('station-default-CP-1', eventFrom(StationDisconnected, { connectionId: 'ws1', reason: null, disconnectedAt: '2025-01-01T00:10:00.000Z' }));
    expect((await evseRow('1'))?.status).toBe('UNKNOWN');
    await append('station-default-CP-1', eventFrom(StationConnected, { connectionId: 'ws2', ocppVersion: '2.0.1', connectedAt: '2025-01-01T00:11:00.000Z' }));
    expect((await evseRow('1'))?.status).toBe('AVAILABLE');
    await append('station-default-CP-1', eventFrom(AvailabilityChanged, { evseId: 1, connectorId: 0, availability: 'Inoperative', scheduled: false }));
    expect((await evseRow('1'))?.status).toBe('INOPERATIVE');
    await append('station-default-CP-1', eventFrom(AvailabilityChanged, { evseId: 0, connectorId: 0, availability: 'Operative', scheduled: false }));
    expect((await evseRow('1'))?.status).toBe('INOPERATIVE'); // the EVSE's own setting stands
    await append('station-default-CP-1', eventFrom(AvailabilityChanged, { evseId: 1, connectorId: 0, availability: 'Operative', scheduled: false }));
    expect((await evseRow('1'))?.status).toBe('AVAILABLE');
  });

  it('keeps a removed EVSE as REMOVED whatever the station says; facts updates keep last_updated rising', async () => {
    await append('location-default-LOC1', eventFrom(EvseAssigned, { locationId: 'LOC1', evse: evse('2', 2) }));
    expect((await evseRow('2'))?.status).toBe('UNKNOWN'); // nothing heard from station EVSE 2
    const removedAt = await append('location-default-LOC1', eventFrom(EvseRemoved, { locationId: 'LOC1', evseUid: '2', reason: null }));
    await append('station-default-CP-1', status(2, 'Available', '2025-01-01T01:00:00.000Z'));
    expect(await evseRow('2')).toEqual({ status: 'REMOVED', last_updated: new Date(removedAt) });
    expect(await findEvse(db, 'default', 'LOC1', '2')).toMatchObject({ status: 'REMOVED' });
    expect(await findEvseByStation(db, 'default', 'CP-1', 2)).toBeNull();
    const updatedAt = await append('location-default-LOC1', eventFrom(LocationUpdated, { locationId: 'LOC1', facts: { ...facts, publish: false } }));
    const row = (await db.query(`SELECT publish, last_updated FROM proj_locations.locations WHERE location_id = 'LOC1'`)).rows[0];
    expect(row).toEqual({ publish: false, last_updated: new Date(updatedAt) });
  });

  it('replaces an EVSE connectors as a whole on update', async () => {
    await append('location-default-LOC1', eventFrom(EvseUpdated, { locationId: 'LOC1', evse: evse('1', 1, 1) }));
    const { rows } = await db.query(`SELECT connector_id FROM proj_locations.location_connectors WHERE evse_uid = '1'`);
    expect(rows).toEqual([{ connector_id: '1' }]);
  });
});
