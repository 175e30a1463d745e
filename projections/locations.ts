import type { RecordedEvent } from '../adapters/event-store/port.js';
import { quoteIdentifier, type SqlExecutor } from '../adapters/sql/port.js';
import { invariant } from '../domain/shared/assert.js';
import { parseStreamName } from '../domain/shared/event.js';
import type { EvseFacts, LocationEventData, LocationFacts } from '../domain/location/index.js';
import type { StationEventData } from '../domain/station/events.js';
import { ocpiEvseStatus } from './locations-status.js';
import type { Projection } from './projection.js';
import { connectorsSpec, evsesSpec, locationsSpec, stationEvsesSpec, stationsSpec } from './locations-tables.js';
import { loadRows, rowKey, upsertRows, type Row } from './rows.js';

/**
 * Read model of OCPI locations (`proj_locations`), read by ocpi/locations (GET, push) and by
 * ocpi/locations/lookup.ts. EVSE status follows station events (locations-status.ts); station
 * state is kept for every station, assigned or not, so a later assignment starts right.
 */

const locationEvents = new Set(['LocationDeclared', 'LocationUpdated', 'EvseAssigned', 'EvseUpdated', 'EvseRemoved']);
const stationEvents = new Set(['ConnectorStatusChanged', 'StationStatusChanged', 'StationConnected', 'StationDisconnected', 'AvailabilityChanged']);

const json = (value: unknown): string | null => (value === null ? null : JSON.stringify(value));
const later = (a: unknown, b: string): string => (typeof a === 'string' && Date.parse(a) >= Date.parse(b) ? a : b);

function locationRow(key: Row, facts: LocationFacts, current: Row | undefined, at: string): Row {
  return {
    ...key,
    name: facts.name,
    address: facts.address,
    city: facts.city,
    postal_code: facts.postalCode,
    state: facts.state,
    country: facts.country,
    latitude: facts.coordinates.latitude,
    longitude: facts.coordinates.longitude,
    time_zone: facts.timeZone,
    parking_type: facts.parkingType,
    facilities: json(facts.facilities),
    opening_times: json(facts.openingTimes),
    charging_when_closed: facts.chargingWhenClosed,
    directions: json(facts.directions),
    operator: json(facts.operator),
    suboperator: json(facts.suboperator),
    owner: json(facts.owner),
    publish: facts.publish,
    last_updated: later(current?.last_updated, at),
  };
}

function connectorRows(key: Row, evse: EvseFacts, at: string): Row[] {
  return evse.connectors.map((c) => ({
    ...key,
    connector_id: c.connectorId,
    station_connector_id: c.stationConnectorId,
    standard: c.standard,
    format: c.format,
    power_type: c.powerType,
    max_voltage: c.maxVoltage,
    max_amperage: c.maxAmperage,
    max_electric_power: c.maxElectricPowerW,
    tariff_ids: JSON.stringify(c.tariffIds),
    last_updated: at,
  }));
}

/** The rows one batch touches, loaded once, changed in memory, written once per table. */
class Batch {
  readonly locations = new Map<string, Row>();
  readonly evses = new Map<string, Row>();
  readonly stations = new Map<string, Row>();
  readonly stationEvses = new Map<string, Row>();
  /** EVSE key → its connectors now (replacing all stored ones). */
  readonly connectors = new Map<string, Row[]>();
  readonly changed = { locations: new Set<string>(), evses: new Set<string>(), stations: new Set<string>(), stationEvses: new Set<string>() };

  station(tenantId: string, stationId: string): Row {
    const key = rowKey(stationsSpec, { tenant_id: tenantId, station_id: stationId });
    let row = this.stations.get(key);
    if (row === undefined) this.stations.set(key, (row = { tenant_id: tenantId, station_id: stationId, online: null, connection_id: null, station_status: null, inoperative: false }));
    this.changed.stations.add(key);
    return row;
  }

  stationEvse(tenantId: string, stationId: string, stationEvseId: number): Row {
    const key = rowKey(stationEvsesSpec, { tenant_id: tenantId, station_id: stationId, station_evse_id: stationEvseId });
    let row = this.stationEvses.get(key);
    if (row === undefined) {
      row = { tenant_id: tenantId, station_id: stationId, station_evse_id: stationEvseId, ocpp_status: null, status_at: null, inoperative: false };
      this.stationEvses.set(key, row);
    }
    this.changed.stationEvses.add(key);
    return row;
  }

  /** Recomputes the status of an EVSE; a change moves its and its location's last_updated. */
  refresh(evse: Row, at: string): void {
    const station = this.stations.get(rowKey(stationsSpec, evse));
    const stationEvse = this.stationEvses.get(rowKey(stationEvsesSpec, { ...evse, station_evse_id: evse.station_evse_id }));
    const status = ocpiEvseStatus(evse.removed === true, station, stationEvse);
    if (status === evse.status) return;
    evse.status = status;
    this.touchEvse(evse, at);
  }

  touchEvse(evse: Row, at: string): void {
    evse.last_updated = later(evse.last_updated, at);
    this.changed.evses.add(rowKey(evsesSpec, evse));
    const location = this.locations.get(rowKey(locationsSpec, evse));
    invariant(location !== undefined, `EVSE ${evse.evse_uid} of location ${String(evse.location_id)} has its location`);
    location.last_updated = later(location.last_updated, at);
    this.changed.locations.add(rowKey(locationsSpec, location));
  }

  /** EVSEs of a station EVSE (0: every EVSE of the station), among those loaded. */
  evsesOf(tenantId: string, stationId: string, stationEvseId: number): Row[] {
    return [...this.evses.values()].filter(
      (e) => e.tenant_id === tenantId && e.station_id === stationId && (stationEvseId === 0 || e.station_evse_id === stationEvseId),
    );
  }
}

function applyLocationEvent(batch: Batch, event: RecordedEvent, tenantId: string, at: string): void {
  const locationId = parseStreamName(event.streamId).id;
  const locationKey = { tenant_id: tenantId, location_id: locationId };
  if (event.type === 'LocationDeclared' || event.type === 'LocationUpdated') {
    const data = event.data as unknown as LocationEventData<'LocationDeclared'>;
    const id = rowKey(locationsSpec, locationKey);
    batch.locations.set(id, locationRow(locationKey, data.facts, batch.locations.get(id), at));
    batch.changed.locations.add(id);
    return;
  }
  if (event.type === 'EvseRemoved') {
    const data = event.data as unknown as LocationEventData<'EvseRemoved'>;
    const evse = batch.evses.get(rowKey(evsesSpec, { ...locationKey, evse_uid: data.evseUid }));
    invariant(evse !== undefined, `EvseRemoved of ${event.streamId} follows EvseAssigned`);
    evse.removed = true;
    batch.refresh(evse, at);
    return;
  }
  const data = event.data as unknown as LocationEventData<'EvseAssigned'>;
  const key = { ...locationKey, evse_uid: data.evse.evseUid };
  const id = rowKey(evsesSpec, key);
  const evse: Row = {
    status: null,
    last_updated: null,
    ...batch.evses.get(id),
    ...key,
    evse_id: data.evse.evseId,
    station_id: data.evse.stationId,
    station_evse_id: data.evse.stationEvseId,
    capabilities: JSON.stringify(data.evse.capabilities),
    physical_reference: data.evse.physicalReference,
    floor_level: data.evse.floorLevel,
    removed: false,
  };
  batch.evses.set(id, evse);
  batch.connectors.set(id, connectorRows(key, data.evse, at));
  batch.touchEvse(evse, at);
  batch.refresh(evse, at);
}

function applyStationEvent(batch: Batch, event: RecordedEvent, tenantId: string, at: string): void {
  const stationId = parseStreamName(event.streamId).id;
  const station = batch.station(tenantId, stationId);
  let scope = 0;
  switch (event.type) {
    case 'ConnectorStatusChanged': {
      const data = event.data as unknown as StationEventData<'ConnectorStatusChanged'>;
      const row = batch.stationEvse(tenantId, stationId, data.evseId);
      // Offline-queued reports arrive late: an older report never overwrites a newer one.
      if (typeof row.status_at === 'string' && Date.parse(data.statusAt) < Date.parse(row.status_at)) return;
      row.ocpp_status = data.status;
      row.status_at = data.statusAt;
      scope = data.evseId;
      break;
    }
    case 'StationStatusChanged':
      station.station_status = (event.data as unknown as StationEventData<'StationStatusChanged'>).status;
      break;
    case 'StationConnected':
      station.online = true;
      station.connection_id = (event.data as unknown as StationEventData<'StationConnected'>).connectionId;
      break;
    case 'StationDisconnected':
      // A late close of an older socket says nothing about the current connection.
      if (station.connection_id !== (event.data as unknown as StationEventData<'StationDisconnected'>).connectionId) return;
      station.online = false;
      break;
    case 'AvailabilityChanged': {
      const data = event.data as unknown as StationEventData<'AvailabilityChanged'>;
      // A scheduled change takes effect later (a second event without `scheduled` says when).
      if (data.scheduled || data.connectorId !== 0) return;
      const inoperative = data.availability === 'Inoperative';
      if (data.evseId === 0) station.inoperative = inoperative;
      else batch.stationEvse(tenantId, stationId, data.evseId).inoperative = inoperative;
      scope = data.evseId;
      break;
    }
  }
  for (const evse of batch.evsesOf(tenantId, stationId, scope)) batch.refresh(evse, at);
}

async function load(tx: SqlExecutor, schema: string, events: readonly RecordedEvent[]): Promise<Batch> {
  const batch = new Batch();
  const locationKeys: Row[] = [];
  const stationKeys = new Map<string, Row>();
  const stationEvseKeys: Row[] = [];
  for (const event of events) {
    const tenant_id = event.metadata.tenantId;
    const id = parseStreamName(event.streamId).id;
    if (locationEvents.has(event.type)) {
      locationKeys.push({ tenant_id, location_id: id });
      const evse = (event.data as { evse?: EvseFacts }).evse;
      if (evse !== undefined) {
        stationKeys.set(`${tenant_id}\n${evse.stationId}`, { tenant_id, station_id: evse.stationId });
        stationEvseKeys.push({ tenant_id, station_id: evse.stationId, station_evse_id: evse.stationEvseId });
      }
    } else {
      stationKeys.set(`${tenant_id}\n${id}`, { tenant_id, station_id: id });
      const evseId = (event.data as { evseId?: number }).evseId;
      if (evseId !== undefined && evseId > 0) stationEvseKeys.push({ tenant_id, station_id: id, station_evse_id: evseId });
    }
  }
  const q = quoteIdentifier(schema);
  // EVSEs of the touched locations and of the touched stations, then their locations.
  const { rows: evses } = await tx.query<Row>(
    `SELECT * FROM ${q}.location_evses WHERE (tenant_id, location_id) IN (SELECT * FROM unnest($1::text[], $2::text[]))
        OR (tenant_id, station_id) IN (SELECT * FROM unnest($3::text[], $4::text[]))`,
    [locationKeys.map((k) => k.tenant_id), locationKeys.map((k) => k.location_id), [...stationKeys.values()].map((k) => k.tenant_id), [...stationKeys.values()].map((k) => k.station_id)],
  );
  for (const evse of evses) {
    if (evse.last_updated instanceof Date) evse.last_updated = evse.last_updated.toISOString();
    batch.evses.set(rowKey(evsesSpec, evse), evse);
    locationKeys.push({ tenant_id: evse.tenant_id, location_id: evse.location_id });
    stationEvseKeys.push({ tenant_id: evse.tenant_id, station_id: evse.station_id, station_evse_id: evse.station_evse_id });
  }
  for (const [map, spec, keys] of [
    [batch.locations, locationsSpec, locationKeys],
    [batch.stations, stationsSpec, [...stationKeys.values()]],
    [batch.stationEvses, stationEvsesSpec, stationEvseKeys],
  ] as const) {
    for (const [id, row] of await loadRows(tx, schema, spec, keys)) map.set(id, row);
  }
  return batch;
}

async function write(tx: SqlExecutor, schema: string, batch: Batch): Promise<void> {
  const pick = (map: Map<string, Row>, ids: Set<string>) => [...ids].map((id) => map.get(id)!);
  await upsertRows(tx, schema, locationsSpec, pick(batch.locations, batch.changed.locations));
  await upsertRows(tx, schema, evsesSpec, pick(batch.evses, batch.changed.evses));
  await upsertRows(tx, schema, stationsSpec, pick(batch.stations, batch.changed.stations));
  await upsertRows(tx, schema, stationEvsesSpec, pick(batch.stationEvses, batch.changed.stationEvses));
  if (batch.connectors.size === 0) return;
  // An EVSE's connectors are replaced as a whole: drop the ones it no longer has.
  const evseKeys = [...batch.connectors.keys()].map((id) => batch.evses.get(id)!);
  await tx.query(
    `DELETE FROM ${quoteIdentifier(schema)}.location_connectors
      WHERE (tenant_id, location_id, evse_uid) IN (SELECT * FROM unnest($1::text[], $2::text[], $3::text[]))`,
    [evseKeys.map((e) => e.tenant_id), evseKeys.map((e) => e.location_id), evseKeys.map((e) => e.evse_uid)],
  );
  await upsertRows(tx, schema, connectorsSpec, [...batch.connectors.values()].flat());
}

export const locationsProjection: Projection = {
  name: 'locations',
  version: 1,
  handledEventTypes: new Set([...locationEvents, ...stationEvents]),
  migrationsGroup: 'readmodels-locations',
  checksumTables: [locationsSpec, evsesSpec, connectorsSpec, stationsSpec, stationEvsesSpec].map((spec) => ({ table: spec.table, orderBy: spec.key })),
  async applyBatch(tx: SqlExecutor, schema: string, events: readonly RecordedEvent[]): Promise<void> {
    const batch = await load(tx, schema, events);
    for (const event of events) {
      // Server time of recording: monotonic enough for date_from/date_to, and not a station's clock.
      const at = event.metadata.recordedAt;
      if (locationEvents.has(event.type)) applyLocationEvent(batch, event, event.metadata.tenantId, at);
      else applyStationEvent(batch, event, event.metadata.tenantId, at);
    }
    await write(tx, schema, batch);
  },
};

export type { LocationsReadModel, LocationsTable, LocationEvsesTable, LocationConnectorsTable } from './locations-tables.js';
