import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, spawnCli, waitForExit, waitForOutput } from '../support/cli.js';
import { createTestPostgresDatabase, requirePostgres } from '../support/services.js';

/** The operator commands for stations and tokens: help, refusals, exit codes, the admin token. */

const operatorCommands = [['stations', 'register'], ['stations', 'list'], ['tokens', 'add'], ['tokens', 'block'], ['station', 'call']];

describe('operator commands: help', () => {
  it.each(operatorCommands.map((command) => [command.join(' '), command]))('%s --help', async (_label, command) => {
    const help = await runCli([...command, '--help']);
    expect(help.exitCode).toBe(0);
    expect(help.stdout).toContain(`Usage: csms ${command.join(' ')}`);
  });

  it('station call refuses a payload that is not a JSON object, before contacting anything', async () => {
    const result = await runCli(['station', 'call', 'CP-1', 'Reset', '--payload', '[1]', '--server', 'http://127.0.0.1:9']);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain('--payload must be a JSON object');
  });

  it('station call says clearly when no server answers', async () => {
    const result = await runCli(['station', 'call', 'CP-1', 'Reset', '--payload', '{"type":"Soft"}', '--server', 'http://127.0.0.1:9']);
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
    const short = await runCli(['stations', 'register', 'CP-1', '--password', 'short'], { env });
    expect(short.exitCode).toBe(2);
    expect(short.stderr).toContain('16 to 40 characters');
    const mismatch = await runCli(['stations', 'register', 'CP-1', '--password', 'long-enough-password', '--security-profile', '3'], { env });
    expect(mismatch.exitCode).toBe(2);
    const first = await runCli(['stations', 'register', 'CP-1', '--password', 'long-enough-password'], { env });
    expect(first.exitCode, first.stderr).toBe(0);
    const again = await runCli(['stations', 'register', 'CP-1', '--password', 'another-long-password', '--security-profile', '2'], { env });
    expect(again.exitCode, again.stderr).toBe(0);
    expect(again.stdout).toContain('security changed to profile 2');
  });

  it('tokens: add, add again unchanged, block; blocking an unknown token is refused (exit 2)', async () => {
    expect((await runCli(['tokens', 'add', 'TAG-1', '--type', 'ISO14443', '--expires', '2030-01-01T00:00:00Z'], { env })).stdout).toContain('token TAG-1 issued');
    expect((await runCli(['tokens', 'add', 'TAG-1', '--type', 'ISO14443', '--expires', '2030-01-01T00:00:00Z'], { env })).stdout).toContain('unchanged');
    const badType = await runCli(['tokens', 'add', 'TAG-2', '--type', 'Magic'], { env });
    expect(badType.exitCode).toBe(2);
    expect((await runCli(['tokens', 'block', 'TAG-1', '--reason', 'lost'], { env })).stdout).toContain('token TAG-1 blocked');
    const unknown = await runCli(['tokens', 'block', 'NOBODY'], { env });
    expect(unknown.exitCode).toBe(2);
    expect(unknown.stderr).toContain('token not issued');
  });

  it('with ADMIN_API_TOKEN the server refuses a CLI without it; with it, an offline station is reported (exit 1)', async () => {
    server = spawnCli(['serve'], { env: { ...env, HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'error', ADMIN_API_TOKEN: adminToken } });
    const [, url] = await waitForOutput(server, /health:\s+(http:\/\/127\.0\.0\.1:\d+)\/health[\s\S]*event store:[^\n]*\n/, 45_000);
    const call = ['station', 'call', 'CP-1', 'Reset', '--payload', '{"type":"Soft"}', '--server', url!];
    const refused = await runCli(call, { env: { ...env, ADMIN_API_TOKEN: 'not-the-admin-token-at-all' } });
    expect(refused.exitCode).toBe(3);
    expect(refused.stderr).toContain('the server refused: wrong admin token');
    const offline = await runCli(call, { env: { ...env, ADMIN_API_TOKEN: adminToken } });
    expect(offline.exitCode, offline.stderr).toBe(1);
    expect(offline.stderr).toContain('Reset to CP-1 failed: not-connected');
    const health = await fetch(`${url}/api/stations`);
    expect(health.status).toBe(401);
  }, 60_000);
});
