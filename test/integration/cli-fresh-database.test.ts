import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { eventStoreSchemaDefault } from '../../adapters/event-store/postgres.js';
import type { SqlDatabase } from '../../adapters/sql/port.js';
import { ConfigError } from '../../api/config.js';
import { createContext, ExitCode, reportError } from '../../api/cli/run.js';
import type { CliResult } from '../support/cli.js';
import { runCliInProcess } from '../support/cli-in-process.js';
import { createTestPostgresDatabase, requirePostgres } from '../support/services.js';

/**
 * Every command that reads works on a database nothing but the CLI has touched (no `csms migrate`,
 * no server ever ran): it migrates and catches up the read models it reads, and never prints a
 * stack trace. The commands are taken from `csms --help` itself, so a new command must be
 * classified here before this file passes.
 */

/** A stack frame line as node prints it. */
const stackLine = /^\s{4}at /m;

/** Commands that only read, with the arguments they need and the exit code they end with on a fresh database. */
const reads: Record<string, { args?: string[]; exitCode?: number; why?: string }> = {
  'projections list': {},
  'projections status': {},
  'projections verify': {},
  'events tail': {},
  'audit verify': {},
  'tariffs list': {},
  'ledger trial-balance': {},
  'ledger account': { args: ['revenue:charging'], exitCode: ExitCode.checkFailed, why: 'an account without lines is "no lines on account" (exit 1), as documented in its help' },
  'cdr export': {},
  'stations list': {},
  'locations list': {},
  'ocpi outbox': {},
};

/** Everything else `csms --help` lists, and why it is not run here. */
const notReads: Record<string, string> = {
  serve: 'runs until stopped (the server tests run it)',
  migrate: 'writes schemas by design (cli-embedded / cli-postgres)',
  'projections rebuild': 'writes read models by design (cli-rebuild-*)',
  'tariffs add': 'a change (billing-cli)',
  'cdr credit': 'a change (billing-cli)',
  'settlement reconcile': 'a change (billing-cli)',
  'stations register': 'a change (cli-operators, below)',
  'tokens add': 'a change (cli-operators)',
  'tokens block': 'a change (cli-operators)',
  'locations add': 'a change (readme-commands)',
  'locations assign-evse': 'a change (readme-commands)',
  'station call': 'talks to a station through a running server (cli-operators)',
  'ocpi invite': 'a change (cli-ocpi)',
  'ocpi register': 'a change with a partner (cli-ocpi)',
  'ocpi outbox retry': 'a change (readme-commands)',
  'ocpi sync': 'a change (readme-commands)',
};
/** Commands that only group others (no action of their own). */
const groups = ['projections', 'events', 'audit', 'tariffs', 'ledger', 'cdr', 'settlement', 'stations', 'tokens', 'locations', 'station', 'ocpi'];

/** The subcommands a `--help` text lists under "Commands:" (continuation lines are indented deeper). */
function listedCommands(help: string): string[] {
  const section = help.split(/^Commands:$/m)[1];
  if (section === undefined) return [];
  const names: string[] = [];
  // The section starts right after the heading's own line end.
  for (const line of section.split('\n').slice(1)) {
    if (line.trim() === '') break;
    const match = /^ {2}([a-z][\w-]*)/.exec(line);
    if (match && match[1] !== 'help') names.push(match[1]!);
  }
  return names;
}

const available = await requirePostgres();

describe.skipIf(!available)('read commands on a fresh database', () => {
  let database: Awaited<ReturnType<typeof createTestPostgresDatabase>>;
  let db: SqlDatabase;
  let env: Record<string, string>;
  const fakeEnv = { DATABASE_URL: 'postgres://127.0.0.1:1/never-opened' };

  beforeAll(async () => {
    database = await createTestPostgresDatabase('cli_fresh');
    db = database.open(1);
    env = { DATABASE_URL: database.url, LOG_LEVEL: 'error' };
  });
  afterAll(async () => {
    await database?.drop();
  });
  /**
   * Back to a database where only the event store exists (what `stations register` leaves on a
   * new data folder), so each command meets no schema another command created. Migrations are
   * recorded inside each schema, so dropping one forgets its migrations too. One database for all
   * is much faster than one per command.
   */
  beforeEach(async () => {
    const { rows } = await db.query<{ name: string }>(
      `SELECT nspname AS name FROM pg_namespace WHERE nspname NOT IN ('public', 'information_schema', $1) AND nspname NOT LIKE 'pg\\_%'`,
      [eventStoreSchemaDefault],
    );
    for (const { name } of rows) await db.exec(`DROP SCHEMA "${name}" CASCADE`);
  });

  it('csms --help lists exactly the commands this file classifies', async () => {
    const found: string[] = [];
    const walk = async (path: string[]): Promise<void> => {
      const help = await runCliInProcess([...path, '--help'], { env: fakeEnv });
      expect(help.exitCode, help.stderr).toBe(0);
      for (const name of listedCommands(help.stdout)) {
        found.push([...path, name].join(' '));
        await walk([...path, name]);
      }
    };
    await walk([]);
    const classified = [...Object.keys(reads), ...Object.keys(notReads), ...groups].sort();
    expect(found.sort()).toEqual(classified);
  });

  it.each(Object.entries(reads))('%s: exit as documented, no stack trace', async (command, expected) => {
    const result: CliResult = await runCliInProcess([...command.split(' '), ...(expected.args ?? [])], { env });
    expect(result.exitCode, `${expected.why ?? ''}\n${result.stderr}`).toBe(expected.exitCode ?? ExitCode.ok);
    expect(result.stderr).not.toMatch(stackLine);
  });

  it('stations list right after stations register (nothing else ran) shows the station', async () => {
    const registered = await runCliInProcess(['stations', 'register', 'CP-2', '--password', 'a-long-station-password'], { env });
    expect(registered.exitCode, registered.stderr).toBe(0);
    const list = await runCliInProcess(['stations', 'list'], { env });
    expect(list.exitCode, list.stderr).toBe(0);
    expect(list.stderr).not.toMatch(stackLine);
    expect(list.stdout).toMatch(/^CP-2\s+profile 1\s+no/m);
  });
});

describe('expected failures are one clear line, never a stack', () => {
  it('an unreachable database: exit 3 naming it', async () => {
    const result = await runCliInProcess(['stations', 'list'], { env: { DATABASE_URL: 'postgres://csms@127.0.0.1:1/none' } });
    expect(result.exitCode).toBe(ExitCode.failed);
    expect(result.stderr).toContain('csms: cannot open the database');
    expect(result.stderr).not.toMatch(stackLine);
  });

  it.each([
    ['a database error (SQLSTATE)', Object.assign(new Error('relation "proj_x.y" does not exist'), { code: '42P01' }), ExitCode.failed, /the database refused: relation "proj_x.y" does not exist \(SQLSTATE 42P01\): a schema is missing, run `csms migrate`/],
    ['a connection lost mid-command', Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }), ExitCode.failed, /cannot reach the database: read ECONNRESET/],
    // The same rule as the server's loops (adapters/sql/errors.ts): a server going away is not a refusal.
    ['PostgreSQL stopping (SQLSTATE 57P01)', Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' }), ExitCode.failed, /cannot reach the database: terminating connection/],
    ['a socket closed under pg (no code)', new Error('Connection terminated unexpectedly'), ExitCode.failed, /cannot reach the database: Connection terminated/],
    ['invalid configuration', new ConfigError(['PORT="x": must be a number']), ExitCode.usage, /invalid configuration/],
  ])('%s', (_label, error, exitCode, message) => {
    const lines: string[] = [];
    const context = createContext({}, { out: () => {}, err: (line) => lines.push(line) });
    reportError(context, error);
    expect(context.exitCode).toBe(exitCode);
    expect(lines.join('\n')).toMatch(message);
    expect(lines.join('\n')).not.toMatch(stackLine);
  });

  it('a bug: the message and how to see where; the stack only with LOG_LEVEL=debug', () => {
    const lines: string[] = [];
    const quiet = createContext({}, { out: () => {}, err: (line) => lines.push(line) });
    reportError(quiet, new TypeError('x is not a function'));
    expect(quiet.exitCode).toBe(ExitCode.failed);
    expect(lines.join('\n')).toContain('unexpected error: x is not a function');
    expect(lines.join('\n')).not.toMatch(stackLine);
    const debug: string[] = [];
    reportError(createContext({ LOG_LEVEL: 'debug' }, { out: () => {}, err: (line) => debug.push(line) }), new TypeError('x is not a function'));
    expect(debug.join('\n')).toMatch(stackLine);
  });
});
