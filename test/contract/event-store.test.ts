import { randomBytes } from 'node:crypto';
import { afterAll, describe, it } from 'vitest';
import { openMemoryEventStore } from '../../adapters/event-store/memory.js';
import { openPostgresEventStore } from '../../adapters/event-store/postgres.js';
import { createTestPgliteDatabase, createTestPostgresDatabase, requirePostgres } from '../support/services.js';
import { runEventStoreContract } from './event-store.contract.js';

// One contract, every implementation (docs/design.md): a behaviour that differs between them is a bug
// in one of them, found here rather than when a deployment switches stores.

runEventStoreContract('memory', async () => {
  const store = openMemoryEventStore();
  return { store, done: () => store.close() };
});

runEventStoreContract('PGlite', async () => {
  const db = await createTestPgliteDatabase();
  const store = await openPostgresEventStore(db);
  return {
    store,
    async done() {
      await store.close();
      await db.close();
    },
  };
});

const postgresAvailable = await requirePostgres();
if (postgresAvailable) {
  const database = await createTestPostgresDatabase('es_contract');
  const db = database.open();
  runEventStoreContract('Postgres', async () => {
    // A schema of its own per store: each open() starts empty, in one database.
    const store = await openPostgresEventStore(db, { schema: `es_${randomBytes(4).toString('hex')}` });
    return { store, done: () => store.close() };
  });
  afterAll(() => database.drop());
} else {
  describe.skip('event store contract: Postgres (server not reachable)', () => {
    it('runs against a real PostgreSQL server', () => {});
  });
}

const eventStoreUrl = process.env.EVENTSTORE_URL;
if (eventStoreUrl) {
  const { openEventStoreDbEventStore } = await import('../../adapters/event-store/eventstoredb.js');
  runEventStoreContract('EventStoreDB', async () => {
    const store = openEventStoreDbEventStore(eventStoreUrl);
    return { store, done: () => store.close() };
  });
} else {
  console.warn('SKIPPED: EventStoreDB contract suite: set EVENTSTORE_URL=esdb://... to run it');
  describe.skip('event store contract: EventStoreDB (EVENTSTORE_URL not set)', () => {
    it('runs against a real EventStoreDB server', () => {});
  });
}
