import { requestAudience } from '../client/partners.js';
import type { SqlExecutor } from '../../adapters/sql/port.js';
import { liveSchemaName } from '../../projections/schema.js';
import type { Cdr } from '../schemas/index.js';
import type { OcpiParty } from '../transport/headers.js';
import type { Page, PageRequest } from '../transport/pagination.js';
import { sendableCdr } from './wire.js';

/**
 * Reads of the `cdrs` read model for the CDRs Sender. A CDR belongs to the eMSP of its token
 * (`emsp` = `<country>-<party>`): a partner sees the CDRs of its own parties; a hub those of
 * every party it connects to, which we do not know one by one, so all of them.
 */

const cdrsTable = () => `${liveSchemaName('cdrs')}.cdrs`;

/** Which CDRs a partner may see: every one (hub) or those of these `<CC>-<PID>` parties. */
export type CdrAudience = { readonly all: true } | { readonly all: false; readonly parties: readonly string[] };

export const partyKey = (party: OcpiParty) => `${party.countryCode.toUpperCase()}-${party.partyId.toUpperCase()}`;

/** From the request: the sender party, as the transport resolved it (no read model lag after a handshake). */
export function cdrAudienceOf(request: Parameters<typeof requestAudience>[0]): CdrAudience {
  const audience = requestAudience(request);
  if (audience.hub) return { all: true };
  return { all: false, parties: [...new Set(audience.parties.map(partyKey))] };
}

export async function listCdrs(db: SqlExecutor, tenantId: string, audience: CdrAudience, page: PageRequest): Promise<Page<Cdr>> {
  if (!audience.all && audience.parties.length === 0) return { items: [], total: 0 };
  const filter = `tenant_id = $1 AND ($2::boolean OR upper(emsp) = ANY($3::text[]))
    AND ($4::timestamptz IS NULL OR last_updated >= $4) AND ($5::timestamptz IS NULL OR last_updated < $5)`;
  const params = [tenantId, audience.all, audience.all ? [] : audience.parties, page.dateFrom?.toISOString() ?? null, page.dateTo?.toISOString() ?? null];
  const { rows: counted } = await db.query<{ total: string }>(`SELECT count(*)::text AS total FROM ${cdrsTable()} WHERE ${filter}`, params);
  const { rows } = await db.query<{ cdr_id: string; cdr_json: string }>(
    `SELECT cdr_id, cdr_json FROM ${cdrsTable()} WHERE ${filter} ORDER BY last_updated, cdr_id OFFSET $6 LIMIT $7`,
    [...params, page.offset, page.limit],
  );
  return { items: rows.map((row) => sendableCdr(row.cdr_id, row.cdr_json)), total: Number(counted[0]?.total ?? 0) };
}

export async function findCdr(db: SqlExecutor, tenantId: string, cdrId: string): Promise<{ cdr_id: string; emsp: string; cdr_json: string } | null> {
  const { rows } = await db.query<{ cdr_id: string; emsp: string; cdr_json: string }>(
    `SELECT cdr_id, emsp, cdr_json FROM ${cdrsTable()} WHERE tenant_id = $1 AND cdr_id = $2`,
    [tenantId, cdrId],
  );
  return rows[0] ?? null;
}

/** CDR ids after `afterKey`, oldest first (a CDR's last_updated never changes after issue). */
export async function cdrKeys(db: SqlExecutor, tenantId: string, afterKey: string | null, limit: number): Promise<string[]> {
  const { rows } = await db.query<{ cdr_id: string }>(
    `SELECT t.cdr_id FROM ${cdrsTable()} t
      WHERE t.tenant_id = $1
        AND ($2::text IS NULL OR (t.last_updated, t.cdr_id) > (SELECT c.last_updated, c.cdr_id FROM ${cdrsTable()} c WHERE c.tenant_id = $1 AND c.cdr_id = $2))
      ORDER BY t.last_updated, t.cdr_id LIMIT $3`,
    [tenantId, afterKey, limit],
  );
  return rows.map((row) => row.cdr_id);
}
