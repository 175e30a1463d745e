import { quoteIdentifier, type SqlExecutor } from '../../adapters/sql/port.js';
import { liveSchemaName } from '../../projections/schema.js';
import { findEvse, type EvseRef } from '../locations/lookup.js';
import { stationOnline } from './async-results.js';

/**
 * Where an OCPI command goes: the station and its EVSE/connector numbers for an OCPI
 * location/EVSE/connector, or why the CPO refuses it at once (CommandResponse REJECTED with a
 * message: the spec lets the CPO answer REJECTED when it already knows the command cannot run,
 * e.g. the EVSE is offline).
 */

export type Target =
  | { readonly ok: true; readonly evse: EvseRef; readonly stationConnectorId: number | null }
  | { readonly ok: false; readonly message: string };

/** Statuses in which nothing but an unlock can be done at an EVSE. */
const unusableStatuses: ReadonlySet<string> = new Set(['INOPERATIVE', 'OUTOFORDER', 'REMOVED']);
/** A location with more EVSEs than this needs the eMSP to name one. */
const evsesScannedMax = 2;

export async function resolveTarget(
  db: SqlExecutor,
  tenantId: string,
  request: { readonly locationId: string; readonly evseUid?: string | undefined; readonly connectorId?: string | undefined; readonly forUnlock?: boolean },
): Promise<Target> {
  const evseUid = request.evseUid ?? (await onlyEvseOf(db, tenantId, request.locationId));
  if (evseUid === null) return { ok: false, message: `location ${request.locationId} is unknown or has more than one EVSE: name the evse_uid` };
  const evse = await findEvse(db, tenantId, request.locationId, evseUid);
  if (evse === null) return { ok: false, message: `unknown EVSE ${evseUid} at location ${request.locationId}` };
  if (evse.status === 'REMOVED' || (!request.forUnlock && unusableStatuses.has(evse.status))) {
    return { ok: false, message: `EVSE ${evseUid} is ${evse.status}` };
  }
  let stationConnectorId: number | null = null;
  if (request.connectorId !== undefined) {
    const connector = evse.connectors.find((candidate) => candidate.connectorId === request.connectorId);
    if (connector === undefined) return { ok: false, message: `unknown connector ${request.connectorId} at EVSE ${evseUid}` };
    stationConnectorId = connector.stationConnectorId;
  }
  if (!(await stationOnline(db, tenantId, evse.stationId))) return { ok: false, message: `EVSE ${evseUid} is offline` };
  return { ok: true, evse, stationConnectorId };
}

async function onlyEvseOf(db: SqlExecutor, tenantId: string, locationId: string): Promise<string | null> {
  const { rows } = await db.query<{ evse_uid: string }>(
    `SELECT evse_uid FROM ${quoteIdentifier(liveSchemaName('locations'))}.location_evses
      WHERE tenant_id = $1 AND location_id = $2 AND status <> 'REMOVED' ORDER BY evse_uid LIMIT ${evsesScannedMax}`,
    [tenantId, locationId],
  );
  return rows.length === 1 ? rows[0]!.evse_uid : null;
}
