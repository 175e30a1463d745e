import { afterAll, describe, expect, it } from 'vitest';
import { openPostgresEventStore } from '../../adapters/event-store/postgres.js';
import type { SqlDatabase } from '../../adapters/sql/port.js';
import { liveSchemaName } from '../../projections/schema.js';
import { historyStationsConcurrent } from '../support/cli.js';
import { createTestPostgresDatabase, requirePostgres } from '../support/services.js';
import { acceptanceEventsMin, historyWithProjectionsCaughtUp, rebuildVerifyAudit, testTimeoutMs } from './cli-rebuild.shared.js';

/**
 * The acceptance test of "Event-sourced core" on PostgreSQL (the flow is in cli-rebuild.shared.ts).
 * Here a second connection reads the live read models while `rebuild --all` runs.
 */

const postgresAvailable = await requirePostgres();

describe.skipIf(!postgresAvailable)('rebuild, verify and audit on PostgreSQL', () => {
  let database: Awaited<ReturnType<typeof createTestPostgresDatabase>> | undefined;
  afterAll(async () => {
    await database?.drop(); // closes the pools it opened
  });

  it(
    'rebuild --all replays every event into fresh schemas while the live ones serve; verify reports identical checksums; audit names the tampered event',
    async () => {
      database = await createTestPostgresDatabase('rebuild');
      // One connection per station generating its history at once; the live reader shares them.
      const open: SqlDatabase = database.open(historyStationsConcurrent);
      const eventStore = await openPostgresEventStore(open);
      const history = await historyWithProjectionsCaughtUp(open, eventStore);
      expect(history.events).toBeGreaterThanOrEqual(acceptanceEventsMin);
      await eventStore.close();
      await rebuildVerifyAudit({
        env: { DATABASE_URL: database.url },
        events: history.events,
        schemasBefore: history.schemas,
        inspect: (work) => work(open),
        readLive: () => open.query(`SELECT count(*) FROM ${liveSchemaName('sessions')}.transactions`),
      });
    },
    testTimeoutMs,
  );
});
