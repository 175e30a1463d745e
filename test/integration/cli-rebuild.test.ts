import { afterAll, describe, expect, it } from 'vitest';
import type { EventStore } from '../../adapters/event-store/port.js';
import type { SqlDatabase } from '../../adapters/sql/port.js';
import { openServices } from '../../api/composition.js';
import { loadConfig } from '../../api/config.js';
import { allProjections, migrateProjections, startProjectionRunners } from '../../projections/index.js';
import { openPostgresEventStore } from '../../adapters/event-store/postgres.js';
import { generateChargingHistory, runCli, tamperWithEvent, tempDataDir } from '../support/cli.js';
import { createTestPostgresDatabase, requirePostgres } from '../support/services.js';

/**
 * The acceptance test of "Event-sourced core": 10,000 events produced through the command bus,
 * projections caught up, then `csms projections rebuild --all` and `csms projections verify`
 * agree with the live read models, and `csms audit verify` catches an event altered in SQL.
 */

const historyEventsMin = 10_000;
/** A rebuild or verify of 10,000 events is a few seconds here; generous for slow CI machines. */
const cliTimeoutMs = 120_000;
const testTimeoutMs = 300_000;

/** Generates the history and lets the projection runners catch up, as a running server would. */
async function historyWithProjectionsCaughtUp(db: SqlDatabase, eventStore: EventStore): Promise<number> {
  const { events } = await generateChargingHistory(eventStore, historyEventsMin);
  await migrateProjections({ db, eventStore });
  const runners = startProjectionRunners({ db, eventStore }, { owner: 'acceptance-test' });
  try {
    await runners.idle();
  } finally {
    await runners.stop();
  }
  return events;
}

async function rebuildVerifyAudit(env: Record<string, string>, tamper: () => Promise<string>): Promise<void> {
  const status = await runCli(['projections', 'status'], { env });
  expect(status.exitCode, status.stderr).toBe(0);

  const rebuild = await runCli(['projections', 'rebuild', '--all'], { env, timeoutMs: cliTimeoutMs });
  expect(rebuild.exitCode, rebuild.stderr).toBe(0);
  for (const projection of allProjections()) expect(rebuild.stdout).toMatch(new RegExp(`^${projection.name}: rebuilt from \\d+ events`, 'm'));

  const verify = await runCli(['projections', 'verify'], { env, timeoutMs: cliTimeoutMs });
  expect(verify.exitCode, `${verify.stdout}\n${verify.stderr}`).toBe(0);
  for (const projection of allProjections()) {
    const line = verify.stdout.split('\n').find((text) => text.startsWith(`${projection.name}:`));
    expect(line, verify.stdout).toBeDefined();
    const [, live, rebuilt] = /live=(\S+) rebuilt=(\S+)/.exec(line!) ?? [];
    expect(live).toBeDefined();
    expect(live).toBe(rebuilt);
  }

  const intact = await runCli(['audit', 'verify'], { env, timeoutMs: cliTimeoutMs });
  expect(intact.exitCode, intact.stderr).toBe(0);
  expect(intact.stdout).toMatch(/audit ok: (\d+) events/);
  expect(Number(/audit ok: (\d+) events/.exec(intact.stdout)![1])).toBeGreaterThanOrEqual(historyEventsMin);

  const eventId = await tamper();
  const audit = await runCli(['audit', 'verify'], { env, timeoutMs: cliTimeoutMs });
  expect(audit.exitCode).toBe(1);
  expect(audit.stdout).toContain(`stream transaction-default-CP-0005-T2 revision 7 event ${eventId}`);
}

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

describe('rebuild, verify and audit 10,000 events on the embedded database', () => {
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
        expect(await historyWithProjectionsCaughtUp(services.db, services.eventStore)).toBeGreaterThanOrEqual(historyEventsMin);
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
      });
    },
    testTimeoutMs,
  );
});
