import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { configurationVariables } from '../../api/config.js';
import { runCli } from '../support/cli.js';
import { runCliInProcess } from '../support/cli-in-process.js';

// Help and usage errors never open a database, so they run in-process (~ms each instead of a
// 1-2 s tsx start-up per command); the real binary answers once for --help and once for a usage
// error, which proves bin/csms.mjs hands main()'s output and exit code to the process.

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
    const result = await runCliInProcess([...command, '--help']);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain(`Usage: csms${command.length ? ` ${command.join(' ')}` : ''}`);
  });

  it('lists the exit codes and configuration variables at the top level (the real binary)', async () => {
    const { stdout, exitCode } = await runCli(['--help']);
    expect(exitCode).toBe(0);
    expect(stdout).toMatch(/Exit codes: 0 ok, 1 a check failed/);
    expect(stdout).toContain('DATABASE_URL');
  });

  it('names every configuration variable, as the README configuration table does', async () => {
    const { stdout } = await runCliInProcess(['--help']);
    const readme = await readFile(new URL('../../README.md', import.meta.url), 'utf8');
    const table = readme.slice(readme.indexOf('## Configuration'), readme.indexOf('## Operating it'));
    expect(configurationVariables.length).toBeGreaterThan(20);
    for (const variable of configurationVariables) {
      expect(stdout, `csms --help lists ${variable}`).toMatch(new RegExp(`\\b${variable}\\b`));
      expect(table, `README lists ${variable}`).toContain(`\`${variable}\``);
    }
  });
});

describe('usage and configuration errors exit 2', () => {
  it('an unknown command (the real binary)', async () => {
    const result = await runCli(['frobnicate']);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain("unknown command 'frobnicate'");
  });

  it('a bad option value', async () => {
    const result = await runCliInProcess(['events', 'tail', '--limit', '0']);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain('--limit must be a whole number');
  });

  it('rebuild without a name or --all', async () => {
    const result = await runCliInProcess(['projections', 'rebuild'], { env: { DATABASE_URL: 'postgres://127.0.0.1:1/none' } });
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toMatch(/say which projection to rebuild, or --all/);
  });

  it('invalid environment variables, every one listed', async () => {
    const result = await runCliInProcess(['migrate'], { env: { PORT: 'eighty', DATABASE_URL: 'mysql://root:hunter2@db/csms', LOG_LEVEL: 'chatty' } });
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain('invalid configuration');
    for (const name of ['PORT', 'DATABASE_URL', 'LOG_LEVEL']) expect(result.stderr).toContain(name);
    expect(result.stderr).not.toContain('hunter2');
  });

  it('an unreachable database is "could not run" (3), not a usage error', async () => {
    const result = await runCliInProcess(['migrate'], { env: { DATABASE_URL: 'postgres://csms:pw@127.0.0.1:1/none' } });
    expect(result.exitCode).toBe(3);
    expect(result.stderr).toContain('cannot open the database');
  });
});
