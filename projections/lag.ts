import { comparePositions, readAllLimitMax, type EventStore, type Position } from '../adapters/event-store/port.js';
import { quoteIdentifier, type SqlDatabase } from '../adapters/sql/port.js';

/** Counting by paging through $all stops here: status must stay cheap on a far-behind projection. */
export const lagCountEventsMax = 100_000;

/**
 * Events after `after` up to and including `head`. On the Postgres/PGlite store, when its events
 * table is in the same database, one count(*) over its (transaction_id, seq) index: exact and
 * cheap. Otherwise by reading $all pages, exact up to `lagCountEventsMax` and null beyond (unknown).
 */
export async function countEventsBetween(
  store: EventStore,
  db: SqlDatabase,
  eventStoreSchema: string,
  after: Position | null,
  head: Position | null,
): Promise<number | null> {
  if (head === null) return 0;
  if (after !== null && comparePositions(after, head) >= 0) return 0;
  if (store.kind === 'postgres' || store.kind === 'pglite') {
    try {
      const { rows } = await db.query<{ count: string }>(
        `SELECT count(*)::text AS count FROM ${quoteIdentifier(eventStoreSchema)}.events
          WHERE (transaction_id, seq) > ($1::xid8, $2::int8) AND (transaction_id, seq) <= ($3::xid8, $4::int8)`,
        [after?.commit.toString() ?? '0', after?.prepare.toString() ?? '0', head.commit.toString(), head.prepare.toString()],
      );
      return Number(rows[0]!.count);
    } catch {
      // The store's table is in another database (or shaped otherwise): count by reading.
    }
  }
  let counted = 0;
  let position = after ?? undefined;
  while (counted < lagCountEventsMax) {
    const page = await store.readAll({ after: position, limit: readAllLimitMax });
    for (const event of page) {
      if (comparePositions(event.position, head) > 0) return counted;
      counted++;
    }
    if (page.length < readAllLimitMax) return counted;
    position = page.at(-1)!.position;
  }
  return null;
}
