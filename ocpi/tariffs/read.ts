import type { SqlExecutor } from '../../adapters/sql/port.js';
import { liveSchemaName } from '../../projections/schema.js';
import { tariffSchema, type Tariff } from '../schemas/index.js';
import type { Page, PageRequest } from '../transport/pagination.js';

/**
 * Reads of the `tariffs` read model for the Tariffs Sender (list GET and push). Every tariff
 * leaves through `sendableTariff`: what fails the OCPI 2.2.1 schema is our bug and is not sent.
 */

const table = () => `${liveSchemaName('tariffs')}.tariffs`;

export interface TariffRow {
  readonly tariff_id: string;
  readonly country_code: string;
  readonly party_id: string;
  readonly active: boolean;
  readonly tariff_json: string;
}

/** The stored OCPI Tariff, checked against the spec schema; throws (a server error) when it fails. */
export function sendableTariff(row: Pick<TariffRow, 'tariff_id' | 'tariff_json'>): Tariff {
  const parsed = tariffSchema.safeParse(JSON.parse(row.tariff_json));
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.slice(0, 10).map((issue) => `${issue.path.join('.')}: ${issue.message}`);
  throw new Error(`tariff ${row.tariff_id} fails the OCPI 2.2.1 Tariff schema: ${problems.join('; ')}`);
}

/** Active tariffs by last_updated (oldest first, ties by id), filtered and paged as spec 4.1.4.1 says. */
export async function listActiveTariffs(db: SqlExecutor, tenantId: string, page: PageRequest): Promise<Page<Tariff>> {
  const filter = `tenant_id = $1 AND active AND ($2::timestamptz IS NULL OR last_updated >= $2) AND ($3::timestamptz IS NULL OR last_updated < $3)`;
  const params = [tenantId, page.dateFrom?.toISOString() ?? null, page.dateTo?.toISOString() ?? null];
  const { rows: counted } = await db.query<{ total: string }>(`SELECT count(*)::text AS total FROM ${table()} WHERE ${filter}`, params);
  const { rows } = await db.query<TariffRow>(
    `SELECT tariff_id, tariff_json FROM ${table()} WHERE ${filter} ORDER BY last_updated, tariff_id OFFSET $4 LIMIT $5`,
    [...params, page.offset, page.limit],
  );
  return { items: rows.map(sendableTariff), total: Number(counted[0]?.total ?? 0) };
}

export async function findTariff(db: SqlExecutor, tenantId: string, tariffId: string): Promise<TariffRow | null> {
  const { rows } = await db.query<TariffRow>(
    `SELECT tariff_id, country_code, party_id, active, tariff_json FROM ${table()} WHERE tenant_id = $1 AND tariff_id = $2`,
    [tenantId, tariffId],
  );
  return rows[0] ?? null;
}

/** Tariff ids after `afterKey` in the order they were last changed, oldest first (`csms ocpi sync`). */
export async function tariffKeys(db: SqlExecutor, tenantId: string, afterKey: string | null, limit: number): Promise<string[]> {
  // Keyset on (last_updated, tariff_id): the key alone locates the cursor row.
  const { rows } = await db.query<{ tariff_id: string }>(
    `SELECT t.tariff_id FROM ${table()} t
      WHERE t.tenant_id = $1 AND t.active
        AND ($2::text IS NULL OR (t.last_updated, t.tariff_id) > (SELECT c.last_updated, c.tariff_id FROM ${table()} c WHERE c.tenant_id = $1 AND c.tariff_id = $2))
      ORDER BY t.last_updated, t.tariff_id LIMIT $3`,
    [tenantId, afterKey, limit],
  );
  return rows.map((row) => row.tariff_id);
}
