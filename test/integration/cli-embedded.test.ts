import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../api/config.js';
import { openServices } from '../../api/composition.js';
import { lockFileName } from '../../api/embedded-lock.js';
import { allProjections } from '../../projections/index.js';
import { generateChargingHistory, runCli, tamperWithEvent } from '../support/cli.js';
import { runCliInProcess, tempDataDirInitialized } from '../support/cli-in-process.js';

/**
 * The operator's commands against the embedded database (no DATABASE_URL): a PGlite folder. Most
 * run in this process (runCliInProcess: seconds less per command); the refusal while another
 * process holds the folder needs a child, since a lock naming this very process counts as stale.
 */
describe('csms CLI on the embedded database', () => {
  let data: Awaited<ReturnType<typeof tempDataDirInitialized>>;
  let env: Record<string, string>;

  beforeAll(async () => {
    data = await tempDataDirInitialized('cli');
    env = { DATA_DIR: data.dir };
  });
  afterAll(async () => {
    await data?.remove();
  });

  /** Opens the folder in this process, as the CLI does (taking the lock), for setup steps. */
  async function withEmbedded(work: (services: Awaited<ReturnType<typeof openServices>>) => Promise<void>): Promise<void> {
    const services = await openServices(loadConfig(env), { command: 'test' });
    try {
      await work(services);
    } finally {
      await services.close();
    }
  }

  it('migrate, then projections status', async () => {
    const migrated = await runCliInProcess(['migrate'], { env });
    expect(migrated.exitCode, migrated.stderr).toBe(0);
    expect(migrated.stdout).toContain(`database: embedded PGlite in ${data.dir}`);
    const status = await runCliInProcess(['projections', 'status'], { env });
    expect(status.exitCode, status.stderr).toBe(0);
    for (const projection of allProjections()) expect(status.stdout).toContain(projection.name);
  });

  it('audit verify passes, then names the event altered in SQL and exits 1', async () => {
    await withEmbedded(async ({ eventStore }) => {
      await generateChargingHistory(eventStore, 100);
    });
    const good = await runCliInProcess(['audit', 'verify'], { env });
    expect(good.exitCode, good.stderr).toBe(0);
    expect(good.stdout).toMatch(/audit ok: \d+ events in \d+ streams/);

    let eventId = '';
    await withEmbedded(async ({ db }) => {
      eventId = await tamperWithEvent(db, 'station-default-CP-0002', 1);
    });
    const bad = await runCliInProcess(['audit', 'verify'], { env });
    expect(bad.exitCode).toBe(1);
    expect(bad.stdout).toContain(`stream station-default-CP-0002 revision 1 event ${eventId}`);
  });

  it('refuses with a clear message while another process holds the folder', async () => {
    // This test process is running and is not the CLI child: a live holder.
    writeFileSync(path.join(data.dir, lockFileName), JSON.stringify({ pid: process.pid, command: 'serve' }));
    try {
      const blocked = await runCli(['projections', 'status'], { env });
      expect(blocked.exitCode).toBe(3);
      expect(blocked.stderr).toContain(
        `the embedded database in ${data.dir} is in use by the server (pid ${process.pid}): stop it, or set DATABASE_URL to use a Postgres server`,
      );
    } finally {
      // A lock whose process is gone is stale: the next command takes it over.
      writeFileSync(path.join(data.dir, lockFileName), JSON.stringify({ pid: 2 ** 22 + 1, command: 'serve' }));
    }
    // Taking over a stale lock is the lock code's, not the process boundary's: in this process.
    const after = await runCliInProcess(['projections', 'status'], { env });
    expect(after.exitCode, after.stderr).toBe(0);
  });

  it('a registration written into the folder says so with its absolute path; stations list then shows it, no stack trace', async () => {
    const registered = await runCliInProcess(['stations', 'register', 'CP-E1', '--password', 'a-long-station-password'], { env });
    expect(registered.exitCode, registered.stderr).toBe(0);
    expect(registered.stderr).toContain(`csms: wrote to the embedded database in ${data.dir} (no server was named`);
    expect(registered.stderr).toContain('a running server with another DATA_DIR will not see this');
    const list = await runCliInProcess(['stations', 'list'], { env });
    expect(list.exitCode, list.stderr).toBe(0);
    expect(list.stderr).not.toMatch(/^\s{4}at /m);
    // A read writes nothing worth announcing.
    expect(list.stderr).not.toContain('wrote to the embedded database');
    expect(list.stdout).toMatch(/^CP-E1\s+profile 1/m);
  });
});
