import { quoteIdentifier, type SqlExecutor } from '../../adapters/sql/port.js';
import type { CdrSite, CdrSiteLookup } from '../../commands/process/index.js';
import { liveSchemaName } from '../../projections/schema.js';
import type { OcpiParty } from '../transport/headers.js';

/**
 * The CDR issuer's view of where a session charged (commands/process CdrSiteLookup), from the
 * locations read model: the location, the EVSE the station's EVSE is assigned to and its
 * connector, so a CDR names the same location/EVSE/connector as the Session and Location objects.
 */

interface SiteRow {
  location_id: string;
  name: string | null;
  address: string;
  city: string;
  postal_code: string | null;
  state: string | null;
  country: string;
  latitude: string;
  longitude: string;
  time_zone: string;
  evse_uid: string;
  evse_id: string | null;
  connector_id: string;
  standard: string;
  format: string;
  power_type: string;
}

export function locationsCdrSiteLookup(db: SqlExecutor, us: OcpiParty): CdrSiteLookup {
  const schema = quoteIdentifier(liveSchemaName('locations'));
  return async (tenantId, stationId, evseId, connectorId) => {
    // The connector the station named, else the EVSE's first (1.6 has one connector per "EVSE").
    const { rows } = await db.query<SiteRow>(
      `SELECT l.location_id, l.name, l.address, l.city, l.postal_code, l.state, l.country, l.latitude, l.longitude, l.time_zone,
              e.evse_uid, e.evse_id, c.connector_id, c.standard, c.format, c.power_type
         FROM ${schema}.location_evses e
         JOIN ${schema}.locations l ON l.tenant_id = e.tenant_id AND l.location_id = e.location_id
         JOIN ${schema}.location_connectors c ON c.tenant_id = e.tenant_id AND c.location_id = e.location_id AND c.evse_uid = e.evse_uid
        WHERE e.tenant_id = $1 AND e.station_id = $2 AND e.station_evse_id = $3 AND e.status <> 'REMOVED'
        ORDER BY (c.station_connector_id = $4) DESC, e.last_updated DESC, c.connector_id
        LIMIT 1`,
      [tenantId, stationId, evseId, connectorId],
    );
    const row = rows[0];
    if (row === undefined) return null;
    const site: CdrSite = {
      timeZone: row.time_zone,
      location: {
        id: row.location_id,
        ...(row.name === null ? {} : { name: row.name }),
        address: row.address,
        city: row.city,
        ...(row.postal_code === null ? {} : { postal_code: row.postal_code }),
        ...(row.state === null ? {} : { state: row.state }),
        country: row.country,
        coordinates: { latitude: row.latitude, longitude: row.longitude },
        evse_uid: row.evse_uid,
        // OCPI requires an evse_id on a CDR; an EVSE without an eMI3 id gets one from our party and its uid.
        evse_id: row.evse_id ?? `${us.countryCode}*${us.partyId}*E${row.evse_uid}`.slice(0, 48),
        connector_id: row.connector_id,
        connector_standard: row.standard as CdrSite['location']['connector_standard'],
        connector_format: row.format as CdrSite['location']['connector_format'],
        connector_power_type: row.power_type as CdrSite['location']['connector_power_type'],
      },
    };
    return site;
  };
}
