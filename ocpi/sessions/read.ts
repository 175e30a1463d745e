import { requestAudience } from '../client/partners.js';
import { quoteIdentifier, type SqlExecutor } from '../../adapters/sql/port.js';
import { liveSchemaName } from '../../projections/schema.js';
import { findEvseByStation } from '../locations/lookup.js';
import { findTariff } from '../tariffs/read.js';
import { sessionSchema, type Session } from '../schemas/index.js';
import type { OcpiParty } from '../transport/headers.js';
import type { PageRequest } from '../transport/pagination.js';
import { sessionOf, type PeriodRow, type SessionRow } from './objects.js';

/**
 * Reads of `proj_ocpi_sessions` for the Sessions Sender (list GET, charging preferences, push).
 * Every Session leaves through `sendableSession`: placed in our locations and checked against
 * the OCPI 2.2.1 schema.
 */

const sessions = () => `${quoteIdentifier(liveSchemaName('ocpi_sessions'))}.sessions`;
const periodsTable = () => `${quoteIdentifier(liveSchemaName('ocpi_sessions'))}.charging_periods`;

/** Currency when the connector names no tariff we know (our deployments so far are in the euro zone). */
export const sessionCurrencyDefault = 'EUR';

/**
 * Sessions a station ran that cannot be expressed in OCPI (the station is in no location, the
 * connector is unknown there, or the object fails the schema): skipped, and counted for metrics.
 */
export const ocpiSessionsSkipped = { unlocated: 0, invalid: 0 };

/** Whose sessions a partner sees: its own parties' tokens; a HUB sees every session. */
export interface SessionAudience {
  readonly all: boolean;
  readonly parties: readonly OcpiParty[];
}

/** From the request: the sender party, as the transport resolved it (no read model lag after a handshake). */
export function audienceOf(request: Parameters<typeof requestAudience>[0]): SessionAudience {
  const audience = requestAudience(request);
  return { all: audience.hub, parties: audience.parties };
}

/** SQL condition on the token's party (a token without one is ours), from parameter `$first` on. */
function audienceFilter(audience: SessionAudience, us: OcpiParty, first: number): { sql: string; params: unknown[] } {
  if (audience.all) return { sql: 'true', params: [] };
  return {
    sql: `(coalesce(token_country_code, $${first}) || '*' || coalesce(token_party_id, $${first + 1})) = ANY($${first + 2}::text[])`,
    params: [us.countryCode, us.partyId, audience.parties.map((party) => `${party.countryCode}*${party.partyId}`)],
  };
}

export function isForAudience(row: Pick<SessionRow, 'token_country_code' | 'token_party_id'>, audience: SessionAudience, us: OcpiParty): boolean {
  if (audience.all) return true;
  const cc = row.token_country_code ?? us.countryCode;
  const pid = row.token_party_id ?? us.partyId;
  return audience.parties.some((party) => party.countryCode === cc && party.partyId === pid);
}

/** Started sessions the audience sees, by last_updated (oldest first, ties by id), paged as spec 4.1.4.1 says. */
export async function listSessionRows(db: SqlExecutor, tenantId: string, page: PageRequest, audience: SessionAudience, us: OcpiParty): Promise<{ rows: SessionRow[]; total: number }> {
  const filter = audienceFilter(audience, us, 4);
  const where = `tenant_id = $1 AND status <> 'AUTHORIZED' AND ($2::timestamptz IS NULL OR last_updated >= $2) AND ($3::timestamptz IS NULL OR last_updated < $3) AND ${filter.sql}`;
  const params = [tenantId, page.dateFrom?.toISOString() ?? null, page.dateTo?.toISOString() ?? null, ...filter.params];
  const { rows: counted } = await db.query<{ total: string }>(`SELECT count(*)::text AS total FROM ${sessions()} WHERE ${where}`, params);
  const next = params.length + 1;
  const { rows } = await db.query<SessionRow>(
    `SELECT * FROM ${sessions()} WHERE ${where} ORDER BY last_updated, session_id OFFSET $${next} LIMIT $${next + 1}`,
    [...params, page.offset, page.limit],
  );
  return { rows, total: Number(counted[0]?.total ?? 0) };
}

export async function findSessionRow(db: SqlExecutor, tenantId: string, sessionId: string): Promise<SessionRow | null> {
  const { rows } = await db.query<SessionRow>(`SELECT * FROM ${sessions()} WHERE tenant_id = $1 AND session_id = $2 AND status <> 'AUTHORIZED'`, [tenantId, sessionId]);
  return rows[0] ?? null;
}

/** Session ids after `afterKey` in the order they last changed, oldest first (`csms ocpi sync`). */
export async function sessionKeys(db: SqlExecutor, tenantId: string, afterKey: string | null, limit: number): Promise<string[]> {
  const { rows } = await db.query<{ session_id: string }>(
    `SELECT s.session_id FROM ${sessions()} s
      WHERE s.tenant_id = $1 AND s.status <> 'AUTHORIZED'
        AND ($2::text IS NULL OR (s.last_updated, s.session_id) > (SELECT c.last_updated, c.session_id FROM ${sessions()} c WHERE c.tenant_id = $1 AND c.session_id = $2))
      ORDER BY s.last_updated, s.session_id LIMIT $3`,
    [tenantId, afterKey, limit],
  );
  return rows.map((row) => row.session_id);
}

async function periodsOf(db: SqlExecutor, tenantId: string, sessionId: string): Promise<PeriodRow[]> {
  // The projection keeps at most ocpiSessionPeriodsMax (500) per session: the query is bounded.
  const { rows } = await db.query<PeriodRow>(`SELECT * FROM ${periodsTable()} WHERE tenant_id = $1 AND session_id = $2 ORDER BY period_index LIMIT 500`, [tenantId, sessionId]);
  return rows;
}

/** The currency of the connector's first tariff we publish, else the default. */
async function currencyOf(db: SqlExecutor, tenantId: string, placement: { locationId: string; evseUid: string; connectorId: string }): Promise<string> {
  const { rows } = await db.query<{ tariff_ids: string }>(
    `SELECT tariff_ids FROM ${quoteIdentifier(liveSchemaName('locations'))}.location_connectors WHERE tenant_id = $1 AND location_id = $2 AND evse_uid = $3 AND connector_id = $4`,
    [tenantId, placement.locationId, placement.evseUid, placement.connectorId],
  );
  const tariffId = rows[0] === undefined ? undefined : (JSON.parse(rows[0].tariff_ids) as string[])[0];
  if (tariffId === undefined) return sessionCurrencyDefault;
  const tariff = await findTariff(db, tenantId, tariffId);
  return tariff === null ? sessionCurrencyDefault : ((JSON.parse(tariff.tariff_json) as { currency?: string }).currency ?? sessionCurrencyDefault);
}

/**
 * The Session for a row, or null when it cannot be expressed in OCPI: a Session must name a
 * location, EVSE and connector, so a session at a station that is in no location (or at a
 * connector the EVSE does not list) is skipped and counted. One that fails the schema is our
 * bug: skipped, counted and logged by the caller, never sent. `now` closes an active session's
 * last charging period (objects.ts chargingPeriodsOf).
 */
export async function sendableSession(db: SqlExecutor, tenantId: string, us: OcpiParty, row: SessionRow, log?: (message: string) => void, now?: Date): Promise<Session | null> {
  const evse = row.station_id === null || row.station_evse_id === null ? null : await findEvseByStation(db, tenantId, row.station_id, row.station_evse_id);
  const connector = evse?.connectors.find((c) => c.stationConnectorId === row.station_connector_id) ?? (evse?.connectors.length === 1 ? evse.connectors[0] : undefined);
  if (evse === null || connector === undefined) {
    ocpiSessionsSkipped.unlocated += 1;
    return null;
  }
  const placement = { locationId: evse.locationId, evseUid: evse.evseUid, connectorId: connector.connectorId };
  const session = sessionOf(row, await periodsOf(db, tenantId, row.session_id), placement, await currencyOf(db, tenantId, placement), us, now);
  const parsed = sessionSchema.safeParse(session);
  if (parsed.success) return parsed.data;
  ocpiSessionsSkipped.invalid += 1;
  log?.(`session ${row.session_id} fails the OCPI 2.2.1 Session schema: ${parsed.error.issues.slice(0, 5).map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return null;
}
