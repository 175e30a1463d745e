import { afterAll, describe, expect, it } from 'vitest';
import { openServices } from '../../api/composition.js';
import { loadConfig } from '../../api/config.js';
import { tamperWithEvent, tempDataDir } from '../support/cli.js';
import { historyWithProjectionsCaughtUp, rebuildVerifyAudit, testTimeoutMs } from './cli-rebuild.shared.js';

/**
 * The same flow as cli-rebuild-postgres.test.ts on the embedded database (PGlite, through the CLI).
 * 3,000 events rather than 10,000: PGlite replays every projection single-threaded and the
 * 10,000-event run took over two minutes of the suite's ten; the 10,000-event acceptance runs on
 * PostgreSQL, and `npm run bench:rebuild` measures embedded rebuild speed.
 */
const embeddedEventsMin = 3_000;

describe('rebuild, verify and audit 3,000 events on the embedded database', () => {
  let data: Awaited<ReturnType<typeof tempDataDir>> | undefined;
  afterAll(async () => {
    await data?.remove();
  });

  it(
    'rebuild --all and verify report identical checksums; audit names the tampered event',
    async () => {
      data = await tempDataDir('rebuild');
      const env = { DATA_DIR: data.dir };
      const services = await openServices(loadConfig(env), { command: 'test' });
      try {
        expect(await historyWithProjectionsCaughtUp(services.db, services.eventStore, embeddedEventsMin)).toBeGreaterThanOrEqual(embeddedEventsMin);
      } finally {
        await services.close();
      }
      await rebuildVerifyAudit(env, async () => {
        const again = await openServices(loadConfig(env), { command: 'test' });
        try {
          return await tamperWithEvent(again.db, 'transaction-default-CP-0005-T2', 7);
        } finally {
          await again.close();
        }
      }, embeddedEventsMin);
    },
    testTimeoutMs,
  );
});
