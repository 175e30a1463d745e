import type { RecordedEvent } from '../adapters/event-store/port.js';
import type { SqlExecutor } from '../adapters/sql/port.js';

/** A table as the checksum sees it: rows compared in primary-key order. */
export interface ChecksumTable {
  readonly table: string;
  /** Primary-key columns, tenant_id first: the deterministic row order of the checksum. */
  readonly orderBy: readonly string[];
}

/**
 * A read model fed from $all (docs/design.md, "Projections"). The runner calls `applyBatch` with the
 * batch's handled events, already upcast, inside the transaction that also moves the checkpoint.
 * `applyBatch` must write in bulk (load the rows it needs in one query, upsert them in one
 * statement per table): replaying a million events row by row is what makes rebuilds slow.
 * It must be a pure function of the events (no now(), no random ids), or a rebuilt copy
 * would not match the live schema and `verify` would report a difference that is not a bug.
 */
export interface Projection {
  /** [a-z][a-z0-9_]*: the live schema is `proj_<name>`. */
  readonly name: string;
  /** Bump when the read model changes meaning: a live schema of another version is stale and rebuilt. */
  readonly version: number;
  readonly handledEventTypes: ReadonlySet<string>;
  /** migrations/<group>/*.sql, applied with search_path set to the projection's schema. */
  readonly migrationsGroup: string;
  readonly checksumTables: readonly ChecksumTable[];
  applyBatch(tx: SqlExecutor, schema: string, events: readonly RecordedEvent[]): Promise<void>;
}

/** Projection names become schema names; refuse anything that would need quoting. */
export function assertProjectionName(name: string): void {
  if (!/^[a-z][a-z0-9_]{0,30}$/.test(name) || name.includes('__')) {
    throw new Error(`projection name must match [a-z][a-z0-9_]{0,30} without "__": ${name}`);
  }
}
