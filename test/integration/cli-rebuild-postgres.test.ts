import { afterAll, describe, expect, it } from 'vitest';
import { openPostgresEventStore } from '../../adapters/event-store/postgres.js';
import { tamperWithEvent } from '../support/cli.js';
import { createTestPostgresDatabase, requirePostgres } from '../support/services.js';
import { historyEventsMin, historyWithProjectionsCaughtUp, rebuildVerifyAudit, testTimeoutMs } from './cli-rebuild.shared.js';

/** The acceptance test of "Event-sourced core" on PostgreSQL: 10,000 events (helpers in cli-rebuild.shared.ts). */

const postgresAvailable = await requirePostgres();

describe.skipIf(!postgresAvailable)('rebuild, verify and audit 10,000 events on PostgreSQL', () => {
  let database: Awaited<ReturnType<typeof createTestPostgresDatabase>> | undefined;
  afterAll(async () => {
    await database?.drop();
  });

  it(
    'rebuild --all and verify report identical checksums; audit names the tampered event',
    async () => {
      database = await createTestPostgresDatabase('rebuild');
      const db = database.open(8);
      const eventStore = await openPostgresEventStore(db);
      const events = await historyWithProjectionsCaughtUp(db, eventStore);
      expect(events).toBeGreaterThanOrEqual(historyEventsMin);
      await eventStore.close();
      await rebuildVerifyAudit({ DATABASE_URL: database.url }, () => tamperWithEvent(db, 'transaction-default-CP-0005-T2', 7));
    },
    testTimeoutMs,
  );
});

