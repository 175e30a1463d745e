import { quoteIdentifier, type SqlExecutor } from '../../adapters/sql/port.js';
import { liveSchemaName } from '../../projections/schema.js';

/**
 * Where an OCPI EVSE lives, read from the `proj_locations` read model. Sessions, commands and
 * tokens use it to turn a station's EVSE into the OCPI location/EVSE/connector ids and back.
 */
export interface EvseRef {
  locationId: string;
  evseUid: string;
  /** eMI3 EVSE id (e.g. NL*CPO*E123), null when the operator gave none. */
  evseId: string | null;
  stationId: string;
  /** The station's EVSE number: 2.0.1 evseId, 1.6 connectorId. */
  stationEvseId: number;
  connectors: { connectorId: string; stationConnectorId: number }[];
  /** OCPI EvseStatus. */
  status: string;
}

interface EvseRow {
  location_id: string;
  evse_uid: string;
  evse_id: string | null;
  station_id: string;
  station_evse_id: number;
  status: string;
}

/** An EVSE has at most a handful of connectors; the bound keeps a corrupt row set from flooding a caller. */
const connectorsPerEvseMax = 32;

const schema = () => quoteIdentifier(liveSchemaName('locations'));

async function withConnectors(db: SqlExecutor, tenantId: string, row: EvseRow): Promise<EvseRef> {
  const { rows } = await db.query<{ connector_id: string; station_connector_id: number }>(
    `SELECT connector_id, station_connector_id FROM ${schema()}.location_connectors
      WHERE tenant_id = $1 AND location_id = $2 AND evse_uid = $3
      ORDER BY connector_id LIMIT ${connectorsPerEvseMax}`,
    [tenantId, row.location_id, row.evse_uid],
  );
  return {
    locationId: row.location_id,
    evseUid: row.evse_uid,
    evseId: row.evse_id,
    stationId: row.station_id,
    stationEvseId: row.station_evse_id,
    connectors: rows.map((c) => ({ connectorId: c.connector_id, stationConnectorId: c.station_connector_id })),
    status: row.status,
  };
}

const evseColumns = 'location_id, evse_uid, evse_id, station_id, station_evse_id, status';

/**
 * The EVSE a station's EVSE is assigned to. A removed EVSE no longer stands for the station's
 * EVSE (the station may have been moved to another location), so it is skipped.
 */
export async function findEvseByStation(db: SqlExecutor, tenantId: string, stationId: string, stationEvseId: number): Promise<EvseRef | null> {
  const { rows } = await db.query<EvseRow>(
    `SELECT ${evseColumns} FROM ${schema()}.location_evses
      WHERE tenant_id = $1 AND station_id = $2 AND station_evse_id = $3 AND status <> 'REMOVED'
      ORDER BY last_updated DESC, location_id, evse_uid LIMIT 1`,
    [tenantId, stationId, stationEvseId],
  );
  const row = rows[0];
  return row === undefined ? null : withConnectors(db, tenantId, row);
}

/** The EVSE by its OCPI ids (removed ones included: OCPI still shows them as REMOVED). */
export async function findEvse(db: SqlExecutor, tenantId: string, locationId: string, evseUid: string): Promise<EvseRef | null> {
  const { rows } = await db.query<EvseRow>(
    `SELECT ${evseColumns} FROM ${schema()}.location_evses WHERE tenant_id = $1 AND location_id = $2 AND evse_uid = $3`,
    [tenantId, locationId, evseUid],
  );
  const row = rows[0];
  return row === undefined ? null : withConnectors(db, tenantId, row);
}
