import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnCli, waitForExit, waitForOutput } from '../support/cli.js';
import { runCliInProcess } from '../support/cli-in-process.js';
import { createTestPostgresDatabase, requirePostgres } from '../support/services.js';

/** The operator commands for stations and tokens: help, refusals, exit codes, the admin token. */

/** None of these commands may open a database: a port nothing listens on says so if one did. */
const neverOpened = { DATABASE_URL: 'postgres://127.0.0.1:1/never-opened' };

const operatorCommands = [['stations', 'register'], ['stations', 'list'], ['tokens', 'add'], ['tokens', 'block'], ['station', 'call']];

describe('operator commands: help', () => {
  it.each(operatorCommands.map((command) => [command.join(' '), command]))('%s --help', async (_label, command) => {
    const help = await runCliInProcess([...command, '--help'], { env: neverOpened });
    expect(help.exitCode).toBe(0);
    expect(help.stdout).toContain(`Usage: csms ${command.join(' ')}`);
  });

  it('station call refuses a payload that is not a JSON object, before contacting anything', async () => {
    const result = await runCliInProcess(['station', 'call', 'CP-1', 'Reset', '--payload', '[1]', '--server', 'http://127.0.0.1:9'], { env: neverOpened });
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain('--payload must be a JSON object');
  });

  it('station call says clearly when no server answers', async () => {
    const result = await runCliInProcess(['station', 'call', 'CP-1', 'Reset', '--payload', '{"type":"Soft"}', '--server', 'http://127.0.0.1:9'], { env: neverOpened });
    expect(result.exitCode).toBe(3);
    expect(result.stderr).toContain('cannot reach the server at http://127.0.0.1:9');
  });
});

const available = await requirePostgres();

describe.skipIf(!available)('operator commands on PostgreSQL', () => {
  let database: Awaited<ReturnType<typeof createTestPostgresDatabase>>;
  let env: Record<string, string>;
  let server: ChildProcess | undefined;
  const adminToken = 'an-admin-token-of-some-length';

  beforeAll(async () => {
    database = await createTestPostgresDatabase('cli_operators');
    env = { DATABASE_URL: database.url };
  });
  afterAll(async () => {
    if (server && server.exitCode === null) {
      server.kill('SIGTERM');
      await waitForExit(server, 10_000).catch(() => server?.kill('SIGKILL'));
    }
    await database?.drop();
  });

  it('register refuses a short password and a password with profile 3 (exit 2); registering again changes security', async () => {
    const short = await runCliInProcess(['stations', 'register', 'CP-1', '--password', 'short'], { env });
    expect(short.exitCode).toBe(2);
    expect(short.stderr).toContain('16 to 40 characters');
    const mismatch = await runCliInProcess(['stations', 'register', 'CP-1', '--password', 'long-enough-password', '--security-profile', '3'], { env });
    expect(mismatch.exitCode).toBe(2);
    const first = await runCliInProcess(['stations', 'register', 'CP-1', '--password', 'long-enough-password'], { env });
    expect(first.exitCode, first.stderr).toBe(0);
    const tls = { ...env, TLS_CERT_FILE: 'cert.pem', TLS_KEY_FILE: 'key.pem' };
    const again = await runCliInProcess(['stations', 'register', 'CP-1', '--password', 'another-long-password', '--security-profile', '2'], { env: tls });
    expect(again.exitCode, again.stderr).toBe(0);
    expect(again.stdout).toContain('security changed to profile 2');
  });

  it('register refuses, naming the setting, a profile this configuration cannot authenticate (exit 2); --force registers it anyway', async () => {
    const cases: [string[], Record<string, string>, string][] = [
      [['--security-profile', '0'], {}, 'OCPP_ALLOW_UNSECURED'],
      [['--password', 'long-enough-password', '--security-profile', '2'], {}, 'TLS_CERT_FILE'],
      [['--security-profile', '3'], {}, 'TLS_CA_FILE'],
      [['--security-profile', '3'], { TLS_CERT_FILE: 'cert.pem', TLS_KEY_FILE: 'key.pem' }, 'set TLS_CA_FILE'],
    ];
    for (const [options, extra, setting] of cases) {
      const refused = await runCliInProcess(['stations', 'register', 'CP-P', ...options], { env: { ...env, ...extra } });
      expect(refused.exitCode, `${options.join(' ')}: ${refused.stderr}`).toBe(2);
      expect(refused.stderr).toContain(setting);
      expect(refused.stderr).toContain('--force');
    }
    const unsecured = await runCliInProcess(['stations', 'register', 'CP-0', '--security-profile', '0'], { env: { ...env, OCPP_ALLOW_UNSECURED: 'true' } });
    expect(unsecured.exitCode, unsecured.stderr).toBe(0);
    const certificate = { ...env, TLS_CERT_FILE: 'cert.pem', TLS_KEY_FILE: 'key.pem', TLS_CA_FILE: 'ca.pem' };
    expect((await runCliInProcess(['stations', 'register', 'CP-3', '--security-profile', '3'], { env: certificate })).exitCode).toBe(0);
    const forced = await runCliInProcess(['stations', 'register', 'CP-F', '--security-profile', '0', '--force'], { env });
    expect(forced.exitCode, forced.stderr).toBe(0);
    expect(forced.stdout).toContain('station CP-F registered with security profile 0');
    // Nothing refused was recorded.
    const list = await runCliInProcess(['stations', 'list', '--json'], { env });
    expect(list.exitCode, list.stderr).toBe(0);
    expect(list.stdout.trim().split('\n').map((line) => JSON.parse(line).stationId).sort()).toEqual(['CP-0', 'CP-1', 'CP-3', 'CP-F']);
  });

  it('register without --password or --security-profile is refused (exit 2), not guessed as profile 3', async () => {
    const result = await runCliInProcess(['stations', 'register', 'CP-2'], { env });
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain('say how the station authenticates');
  });

  it('tokens: add, add again unchanged, block; blocking an unknown token is refused (exit 2)', async () => {
    expect((await runCliInProcess(['tokens', 'add', 'TAG-1', '--type', 'ISO14443', '--expires', '2030-01-01T00:00:00Z'], { env })).stdout).toContain('token TAG-1 issued');
    expect((await runCliInProcess(['tokens', 'add', 'TAG-1', '--type', 'ISO14443', '--expires', '2030-01-01T00:00:00Z'], { env })).stdout).toContain('unchanged');
    const badType = await runCliInProcess(['tokens', 'add', 'TAG-2', '--type', 'Magic'], { env });
    expect(badType.exitCode).toBe(2);
    expect((await runCliInProcess(['tokens', 'block', 'TAG-1', '--reason', 'lost'], { env })).stdout).toContain('token TAG-1 blocked');
    const unknown = await runCliInProcess(['tokens', 'block', 'NOBODY'], { env });
    expect(unknown.exitCode).toBe(2);
    expect(unknown.stderr).toContain('token not issued');
  });

  it('with ADMIN_API_TOKEN the server refuses a CLI without it; with it, an offline station is reported (exit 1)', async () => {
    server = spawnCli(['serve'], { env: { ...env, HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'error', ADMIN_API_TOKEN: adminToken } });
    const [, url] = await waitForOutput(server, /health:\s+(http:\/\/127\.0\.0\.1:\d+)\/health[\s\S]*event store:[^\n]*\n/, 45_000);
    const call = ['station', 'call', 'CP-1', 'Reset', '--payload', '{"type":"Soft"}', '--server', url!];
    const refused = await runCliInProcess(call, { env: { ...env, ADMIN_API_TOKEN: 'not-the-admin-token-at-all' } });
    expect(refused.exitCode).toBe(3);
    expect(refused.stderr).toContain('the server refused: wrong admin token');
    const offline = await runCliInProcess(call, { env: { ...env, ADMIN_API_TOKEN: adminToken } });
    expect(offline.exitCode, offline.stderr).toBe(1);
    expect(offline.stderr).toContain('Reset to CP-1 failed: not-connected');
    const health = await fetch(`${url}/api/stations`);
    expect(health.status).toBe(401);
  }, 60_000);
});
