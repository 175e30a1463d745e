import { afterAll, describe, expect, it } from 'vitest';
import { openServices } from '../../api/composition.js';
import { loadConfig } from '../../api/config.js';
import type { SqlDatabase } from '../../adapters/sql/port.js';
import { tempDataDirInitialized } from '../support/cli-in-process.js';
import { acceptanceEventsMin, historyWithProjectionsCaughtUp, rebuildVerifyAudit, testTimeoutMs } from './cli-rebuild.shared.js';

/**
 * The same flow as cli-rebuild-postgres.test.ts on the embedded database (PGlite in DATA_DIR).
 * The test opens the folder itself only between commands: a command needs it to itself.
 */

describe('rebuild, verify and audit on the embedded database', () => {
  let data: Awaited<ReturnType<typeof tempDataDirInitialized>> | undefined;
  afterAll(async () => {
    await data?.remove();
  });

  it(
    'rebuild --all replays every event into fresh schemas; verify reports identical checksums; audit names the tampered event',
    async () => {
      data = await tempDataDirInitialized('rebuild');
      const env = { DATA_DIR: data.dir };
      const inspect = async <T>(work: (db: SqlDatabase) => Promise<T>): Promise<T> => {
        const services = await openServices(loadConfig(env), { command: 'test' });
        try {
          return await work(services.db);
        } finally {
          await services.close();
        }
      };
      const services = await openServices(loadConfig(env), { command: 'test' });
      let history: Awaited<ReturnType<typeof historyWithProjectionsCaughtUp>>;
      try {
        history = await historyWithProjectionsCaughtUp(services.db, services.eventStore);
      } finally {
        await services.close();
      }
      expect(history.events).toBeGreaterThanOrEqual(acceptanceEventsMin);
      await rebuildVerifyAudit({ env, events: history.events, schemasBefore: history.schemas, inspect });
    },
    testTimeoutMs,
  );
});
