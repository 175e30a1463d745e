import { randomUUID } from 'node:crypto';
import { positionToString, type EventStore } from '../adapters/event-store/port.js';
import { quoteIdentifier, type SqlDatabase } from '../adapters/sql/port.js';
import { checkLease, leaseDurationMs, releaseLease, takeLease } from './lease.js';
import type { Projection } from './projection.js';
import { replayInto } from './replay.js';
import { schemaChecksum } from './checksum.js';
import { asideSchemaName, dropSchema, liveSchemaName, migrateProjectionSchema, nextAsideNumber, readState, schemaExists } from './schema.js';

/** A live runner hands over at its next batch or idle check; a dead one within a lease duration. */
export const leaseTakeoverTimeoutMs = 2 * leaseDurationMs + 5_000;

export interface ReplayDeps {
  readonly store: EventStore;
  readonly db: SqlDatabase;
  readonly log: (message: string) => void;
  readonly onProgress?: (appliedEvents: number, totalEvents: number | null) => void;
  readonly totalEvents?: number | null;
}

/**
 * Rebuild (docs/design.md, "Projections"): replay every event into a fresh `proj_<name>__rebuild_<n>`
 * in short transactions while the live schema keeps serving and its runner keeps running; then
 * take the lease (the live runner steps aside), catch up the tail, and in ONE transaction rename
 * live → old, fresh → live and drop old. Readers see the old or the new schema, never neither.
 * `owner` with `leaseHeld`: the caller (a runner rebuilding a stale projection) already holds it.
 */
export async function rebuild(
  deps: ReplayDeps,
  projection: Projection,
  options: { owner?: string; leaseHeld?: boolean } = {},
): Promise<{ events: number; durationMs: number }> {
  const started = performance.now();
  const owner = options.owner ?? `rebuild:${randomUUID()}`;
  const live = liveSchemaName(projection.name);
  const fresh = asideSchemaName(projection.name, 'rebuild', await nextAsideNumber(deps.db, projection.name));
  await migrateProjectionSchema(deps.db, projection, fresh);
  try {
    const progress = (events: number) => deps.onProgress?.(events, deps.totalEvents ?? null);
    let events = await replayInto(deps.store, deps.db, projection, fresh, { leaseOwner: options.leaseHeld ? owner : null, onPage: progress });
    deps.log(`projection ${projection.name}: replayed ${events} events into ${fresh}, taking the lease to swap`);
    if (!options.leaseHeld) await takeLease(deps.db, projection.name, owner, leaseTakeoverTimeoutMs);
    try {
      events += await replayInto(deps.store, deps.db, projection, fresh, {
        leaseOwner: owner,
        onPage: (tail) => progress(events + tail),
      });
      const old = asideSchemaName(projection.name, 'old', await nextAsideNumber(deps.db, projection.name));
      await deps.db.transaction(async (tx) => {
        const lease = await checkLease(tx, projection.name, owner);
        if (lease !== 'held') throw new Error(`projection ${projection.name}: lease ${lease} before the swap`);
        if (await schemaExists(tx, live)) await tx.exec(`ALTER SCHEMA ${quoteIdentifier(live)} RENAME TO ${quoteIdentifier(old)}`);
        await tx.exec(`ALTER SCHEMA ${quoteIdentifier(fresh)} RENAME TO ${quoteIdentifier(live)}`);
        await tx.exec(`DROP SCHEMA IF EXISTS ${quoteIdentifier(old)} CASCADE`);
      });
      const state = await readState(deps.db, live);
      deps.log(`projection ${projection.name}: swapped in at ${state.checkpoint ? positionToString(state.checkpoint) : 'the start'}`);
      return { events, durationMs: performance.now() - started };
    } finally {
      if (!options.leaseHeld) await releaseLease(deps.db, projection.name, owner);
    }
  } finally {
    await dropSchema(deps.db, fresh); // gone already after a swap; a failed rebuild leaves nothing
  }
}

/**
 * Verify: rebuild aside, take the lease so the live runner pauses, bring the aside copy to
 * exactly the live checkpoint, and compare checksums of both; the aside copy is always dropped.
 */
export async function verify(
  deps: ReplayDeps,
  projection: Projection,
): Promise<{ position: string | null; liveChecksum: string; rebuiltChecksum: string; identical: boolean }> {
  const owner = `verify:${randomUUID()}`;
  const live = liveSchemaName(projection.name);
  const aside = asideSchemaName(projection.name, 'verify', await nextAsideNumber(deps.db, projection.name));
  await migrateProjectionSchema(deps.db, projection, aside);
  try {
    const progress = (events: number) => deps.onProgress?.(events, deps.totalEvents ?? null);
    // Most of the work without the lease, up to the live checkpoint as it is now.
    const before = (await readState(deps.db, live)).checkpoint;
    let events = before === null ? 0 : await replayInto(deps.store, deps.db, projection, aside, { upTo: before, onPage: progress });
    await takeLease(deps.db, projection.name, owner, leaseTakeoverTimeoutMs);
    try {
      const at = (await readState(deps.db, live)).checkpoint;
      if (at !== null) events += await replayInto(deps.store, deps.db, projection, aside, { upTo: at, onPage: (tail) => progress(events + tail) });
      const liveChecksum = await schemaChecksum(deps.db, projection, live);
      const rebuiltChecksum = await schemaChecksum(deps.db, projection, aside);
      return { position: at === null ? null : positionToString(at), liveChecksum, rebuiltChecksum, identical: liveChecksum === rebuiltChecksum };
    } finally {
      await releaseLease(deps.db, projection.name, owner);
    }
  } finally {
    await dropSchema(deps.db, aside);
  }
}
