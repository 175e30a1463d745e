import { existsSync } from 'node:fs';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPostgresEventStore } from '../../adapters/event-store/postgres.js';
import type { EventStore } from '../../adapters/event-store/port.js';
import type { SqlDatabase } from '../../adapters/sql/port.js';
import { buildServer } from '../../api/server.js';
import { migrateProjections } from '../../projections/index.js';
import { tempDataDir } from '../support/cli.js';
import { runCliInProcess } from '../support/cli-in-process.js';
import { createTestPostgresDatabase, requirePostgres } from '../support/services.js';

/**
 * Which database an operator command writes to. A named server (--server or CSMS_SERVER_URL) always
 * gets the command, even when the CLI could open an embedded folder of its own; an unreachable
 * one is exit 3 with nothing written anywhere. Through the server, registration is checked
 * against the server's own configuration, not the CLI's.
 */
const available = await requirePostgres();

describe.skipIf(!available)('csms with a named server', () => {
  let database: Awaited<ReturnType<typeof createTestPostgresDatabase>>;
  let db: SqlDatabase;
  let eventStore: EventStore;
  let server: FastifyInstance;
  let url: string;
  let scratch: Awaited<ReturnType<typeof tempDataDir>>;
  /** An embedded folder the CLI could open (nothing holds it): it must stay untouched. */
  let dataDir: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    database = await createTestPostgresDatabase('cli_server_choice');
    db = database.open(4);
    eventStore = await openPostgresEventStore(db);
    await migrateProjections({ eventStore, db }); // as `csms serve` does before it listens
    // The server's own configuration: no OCPP_ALLOW_UNSECURED, no TLS.
    server = await buildServer({ db, eventStore, logLevel: 'silent' });
    url = (await server.listen({ host: '127.0.0.1', port: 0 })).replace('localhost', '127.0.0.1');
    scratch = await tempDataDir('server-choice');
    dataDir = path.join(scratch.dir, 'data');
    env = { DATA_DIR: dataDir, LOG_LEVEL: 'error' };
  });
  afterAll(async () => {
    await server?.close();
    await database?.drop();
    await scratch?.remove();
  });

  const streamEvents = async (stationId: string) => (await eventStore.readStream(`station-default-${stationId}`)).map((event) => event.type);

  it('--server: the station is registered on the server, the embedded folder is never opened', async () => {
    const result = await runCliInProcess(['stations', 'register', 'CP-S1', '--password', 'a-long-station-password', '--server', url], { env });
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).toContain('station CP-S1 registered with security profile 1');
    expect(await streamEvents('CP-S1')).toEqual(['StationRegistered']);
    expect(existsSync(dataDir)).toBe(false);
  });

  it('CSMS_SERVER_URL does the same for every command with --server', async () => {
    const named = { ...env, CSMS_SERVER_URL: url };
    const token = await runCliInProcess(['tokens', 'add', 'TAG-S1'], { env: named });
    expect(token.exitCode, token.stderr).toBe(0);
    expect((await eventStore.readStream('token-default-TAG-S1')).map((event) => event.type)).toEqual(['TokenIssued']);
    const list = await runCliInProcess(['stations', 'list', '--json'], { env: named });
    expect(list.exitCode, list.stderr).toBe(0);
    expect(existsSync(dataDir)).toBe(false);
  });

  it('an unreachable named server: exit 3, and nothing written anywhere', async () => {
    for (const named of [{ args: ['--server', 'http://127.0.0.1:9'], env }, { args: [], env: { ...env, CSMS_SERVER_URL: 'http://127.0.0.1:9' } }]) {
      const result = await runCliInProcess(['stations', 'register', 'CP-S2', '--password', 'a-long-station-password', ...named.args], { env: named.env });
      expect(result.exitCode).toBe(3);
      expect(result.stderr).toContain('cannot reach the server at http://127.0.0.1:9');
      expect(result.stderr).toContain('nothing was done');
    }
    expect(await streamEvents('CP-S2')).toEqual([]);
    expect(existsSync(dataDir)).toBe(false);
  });

  it("registration is checked against the server's configuration: profile 0 refused there (exit 2) although the CLI's allows it; --force registers it", async () => {
    const cliAllows = { ...env, OCPP_ALLOW_UNSECURED: 'true' };
    const refused = await runCliInProcess(['stations', 'register', 'CP-S0', '--security-profile', '0', '--server', url], { env: cliAllows });
    expect(refused.exitCode).toBe(2);
    expect(refused.stderr).toContain('OCPP_ALLOW_UNSECURED');
    expect(await streamEvents('CP-S0')).toEqual([]);
    const noTls = await runCliInProcess(['stations', 'register', 'CP-S3', '--security-profile', '3', '--server', url], { env });
    expect(noTls.exitCode).toBe(2);
    expect(noTls.stderr).toContain('TLS_CA_FILE');
    const guessed = await runCliInProcess(['stations', 'register', 'CP-S4', '--server', url], { env });
    expect(guessed.exitCode).toBe(2);
    expect(guessed.stderr).toContain('say how the station authenticates');

    const forced = await runCliInProcess(['stations', 'register', 'CP-S0', '--security-profile', '0', '--force', '--server', url], { env });
    expect(forced.exitCode, forced.stderr).toBe(0);
    expect(await streamEvents('CP-S0')).toEqual(['StationRegistered']);
    expect(existsSync(dataDir)).toBe(false);
  });
});
