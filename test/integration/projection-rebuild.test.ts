import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPostgresEventStore } from '../../adapters/event-store/postgres.js';
import type { EventStore } from '../../adapters/event-store/port.js';
import type { SqlDatabase } from '../../adapters/sql/port.js';
import { history } from '../../projections/fixtures.js';
import { migrateProjections, rebuildProjection, startProjectionRunners, verifyProjection } from '../../projections/index.js';
import { readState } from '../../projections/schema.js';
import { stationsProjection } from '../../projections/stations.js';
import { createTestPgliteDatabase, createTestPostgresDatabase, requirePostgres } from '../support/services.js';

const postgresAvailable = await requirePostgres();

async function appendHistory(store: EventStore, tenantId: string, stations: number): Promise<void> {
  for (const stream of history({ tenantId, stations, transactionsPerStation: 3, readingsPerTransaction: 5, tokens: 5 })) {
    await store.append(stream.streamId, stream.events, 'no_stream');
  }
}

function rebuildSuite(name: string, open: () => Promise<{ db: SqlDatabase; done(): Promise<void> }>) {
  describe(`projection rebuild and verify (${name})`, () => {
    let db: SqlDatabase;
    let done: () => Promise<void>;
    let store: EventStore;
    let runners: ReturnType<typeof startProjectionRunners>;
    beforeAll(async () => {
      ({ db, done } = await open());
      store = await openPostgresEventStore(db);
      await appendHistory(store, 'acme', 10);
      await migrateProjections({ eventStore: store, db });
      runners = startProjectionRunners({ eventStore: store, db }, { owner: 'node-a', batchSize: 50 });
      await runners.idle();
    });
    afterAll(async () => {
      await runners.stop();
      await store.close();
      await done();
    });

    it('rebuild keeps the live schema serving, swaps in an identical copy, and the runner carries on', async () => {
      let reads = 0;
      let readErrors = 0;
      let reading = true;
      const reader = (async () => {
        while (reading) {
          try {
            await db.query(`SELECT count(*) FROM proj_sessions.transactions`);
            reads++;
          } catch {
            readErrors++;
          }
          await new Promise((resolve) => setTimeout(resolve, 2));
        }
      })();
      const progress: number[] = [];
      const rebuilding = rebuildProjection({ eventStore: store, db }, 'sessions', { onProgress: (applied) => progress.push(applied) });
      await appendHistory(store, 'other', 3); // new events while the rebuild runs
      const result = await rebuilding;
      reading = false;
      await reader;
      expect(readErrors).toBe(0);
      expect(reads).toBeGreaterThan(0);
      expect(result.events).toBeGreaterThan(0);
      expect(progress.at(-1)).toBe(result.events);
      const leftovers = await db.query(`SELECT nspname FROM pg_namespace WHERE nspname LIKE 'proj_sessions__%'`);
      expect(leftovers.rows).toEqual([]);
      await runners.idle(); // the live runner took its lease back and applied the tail
      expect((await readState(db, 'proj_sessions')).checkpoint).toEqual(await store.headPosition());
      const verified = await verifyProjection({ eventStore: store, db }, 'sessions');
      expect(verified.identical).toBe(true);
      expect(verified.liveChecksum).toBe(verified.rebuiltChecksum);
    });

    it('verify detects a tampered live row, and a rebuild repairs it', async () => {
      await runners.idle();
      expect((await verifyProjection({ eventStore: store, db }, 'tokens')).identical).toBe(true);
      await db.query(`UPDATE proj_tokens.tokens SET status = 'valid', blocked = false WHERE uid = 'TOKEN0' AND tenant_id = 'acme'`);
      const tampered = await verifyProjection({ eventStore: store, db }, 'tokens');
      expect(tampered.identical).toBe(false);
      await rebuildProjection({ eventStore: store, db }, 'tokens');
      expect((await verifyProjection({ eventStore: store, db }, 'tokens')).identical).toBe(true);
      const { rows } = await db.query<{ status: string }>(`SELECT status FROM proj_tokens.tokens WHERE uid = 'TOKEN0' AND tenant_id = 'acme'`);
      expect(rows).toEqual([{ status: 'blocked' }]);
    });

    it('a stale live schema (older version) is rebuilt when the runners start', async () => {
      await runners.stop();
      await db.query(`UPDATE proj_stations.projection_state SET version = 0`);
      await db.query(`DELETE FROM proj_stations.connectors`);
      runners = startProjectionRunners({ eventStore: store, db }, { owner: 'node-a' });
      await runners.idle();
      for (let i = 0; i < 200 && (await readState(db, 'proj_stations')).version !== stationsProjection.version; i++) await new Promise((r) => setTimeout(r, 50));
      expect((await readState(db, 'proj_stations')).version).toBe(stationsProjection.version);
      expect((await verifyProjection({ eventStore: store, db }, 'stations')).identical).toBe(true);
    });
  });
}

rebuildSuite('PGlite', async () => {
  const db = await createTestPgliteDatabase();
  return { db, done: () => db.close() };
});

describe.skipIf(!postgresAvailable)('with PostgreSQL', () => {
  rebuildSuite('PostgreSQL', async () => {
    const database = await createTestPostgresDatabase('proj_rebuild');
    return { db: database.open(), done: () => database.drop() };
  });
});
