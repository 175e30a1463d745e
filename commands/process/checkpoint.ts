import { comparePositions, type Position } from '../../adapters/event-store/port.js';
import type { SqlDatabase } from '../../adapters/sql/port.js';
import { invariant } from '../../domain/shared/assert.js';
import { migrate } from '../../adapters/sql/migrate.js';

/** Where a process manager keeps its place in $all. Forward only (docs/style.md). */
export interface CheckpointStore {
  load(): Promise<Position | null>;
  save(from: Position | null, to: Position, events: number): Promise<void>;
  /** A session that could not be billed: refused commands, kept for an operator. */
  recordFailure(failure: { tenantId: string; eventId: string; streamId: string; eventType: string; error: string }): Promise<void>;
}

export const processSchema = 'process_cdr_issuer';
export const processMigrationsGroup = 'process-cdr-issuer';

export async function postgresCheckpoint(db: SqlDatabase, name: string): Promise<CheckpointStore> {
  await migrate(db, processMigrationsGroup, processSchema);
  await db.query(`INSERT INTO ${processSchema}.checkpoint (name) VALUES ($1) ON CONFLICT DO NOTHING`, [name]);
  return {
    async load() {
      const { rows } = await db.query<{ c: string | null; p: string | null }>(
        `SELECT checkpoint_commit::text AS c, checkpoint_prepare::text AS p FROM ${processSchema}.checkpoint WHERE name = $1`,
        [name],
      );
      const row = rows[0];
      return row?.c == null || row.p == null ? null : { commit: BigInt(row.c), prepare: BigInt(row.p) };
    },
    async save(from, to, events) {
      invariant(from === null || comparePositions(to, from) > 0, `checkpoint of ${name} moves forward`);
      const { rowCount } = await db.query(
        `UPDATE ${processSchema}.checkpoint SET checkpoint_commit = $2, checkpoint_prepare = $3, events_seen = events_seen + $4
          WHERE name = $1 AND checkpoint_commit IS NOT DISTINCT FROM $5::numeric AND checkpoint_prepare IS NOT DISTINCT FROM $6::numeric`,
        [name, to.commit.toString(), to.prepare.toString(), events, from?.commit.toString() ?? null, from?.prepare.toString() ?? null],
      );
      // Someone else moved it (a second runner without the lease): a bug in the lease handling.
      invariant(rowCount === 1, `checkpoint of ${name} was still where this batch started`);
    },
    async recordFailure(f) {
      await db.query(
        `INSERT INTO ${processSchema}.failures (tenant_id, event_id, stream_id, event_type, error) VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT (tenant_id, event_id) DO UPDATE SET error = excluded.error, failed_at = now()`,
        [f.tenantId, f.eventId, f.streamId, f.eventType, f.error.slice(0, 2000)],
      );
    },
  };
}

/** For tests with the in-memory event store. */
export function memoryCheckpoint(): CheckpointStore & { failures: { eventId: string; error: string }[] } {
  let at: Position | null = null;
  const failures: { eventId: string; error: string }[] = [];
  return {
    failures,
    load: async () => at,
    async save(from, to) {
      invariant(from === at && (from === null || comparePositions(to, from) > 0), 'checkpoint moves forward from where it was');
      at = to;
    },
    async recordFailure(f) {
      failures.push({ eventId: f.eventId, error: f.error });
    },
  };
}
