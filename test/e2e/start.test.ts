import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { lockFileName } from '../../api/embedded-lock.js';
import { spawnCli, waitForExit, waitForOutput } from '../support/cli.js';
import { runCliInProcess, tempDataDirInitialized } from '../support/cli-in-process.js';

/**
 * What a new user does first: `npm start` with nothing configured. The server must come up on the
 * embedded database, say where to connect, answer /health, and stop cleanly on SIGTERM. The folder
 * holds an initialized PGlite cluster already (initdb of a brand-new folder is
 * cli-fresh-database.test.ts's to test); the application's migrations still run on it.
 */

/** Start-up: tsx, migrations. */
const startTimeoutMs = 45_000;
/** Graceful shutdown: close the server, stop runners, close PGlite. */
const stopTimeoutMs = 5_000;

describe('csms serve (embedded, nothing configured)', () => {
  let data: Awaited<ReturnType<typeof tempDataDirInitialized>>;
  beforeAll(async () => {
    data = await tempDataDirInitialized('e2e');
  });
  afterAll(async () => {
    await data?.remove();
  });

  it('starts, prints where to connect, answers /health, and exits 0 on SIGTERM', async () => {
    const server = spawnCli(['serve'], { env: { HOST: '127.0.0.1', PORT: '0', DATA_DIR: data.dir, LOG_LEVEL: 'warn' } });
    try {
      // The banner is printed in one go; wait for its last line, then read it whole.
      const [banner, healthUrl] = await waitForOutput(
        server,
        /Open-CSMS listening[\s\S]*health:\s+(http:\/\/127\.0\.0\.1:\d+\/health)[\s\S]*event store:[^\n]*\n/,
        startTimeoutMs,
      );
      const port = new URL(healthUrl!).port;
      expect(banner).toContain(`database:             embedded PGlite in ${data.dir}`);
      expect(banner).toMatch(new RegExp(`ws://127\\.0\\.0\\.1:${port}/ocpp/\\{stationId\\}`));
      expect(banner).toContain(`http://127.0.0.1:${port}/ocpi/versions`);
      expect(banner).toContain(`http://127.0.0.1:${port}/graphql`);

      const response = await fetch(healthUrl!);
      expect(response.status).toBe(200);
      const body = (await response.json()) as { status: string; eventStore: string; projections: unknown[] };
      expect(body).toMatchObject({ status: 'ok', database: 'ok', eventStore: 'pglite' });
      expect(Array.isArray(body.projections)).toBe(true);
      expect(port).not.toBe('0');

      // While it runs, a CLI command on the same folder (here in the test's process, another
      // process than the server) must refuse rather than corrupt it.
      const blocked = await runCliInProcess(['projections', 'status'], { env: { DATA_DIR: data.dir } });
      expect(blocked.exitCode).toBe(3);
      expect(blocked.stderr).toContain(`is in use by the server (pid ${server.pid}): stop it, or set DATABASE_URL`);

      server.kill('SIGTERM');
      const exit = await waitForExit(server, stopTimeoutMs);
      expect(exit).toEqual({ exitCode: 0, signal: null });
      expect(existsSync(path.join(data.dir, lockFileName))).toBe(false);
    } finally {
      if (server.exitCode === null) server.kill('SIGKILL');
    }
  });
});
