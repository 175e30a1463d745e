import { describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';

/** Every command a user can type; each must answer --help with exit 0 and its own usage line. */
const commands = [
  [],
  ['serve'],
  ['migrate'],
  ['projections'],
  ['projections', 'list'],
  ['projections', 'status'],
  ['projections', 'rebuild'],
  ['projections', 'verify'],
  ['events'],
  ['events', 'tail'],
  ['audit'],
  ['audit', 'verify'],
];

describe('csms --help', () => {
  it.each(commands.map((command) => [command.join(' ') || '(top level)', command]))('%s --help', async (_label, command) => {
    const result = await runCli([...command, '--help']);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain(`Usage: csms${command.length ? ` ${command.join(' ')}` : ''}`);
  });

  it('lists the exit codes and configuration variables at the top level', async () => {
    const { stdout } = await runCli(['--help']);
    expect(stdout).toMatch(/Exit codes: 0 ok, 1 a check failed/);
    expect(stdout).toContain('DATABASE_URL');
  });
});

describe('usage and configuration errors exit 2', () => {
  it('an unknown command', async () => {
    const result = await runCli(['frobnicate']);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain("unknown command 'frobnicate'");
  });

  it('a bad option value', async () => {
    const result = await runCli(['events', 'tail', '--limit', '0']);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain('--limit must be a whole number');
  });

  it('rebuild without a name or --all', async () => {
    const result = await runCli(['projections', 'rebuild'], { env: { DATABASE_URL: 'postgres://127.0.0.1:1/none' } });
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toMatch(/say which projection to rebuild, or --all/);
  });

  it('invalid environment variables, every one listed', async () => {
    const result = await runCli(['migrate'], { env: { PORT: 'eighty', DATABASE_URL: 'mysql://root:hunter2@db/csms', LOG_LEVEL: 'chatty' } });
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain('invalid configuration');
    for (const name of ['PORT', 'DATABASE_URL', 'LOG_LEVEL']) expect(result.stderr).toContain(name);
    expect(result.stderr).not.toContain('hunter2');
  });

  it('an unreachable database is "could not run" (3), not a usage error', async () => {
    const result = await runCli(['migrate'], { env: { DATABASE_URL: 'postgres://csms:pw@127.0.0.1:1/none' } });
    expect(result.exitCode).toBe(3);
    expect(result.stderr).toContain('cannot open the database');
  });
});
