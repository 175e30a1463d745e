import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPostgresEventStore } from '../../adapters/event-store/postgres.js';
import { waitUntilVisible } from '../../adapters/event-store/visibility.js';
import type { EventStore, RecordedEvent } from '../../adapters/event-store/port.js';
import type { SqlDatabase, SqlExecutor } from '../../adapters/sql/port.js';
import { applyPage } from '../../projections/apply.js';
import { history, tokenHistory } from '../../projections/fixtures.js';
import { allProjections, migrateProjections, projectionStatus, startProjectionRunners } from '../../projections/index.js';
import { migrateLeases } from '../../projections/lease.js';
import type { Projection } from '../../projections/projection.js';
import { advanceCheckpoint, liveSchemaName, migrateProjectionSchema, readState } from '../../projections/schema.js';
import { createTestPgliteDatabase, createTestPostgresDatabase, requirePostgres } from '../support/services.js';

const postgresAvailable = await requirePostgres();
const tenantId = 'acme';

/** Counts events per stream; can be told to throw after writing, like a bug met mid-batch. */
function countingProjection(behaviour: { failAfterWrite: boolean; batches: number }): Projection {
  return {
    name: 'testcount',
    version: 1,
    handledEventTypes: new Set(['TokenIssued', 'TokenBlocked']),
    migrationsGroup: 'projection-testcount',
    checksumTables: [{ table: 'counts', orderBy: ['tenant_id', 'stream_id'] }],
    async applyBatch(tx: SqlExecutor, schema: string, events: readonly RecordedEvent[]) {
      behaviour.batches++;
      const perStream = new Map<string, number>();
      for (const event of events) perStream.set(event.streamId, (perStream.get(event.streamId) ?? 0) + 1);
      await tx.query(
        `INSERT INTO ${schema}.counts SELECT $1, s, n FROM unnest($2::text[], $3::int[]) AS x(s, n)
         ON CONFLICT (tenant_id, stream_id) DO UPDATE SET events = counts.events + excluded.events`,
        [tenantId, [...perStream.keys()], [...perStream.values()]],
      );
      if (behaviour.failAfterWrite) throw new Error('bug met midway through the batch');
    },
  };
}

async function counts(db: SqlDatabase): Promise<Record<string, number>> {
  const { rows } = await db.query<{ stream_id: string; events: number }>(`SELECT stream_id, events FROM proj_testcount.counts ORDER BY stream_id`);
  return Object.fromEntries(rows.map((row) => [row.stream_id, row.events]));
}

async function appendTokens(store: EventStore, from: number, to: number): Promise<void> {
  for (let i = from; i < to; i++) {
    const stream = tokenHistory({ tenantId, stations: 0, transactionsPerStation: 0, readingsPerTransaction: 0, tokens: 0 }, i);
    const appended = await store.append(stream.streamId, stream.events, 'no_stream');
    // Other test files write to the same Postgres cluster; wait until $all readers see ours.
    await waitUntilVisible(store, appended.position);
  }
}
const expectedCounts = (from: number, to: number) =>
  Object.fromEntries(Array.from({ length: to - from }, (_, k) => [`token-acme-TOKEN${from + k}`, (from + k) % 3 === 0 ? 2 : 1]));

async function until(condition: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function runnerSuite(name: string, open: () => Promise<{ db: SqlDatabase; done(): Promise<void> }>) {
  describe(`projection runner (${name})`, () => {
    let db: SqlDatabase;
    let done: () => Promise<void>;
    let store: EventStore;
    beforeAll(async () => {
      ({ db, done } = await open());
      store = await openPostgresEventStore(db);
      await migrateLeases(db);
    });
    afterAll(async () => {
      await store.close();
      await done();
    });

    it('crash: a batch that throws midway leaves rows and checkpoint unchanged; a restart applies it exactly once', async () => {
      await migrateProjectionSchema(db, countingProjection({ failAfterWrite: false, batches: 0 }), 'proj_testcount');
      await appendTokens(store, 0, 6);
      const failing = { failAfterWrite: true, batches: 0 };
      const crashed = startProjectionRunners({ eventStore: store, db }, { owner: 'node-a', projections: [countingProjection(failing)] });
      await until(() => failing.batches >= 2); // it wrote rows, threw, and retried from the same checkpoint
      await crashed.stop();
      expect(await counts(db)).toEqual({});
      expect((await readState(db, 'proj_testcount')).checkpoint).toBeNull();

      const restarted = startProjectionRunners({ eventStore: store, db }, { owner: 'node-a', projections: [countingProjection({ failAfterWrite: false, batches: 0 })] });
      await restarted.idle();
      await restarted.stop();
      expect(await counts(db)).toEqual(expectedCounts(0, 6));
      expect((await readState(db, 'proj_testcount')).checkpoint).toEqual(await store.headPosition());
    });

    it('lease: of two runners for the same projection only one applies; the other takes over when it stops', async () => {
      const a = { failAfterWrite: false, batches: 0 };
      const b = { failAfterWrite: false, batches: 0 };
      const runnerA = startProjectionRunners({ eventStore: store, db }, { owner: 'node-a', batchSize: 2, projections: [countingProjection(a)] });
      await runnerA.idle();
      const runnerB = startProjectionRunners({ eventStore: store, db }, { owner: 'node-b', batchSize: 2, projections: [countingProjection(b)] });
      await appendTokens(store, 6, 12);
      await runnerA.idle();
      await runnerB.idle();
      expect(a.batches).toBeGreaterThan(0);
      expect(b.batches).toBe(0);
      expect(await counts(db)).toEqual(expectedCounts(0, 12));

      await runnerA.stop(); // releases the lease
      await appendTokens(store, 12, 15);
      await runnerB.idle();
      await runnerB.stop();
      expect(b.batches).toBeGreaterThan(0);
      expect(await counts(db)).toEqual(expectedCounts(0, 15));
    });

    it('checkpoint never moves backward: re-applying events behind it is refused', async () => {
      const all = await store.readAll({ limit: 100 });
      const state = await readState(db, 'proj_testcount');
      expect(state.checkpoint).toEqual(all.at(-1)!.position);
      const projection = countingProjection({ failAfterWrite: false, batches: 0 });
      // Events at or behind the checkpoint are refused before anything is written.
      await expect(applyPage(db, projection, 'proj_testcount', state.checkpoint, all.slice(3, 5), null)).rejects.toThrow(/starts after the checkpoint/);
      // A checkpoint update to an earlier position is refused.
      await expect(
        db.transaction((tx) => advanceCheckpoint(tx, 'proj_testcount', state.checkpoint, all[2]!.position, 1)),
      ).rejects.toThrow(/moves forward/);
      // A runner that is behind the stored checkpoint (e.g. after a swap) is told to reload, and writes nothing.
      const outcome = await applyPage(db, projection, 'proj_testcount', all[2]!.position, all.slice(3, 5), null);
      expect(outcome).toEqual({ kind: 'checkpoint-moved', stored: state.checkpoint });
      expect((await readState(db, 'proj_testcount')).checkpoint).toEqual(state.checkpoint);
      expect(await counts(db)).toEqual(expectedCounts(0, 15));
    });

    it('status shows the lag in events, then none once the runners caught up', async () => {
      await migrateProjections({ eventStore: store, db });
      const before = await projectionStatus({ eventStore: store, db });
      const total = (await store.readAll({ limit: 10_000 })).length;
      expect(before.map((s) => s.lagEvents)).toEqual(allProjections().map(() => total));
      let added = 0;
      for (const stream of history({ tenantId, stations: 2, transactionsPerStation: 1, readingsPerTransaction: 3, tokens: 0 })) {
        const appended = await store.append(stream.streamId, stream.events, 'no_stream');
        await waitUntilVisible(store, appended.position);
        added += stream.events.length;
      }
      expect((await projectionStatus({ eventStore: store, db })).map((s) => s.lagEvents)).toEqual(allProjections().map(() => total + added));
      const runners = startProjectionRunners({ eventStore: store, db }, { owner: 'node-a' });
      await runners.idle();
      const during = await projectionStatus({ eventStore: store, db });
      expect(during.map((s) => [s.lagEvents, s.leaseOwner, s.stale])).toEqual(allProjections().map(() => [0, 'node-a', false]));
      await runners.stop();
      expect(liveSchemaName('sessions')).toBe('proj_sessions');
    });
  });
}

runnerSuite('PGlite', async () => {
  const db = await createTestPgliteDatabase();
  return { db, done: () => db.close() };
});

describe.skipIf(!postgresAvailable)('with PostgreSQL', () => {
  runnerSuite('PostgreSQL', async () => {
    const database = await createTestPostgresDatabase('proj_runner');
    return { db: database.open(), done: () => database.drop() };
  });
});
