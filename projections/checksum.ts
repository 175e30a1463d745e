import { quoteIdentifier, type SqlExecutor } from '../adapters/sql/port.js';
import type { Projection } from './projection.js';

/**
 * A deterministic digest of a projection schema's read-model contents: per table, md5 over the
 * md5 of every row's text form, in primary-key order; then md5 over the tables' digests. Row
 * digests first keep the aggregated string at 32 bytes a row rather than the rows' full size.
 * The checkpoint table is left out: both copies are compared at the same position by construction.
 */
export async function schemaChecksum(db: SqlExecutor, projection: Projection, schema: string): Promise<string> {
  const digests: string[] = [];
  for (const { table, orderBy } of projection.checksumTables) {
    const order = orderBy.map((column) => `t.${quoteIdentifier(column)}`).join(', ');
    const { rows } = await db.query<{ digest: string }>(
      `SELECT md5(coalesce(string_agg(md5(t::text), '' ORDER BY ${order}), '')) AS digest
         FROM ${quoteIdentifier(schema)}.${quoteIdentifier(table)} t`,
    );
    digests.push(`${table}:${rows[0]!.digest}`);
  }
  const { rows } = await db.query<{ digest: string }>(`SELECT md5($1) AS digest`, [digests.join('\n')]);
  return rows[0]!.digest;
}
