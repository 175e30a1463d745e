import type { z } from 'zod';
import { quoteIdentifier, type SqlExecutor } from '../../adapters/sql/port.js';
import type { LocationConnectorsTable, LocationEvsesTable, LocationsTable } from '../../projections/index.js';
import { liveSchemaName } from '../../projections/schema.js';
import { connectorSchema, evseSchema, locationSchema, type Connector, type Evse, type Location } from '../schemas/locations.js';
import type { PageRequest } from '../transport/pagination.js';
import type { OcpiParty } from '../transport/headers.js';

/**
 * OCPI 2.2.1 Location/EVSE/Connector objects built from `proj_locations` (never the event store),
 * for GETs (module.ts) and pushes (push.ts). Each object is checked against ocpi/schemas before it
 * leaves: one that fails is our bug, and is refused rather than sent.
 */

/** An object we built that breaks the OCPI schema: a server bug (HTTP 500), never the partner's. */
export class OcpiObjectInvalidError extends Error {
  override readonly name = 'OcpiObjectInvalidError';
}

export function checkObject<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issues = result.error.issues.slice(0, 10).map((issue) => `${issue.path.join('.')}: ${issue.message}`);
  throw new OcpiObjectInvalidError(`${what} fails the OCPI 2.2.1 schema: ${issues.join('; ')}`);
}

const schema = () => quoteIdentifier(liveSchemaName('locations'));
const iso = (at: Date | string) => (at instanceof Date ? at : new Date(at)).toISOString();
/** JSON text columns, with empty lists and nulls left out of the object (OCPI optional fields). */
const parsed = <T>(text: string | null): T | undefined => (text === null ? undefined : (JSON.parse(text) as T));
const nonEmpty = <T>(list: T[] | undefined): T[] | undefined => (list === undefined || list.length === 0 ? undefined : list);
const optional = <T>(value: T | null): T | undefined => (value === null ? undefined : value);

export function connectorObject(row: LocationConnectorsTable): Connector {
  const connector = {
    id: row.connector_id,
    standard: row.standard,
    format: row.format,
    power_type: row.power_type,
    max_voltage: row.max_voltage,
    max_amperage: row.max_amperage,
    max_electric_power: optional(row.max_electric_power),
    tariff_ids: nonEmpty(parsed<string[]>(row.tariff_ids)),
    last_updated: iso(row.last_updated),
  };
  return checkObject(connectorSchema, connector, `connector ${row.location_id}/${row.evse_uid}/${row.connector_id}`);
}

export function evseObject(row: LocationEvsesTable, connectors: readonly LocationConnectorsTable[]): Evse {
  const evse = {
    uid: row.evse_uid,
    evse_id: optional(row.evse_id),
    status: row.status,
    capabilities: nonEmpty(parsed<string[]>(row.capabilities)),
    connectors: connectors.map(connectorObject),
    floor_level: optional(row.floor_level),
    physical_reference: optional(row.physical_reference),
    last_updated: iso(row.last_updated),
  };
  return checkObject(evseSchema, evse, `EVSE ${row.location_id}/${row.evse_uid}`);
}

export function locationObject(us: OcpiParty, row: LocationsTable, evses: readonly Evse[]): Location {
  const location = {
    country_code: us.countryCode,
    party_id: us.partyId,
    id: row.location_id,
    publish: row.publish,
    name: optional(row.name),
    address: row.address,
    city: row.city,
    postal_code: optional(row.postal_code),
    state: optional(row.state),
    country: row.country,
    coordinates: { latitude: row.latitude, longitude: row.longitude },
    parking_type: optional(row.parking_type),
    evses: [...evses],
    directions: nonEmpty(parsed<unknown[]>(row.directions)),
    operator: parsed(row.operator),
    suboperator: parsed(row.suboperator),
    owner: parsed(row.owner),
    facilities: nonEmpty(parsed<unknown[]>(row.facilities)),
    time_zone: row.time_zone,
    opening_times: parsed(row.opening_times),
    charging_when_closed: optional(row.charging_when_closed),
    last_updated: iso(row.last_updated),
  };
  return checkObject(locationSchema, location, `location ${row.location_id}`);
}

/** EVSEs of the locations, in uid order, with their connectors: two queries for any number. */
async function evsesOf(db: SqlExecutor, tenantId: string, locationIds: readonly string[]): Promise<Map<string, Evse[]>> {
  const byLocation = new Map<string, Evse[]>();
  if (locationIds.length === 0) return byLocation;
  const evses = await db.query<LocationEvsesTable>(
    `SELECT * FROM ${schema()}.location_evses WHERE tenant_id = $1 AND location_id = ANY($2::text[]) ORDER BY location_id, evse_uid`,
    [tenantId, locationIds],
  );
  const connectors = await db.query<LocationConnectorsTable>(
    `SELECT * FROM ${schema()}.location_connectors WHERE tenant_id = $1 AND location_id = ANY($2::text[]) ORDER BY location_id, evse_uid, connector_id`,
    [tenantId, locationIds],
  );
  const connectorsByEvse = new Map<string, LocationConnectorsTable[]>();
  for (const c of connectors.rows) {
    const key = `${c.location_id}\n${c.evse_uid}`;
    connectorsByEvse.set(key, [...(connectorsByEvse.get(key) ?? []), c]);
  }
  for (const e of evses.rows) {
    const list = byLocation.get(e.location_id) ?? [];
    list.push(evseObject(e, connectorsByEvse.get(`${e.location_id}\n${e.evse_uid}`) ?? []));
    byLocation.set(e.location_id, list);
  }
  return byLocation;
}

/**
 * Only published locations are shown on GET (publish_allowed_to is not offered); a push of the
 * location itself includes unpublished ones, so partners learn that one was hidden.
 */
export async function findLocation(db: SqlExecutor, tenantId: string, us: OcpiParty, locationId: string, options: { unpublished?: boolean } = {}): Promise<Location | null> {
  const { rows } = await db.query<LocationsTable>(
    `SELECT * FROM ${schema()}.locations WHERE tenant_id = $1 AND location_id = $2 AND (publish OR $3)`,
    [tenantId, locationId, options.unpublished === true],
  );
  const row = rows[0];
  if (row === undefined) return null;
  const evses = await evsesOf(db, tenantId, [locationId]);
  return locationObject(us, row, evses.get(locationId) ?? []);
}

/** One page of published locations, oldest last_updated first, ties by id (pagination.ts rule). */
export async function pageOfLocations(db: SqlExecutor, tenantId: string, us: OcpiParty, page: PageRequest): Promise<{ items: Location[]; total: number }> {
  const where = `tenant_id = $1 AND publish AND ($2::timestamptz IS NULL OR last_updated >= $2) AND ($3::timestamptz IS NULL OR last_updated < $3)`;
  const params = [tenantId, page.dateFrom?.toISOString() ?? null, page.dateTo?.toISOString() ?? null];
  const count = await db.query<{ total: string }>(`SELECT count(*)::text AS total FROM ${schema()}.locations WHERE ${where}`, params);
  const { rows } = await db.query<LocationsTable>(
    `SELECT * FROM ${schema()}.locations WHERE ${where} ORDER BY last_updated, location_id OFFSET $4 LIMIT $5`,
    [...params, page.offset, page.limit],
  );
  const evses = await evsesOf(db, tenantId, rows.map((row) => row.location_id));
  return { items: rows.map((row) => locationObject(us, row, evses.get(row.location_id) ?? [])), total: Number(count.rows[0]?.total ?? 0) };
}

/**
 * Location ids oldest first (last_updated, then id) after the location `afterKey`, for `csms ocpi
 * sync`; published or not (build decides what a partner sees). A cursor whose location is gone
 * starts over: a sync sends state, so sending some twice is harmless.
 */
export async function locationIdsAfter(db: SqlExecutor, tenantId: string, afterKey: string | null, limit: number): Promise<string[]> {
  const { rows } = await db.query<{ location_id: string }>(
    `SELECT location_id FROM ${schema()}.locations l
      WHERE tenant_id = $1
        AND ($2::text IS NULL OR NOT EXISTS (SELECT 1 FROM ${schema()}.locations WHERE tenant_id = $1 AND location_id = $2)
             OR (l.last_updated, l.location_id) > (SELECT last_updated, location_id FROM ${schema()}.locations WHERE tenant_id = $1 AND location_id = $2))
      ORDER BY last_updated, location_id LIMIT $3`,
    [tenantId, afterKey, limit],
  );
  return rows.map((row) => row.location_id);
}
