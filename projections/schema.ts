import { comparePositions, type Position } from '../adapters/event-store/port.js';
import { migrate } from '../adapters/sql/migrate.js';
import { quoteIdentifier, type SqlDatabase, type SqlExecutor } from '../adapters/sql/port.js';
import { invariant } from '../domain/shared/assert.js';
import { assertProjectionName, type Projection } from './projection.js';

/** Migration group applied to every projection schema before the projection's own files. */
export const projectionStateMigrationsGroup = 'projection-state';

/** The schema readers query: `proj_<name>`. */
export function liveSchemaName(projectionName: string): string {
  assertProjectionName(projectionName);
  return `proj_${projectionName}`;
}

/** A fresh copy built aside: `proj_<name>__<purpose>_<n>` (purpose: rebuild, verify, old). */
export function asideSchemaName(projectionName: string, purpose: 'rebuild' | 'verify' | 'old', n: number): string {
  return `${liveSchemaName(projectionName)}__${purpose}_${n}`;
}

export async function schemaExists(db: SqlExecutor, schema: string): Promise<boolean> {
  const { rows } = await db.query(`SELECT 1 FROM pg_namespace WHERE nspname = $1`, [schema]);
  return rows.length > 0;
}

/** Next free n for an aside schema, so a rebuild never reuses a copy an earlier crash left behind. */
export async function nextAsideNumber(db: SqlExecutor, projectionName: string): Promise<number> {
  const prefix = `${liveSchemaName(projectionName)}__`;
  const { rows } = await db.query<{ nspname: string }>(`SELECT nspname FROM pg_namespace WHERE starts_with(nspname, $1)`, [prefix]);
  let highest = 0;
  for (const { nspname } of rows) {
    const n = Number(/_(\d+)$/.exec(nspname)?.[1] ?? 0);
    if (n > highest) highest = n;
  }
  return highest + 1;
}

/** Creates (or brings up to date) a projection schema: state table, read-model tables, state row. */
export async function migrateProjectionSchema(db: SqlDatabase, projection: Projection, schema: string): Promise<void> {
  await migrate(db, projectionStateMigrationsGroup, schema);
  await migrate(db, projection.migrationsGroup, schema);
  await db.query(
    `INSERT INTO ${quoteIdentifier(schema)}.projection_state (projection, version) VALUES ($1, $2) ON CONFLICT DO NOTHING`,
    [projection.name, projection.version],
  );
}

export async function dropSchema(db: SqlExecutor, schema: string): Promise<void> {
  await db.exec(`DROP SCHEMA IF EXISTS ${quoteIdentifier(schema)} CASCADE`);
}

export interface ProjectionState {
  readonly version: number;
  readonly checkpoint: Position | null;
  readonly eventsSeen: number;
}

interface StateRow {
  version: number;
  checkpoint_commit: string | null;
  checkpoint_prepare: string | null;
  events_seen: string;
}

function toState(row: StateRow | undefined, schema: string): ProjectionState {
  invariant(row !== undefined, `${schema}.projection_state has its row`);
  const checkpoint =
    row.checkpoint_commit === null || row.checkpoint_prepare === null
      ? null
      : { commit: BigInt(row.checkpoint_commit), prepare: BigInt(row.checkpoint_prepare) };
  return { version: row.version, checkpoint, eventsSeen: Number(row.events_seen) };
}

/** `forUpdate` inside a batch transaction: the checkpoint cannot change under us until commit. */
export async function readState(db: SqlExecutor, schema: string, forUpdate = false): Promise<ProjectionState> {
  const { rows } = await db.query<StateRow>(
    `SELECT version, checkpoint_commit::text, checkpoint_prepare::text, events_seen::text
       FROM ${quoteIdentifier(schema)}.projection_state ${forUpdate ? 'FOR UPDATE' : ''}`,
  );
  return toState(rows[0], schema);
}

/** Moves the checkpoint forward; asserts it never goes back (docs/style.md: "checkpoint moves only forward"). */
export async function advanceCheckpoint(
  tx: SqlExecutor,
  schema: string,
  from: Position | null,
  to: Position,
  events: number,
): Promise<void> {
  invariant(from === null || comparePositions(to, from) > 0, `checkpoint of ${schema} moves forward`);
  const { rowCount } = await tx.query(
    `UPDATE ${quoteIdentifier(schema)}.projection_state
        SET checkpoint_commit = $1, checkpoint_prepare = $2, events_seen = events_seen + $3
      WHERE checkpoint_commit IS NOT DISTINCT FROM $4::numeric AND checkpoint_prepare IS NOT DISTINCT FROM $5::numeric`,
    [to.commit.toString(), to.prepare.toString(), events, from?.commit.toString() ?? null, from?.prepare.toString() ?? null],
  );
  invariant(rowCount === 1, `checkpoint of ${schema} was still where this batch started`);
}
