import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPostgresEventStore } from '../../adapters/event-store/postgres.js';
import type { SqlDatabase } from '../../adapters/sql/port.js';
import { allProjections } from '../../projections/index.js';
import { generateChargingHistory, spawnCli, tamperWithEvent, waitForExit, waitForOutput } from '../support/cli.js';
import { runCliInProcess } from '../support/cli-in-process.js';
import { createTestPostgresDatabase, requirePostgres } from '../support/services.js';

/**
 * The operator's commands against a PostgreSQL server (DATABASE_URL). They run in this process
 * (runCliInProcess), except `events tail --follow`: it ends on a signal, so it is a real process.
 */
const available = await requirePostgres();

describe.skipIf(!available)('csms CLI on PostgreSQL', () => {
  let database: Awaited<ReturnType<typeof createTestPostgresDatabase>>;
  let db: SqlDatabase;
  let env: Record<string, string>;

  beforeAll(async () => {
    database = await createTestPostgresDatabase('cli');
    db = database.open(4);
    env = { DATABASE_URL: database.url };
  });
  afterAll(async () => {
    await database?.drop();
  });

  it('migrate, then projections list and status show every projection', async () => {
    const migrated = await runCliInProcess(['migrate'], { env });
    expect(migrated.exitCode, migrated.stderr).toBe(0);
    expect(migrated.stdout).toContain('database: PostgreSQL at postgres://');
    expect((await runCliInProcess(['migrate'], { env })).exitCode).toBe(0); // again: nothing to do, still fine

    const list = await runCliInProcess(['projections', 'list'], { env });
    expect(list.exitCode).toBe(0);
    const status = await runCliInProcess(['projections', 'status'], { env });
    expect(status.exitCode, status.stderr).toBe(0);
    expect(status.stdout).toMatch(/^NAME\s+VERSION\s+CHECKPOINT\s+LAG\s+LEASE OWNER\s+STALE/);
    for (const projection of allProjections()) {
      expect(list.stdout).toContain(projection.name);
      expect(status.stdout).toContain(projection.name);
    }
  });

  it('events tail prints the last events as JSON lines, of $all or of one stream', async () => {
    const eventStore = await openPostgresEventStore(db);
    await generateChargingHistory(eventStore, 200);
    const tail = await runCliInProcess(['events', 'tail', '--limit', '5'], { env });
    expect(tail.exitCode, tail.stderr).toBe(0);
    const lines = tail.stdout.trim().split('\n').map((line) => JSON.parse(line));
    expect(lines).toHaveLength(5);
    expect(Object.keys(lines[0]).sort()).toEqual(['data', 'occurredAt', 'position', 'revision', 'stream', 'type']);

    const stream = await runCliInProcess(['events', 'tail', '--stream', 'station-default-CP-0000', '--limit', '2'], { env });
    const streamLines = stream.stdout.trim().split('\n').map((line) => JSON.parse(line));
    expect(streamLines.map((event) => event.stream)).toEqual(['station-default-CP-0000', 'station-default-CP-0000']);
    expect(streamLines[1].revision).toBe(streamLines[0].revision + 1);
  });

  it('events tail --follow prints events appended after it started, until interrupted', async () => {
    const follower = spawnCli(['events', 'tail', '--limit', '1', '--follow'], { env });
    try {
      await waitForOutput(follower, /"position"/, 20_000); // the last existing event: it is following now
      const eventStore = await openPostgresEventStore(db);
      await eventStore.append('probe-default-follow', [followEvent()], 'no_stream');
      await waitForOutput(follower, /probe-default-follow/, 10_000);
      follower.kill('SIGINT');
      expect((await waitForExit(follower, 5_000)).exitCode).toBe(0);
    } finally {
      if (follower.exitCode === null) follower.kill('SIGKILL');
    }
  });

  it('audit verify passes on an intact store, then names the event altered in SQL and exits 1', async () => {
    const good = await runCliInProcess(['audit', 'verify'], { env });
    expect(good.exitCode, good.stderr).toBe(0);
    expect(good.stdout).toMatch(/audit ok: \d+ events in \d+ streams/);

    const eventId = await tamperWithEvent(db, 'transaction-default-CP-0001-T0', 3);
    const bad = await runCliInProcess(['audit', 'verify'], { env });
    expect(bad.exitCode).toBe(1);
    expect(bad.stdout).toContain(`stream transaction-default-CP-0001-T0 revision 3 event ${eventId}`);
    expect(bad.stdout).toContain('altered');
  });
});

function followEvent() {
  return {
    eventId: '6f1c8e0a-4d2b-4c3e-9f10-000000000001',
    // A type no projection handles: this test is about the tail, not a read model.
    type: 'CliFollowProbe',
    schemaVersion: 1,
    data: { uid: '04A2FOLLOW' },
    metadata: {
      tenantId: 'default',
      correlationId: 'follow-1',
      causationId: 'follow-1',
      actor: 'user:test',
      occurredAt: '2025-03-01T09:00:00.000Z',
      recordedAt: '2025-03-01T09:00:00.000Z',
    },
  };
}
