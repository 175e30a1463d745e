import { quoteIdentifier, type SqlExecutor } from '../../adapters/sql/port.js';
import { liveSchemaName } from '../../projections/schema.js';
import { findEvse, type EvseRef } from '../locations/lookup.js';
import { stationOnline } from './async-results.js';

/**
 * Where an OCPI command goes: the station and its EVSE/connector numbers for an OCPI
 * location/EVSE/connector, or why the CPO refuses it at once (CommandResponse REJECTED with a
 * message: the spec lets the CPO answer REJECTED when it already knows the command cannot run,
 * e.g. the EVSE is offline). A location, EVSE or connector we do not know is `unknown`: the
 * spec answers it with status 2003 (mod_commands, "UNLOCK_CONNECTOR Unknown Location"), as the
 * locations module does for an unknown EVSE or connector.
 */

export type Target =
  | { readonly ok: true; readonly evse: EvseRef; readonly stationConnectorId: number | null }
  | { readonly ok: false; readonly unknown: boolean; readonly message: string };

const refused = (message: string): Target => ({ ok: false, unknown: false, message });
const unknown = (message: string): Target => ({ ok: false, unknown: true, message });

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
  if (evseUid === null) {
    if (!(await locationKnown(db, tenantId, request.locationId))) return unknown(`unknown location ${request.locationId}`);
    return refused(`location ${request.locationId} has no usable EVSE or more than one: name the evse_uid`);
  }
  const evse = await findEvse(db, tenantId, request.locationId, evseUid);
  if (evse === null) {
    if (!(await locationKnown(db, tenantId, request.locationId))) return unknown(`unknown location ${request.locationId}`);
    return unknown(`unknown EVSE ${evseUid} at location ${request.locationId}`);
  }
  if (evse.status === 'REMOVED' || (!request.forUnlock && unusableStatuses.has(evse.status))) {
    return refused(`EVSE ${evseUid} is ${evse.status}`);
  }
  let stationConnectorId: number | null = null;
  if (request.connectorId !== undefined) {
    const connector = evse.connectors.find((candidate) => candidate.connectorId === request.connectorId);
    if (connector === undefined) return unknown(`unknown connector ${request.connectorId} at EVSE ${evseUid}`);
    stationConnectorId = connector.stationConnectorId;
  }
  if (!(await stationOnline(db, tenantId, evse.stationId))) return refused(`EVSE ${evseUid} is offline`);
  return { ok: true, evse, stationConnectorId };
}

/** Known by its row or by an EVSE at it (commands only ever needed its EVSEs, so either is enough). */
async function locationKnown(db: SqlExecutor, tenantId: string, locationId: string): Promise<boolean> {
  const schema = quoteIdentifier(liveSchemaName('locations'));
  const { rows } = await db.query<{ known: boolean }>(
    `SELECT EXISTS (SELECT 1 FROM ${schema}.locations WHERE tenant_id = $1 AND location_id = $2)
         OR EXISTS (SELECT 1 FROM ${schema}.location_evses WHERE tenant_id = $1 AND location_id = $2) AS known`,
    [tenantId, locationId],
  );
  return rows[0]?.known === true;
}

async function onlyEvseOf(db: SqlExecutor, tenantId: string, locationId: string): Promise<string | null> {
  const { rows } = await db.query<{ evse_uid: string }>(
    `SELECT evse_uid FROM ${quoteIdentifier(liveSchemaName('locations'))}.location_evses
      WHERE tenant_id = $1 AND location_id = $2 AND status <> 'REMOVED' ORDER BY evse_uid LIMIT ${evsesScannedMax}`,
    [tenantId, locationId],
  );
  return rows.length === 1 ? rows[0]!.evse_uid : null;
}
