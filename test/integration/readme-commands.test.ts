import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPostgresEventStore } from '../../adapters/event-store/postgres.js';
import type { SqlDatabase } from '../../adapters/sql/port.js';
import { buildServer } from '../../api/server.js';
import type { OcpiSettings } from '../../ocpi/plugin.js';
import { migrateProjections, startProjectionRunners } from '../../projections/index.js';
import { repoRoot } from '../support/cli.js';
import { runCliInProcess } from '../support/cli-in-process.js';
import { EmspPartner } from '../support/emsp-partner.js';
import { createTestPostgresDatabase, requirePostgres } from '../support/services.js';

/**
 * Every `npx csms ...` line of README.md runs as written, in README order, and exits 0. The setting
 * is a deployment with DATABASE_URL (README: "the CLI and the server share the database"): a new
 * PostgreSQL database, the server running on it (as `npm start` would), each command run in this
 * process (runCliInProcess) with no server named. PostgreSQL rather than an embedded folder: the
 * commands are the same, and a PGlite folder costs seconds per command. Lines that cannot run as
 * such are listed in `adjustments`, each with its reason.
 */

/** Splits a shell line into words: single and double quotes, backslash escapes, `#` comments. */
export function shellWords(line: string): string[] {
  const words: string[] = [];
  let word: string | null = null;
  let quote: "'" | '"' | null = null;
  for (let i = 0; i < line.length; i++) {
    const char = line[i]!;
    if (quote !== null) {
      if (char === quote) quote = null;
      else if (char === '\\' && quote === '"' && i + 1 < line.length) word = (word ?? '') + line[++i];
      else word = (word ?? '') + char;
    } else if (char === "'" || char === '"') {
      quote = char;
      word ??= '';
    } else if (char === '\\' && i + 1 < line.length) {
      word = (word ?? '') + line[++i];
    } else if (/\s/.test(char)) {
      if (word !== null) words.push(word);
      word = null;
    } else if (char === '#' && word === null) {
      break; // a comment starts a word; `NL*CSM*E1#x` would not be one
    } else {
      word = (word ?? '') + char;
    }
  }
  if (quote !== null) throw new Error(`unterminated ${quote} in: ${line}`);
  if (word !== null) words.push(word);
  return words;
}

/** Every `npx csms` command in the README's fenced code blocks, continuation lines joined, in order. */
export function readmeCommands(markdown: string): string[][] {
  const commands: string[][] = [];
  const blocks = markdown.match(/^```[^\n]*\n[\s\S]*?^```/gm) ?? [];
  for (const block of blocks) {
    const body = block.split('\n').slice(1, -1).join('\n').replace(/\\\n/g, ' ');
    for (const line of body.split('\n')) {
      const words = shellWords(line);
      if (words[0] === 'npx' && words[1] === 'csms') commands.push(words.slice(2));
    }
  }
  return commands;
}

const ocpiSecret = 'readme-commands-secret-'.repeat(2);

const available = await requirePostgres();

describe.skipIf(!available)('README.md "Operating it": every command runs as written', () => {
  let database: Awaited<ReturnType<typeof createTestPostgresDatabase>>;
  let db: SqlDatabase;
  let server: FastifyInstance;
  let runners: { stop(): Promise<void> };
  let emsp: EmspPartner;
  let env: Record<string, string>;

  beforeAll(async () => {
    database = await createTestPostgresDatabase('readme');
    db = database.open(8);
    const eventStore = await openPostgresEventStore(db);
    // The server as `csms serve` starts it: read models migrated and kept up to date.
    await migrateProjections({ db, eventStore });
    runners = startProjectionRunners({ db, eventStore }, { owner: 'readme-server' });
    const ocpi: OcpiSettings = {
      publicUrl: null,
      secret: ocpiSecret,
      roles: [{ role: 'CPO', country_code: 'NL', party_id: 'CSM', business_details: { name: 'Open-CSMS' } }],
    };
    server = await buildServer({ db, eventStore, logLevel: 'silent', ocpi });
    const url = (await server.listen({ host: '127.0.0.1', port: 0 })).replace('localhost', '127.0.0.1');
    emsp = await EmspPartner.start();
    // OCPI_PUBLIC_URL: where the partner reaches our versions while `ocpi register` waits (README
    // configuration table); the same OCPI_SECRET as the server, as in one deployment.
    env = { DATABASE_URL: database.url, LOG_LEVEL: 'error', OCPI_PUBLIC_URL: url, OCPI_SECRET: ocpiSecret };
  });
  afterAll(async () => {
    await server?.close();
    await runners?.stop();
    await emsp?.close();
    await database?.drop();
  });

  /**
   * Lines that need something no command gives them, and what the test gives instead. Keyed by
   * the line as written; every key must match a README line (checked below).
   */
  const adjustments: Record<string, { why: string; before?: () => Promise<void>; args?: () => string[]; env?: () => Record<string, string> }> = {
    'ocpi register ACME --url https://emsp.example.com/ocpi/versions --token THEIR-TOKEN-A': {
      why:
        'emsp.example.com is no partner: the test eMSP (test/support/emsp-partner.ts) stands in, with its own token A. ' +
        'Through the server (CSMS_SERVER_URL): done directly, the partner calls the server back with our new token ' +
        'before the server\'s partners read model has it, and is refused (reported as a bug of the direct path)',
      args: () => ['ocpi', 'register', 'ACME', '--url', emsp.versionsUrl, '--token', emsp.tokenA],
      env: () => ({ CSMS_SERVER_URL: env.OCPI_PUBLIC_URL! }),
    },
    'ocpi outbox retry 42': {
      why: 'needs push 42 refused by the partner; made here in SQL (ocpi/push tests produce real refusals)',
      before: async () => {
        await db.query(
          `INSERT INTO ocpi_outbox.pushes (id, tenant_id, partner_id, module, object_key, change, enqueued_at, state, attempts, next_attempt_at, last_error)
           VALUES (42, 'default', 'ACME', 'locations', 'LOC1', 'object', now(), 'rejected', 1, now(), 'OCPI 2001: refused by the partner')`,
        );
      },
    },
    'events tail --follow': {
      why: '--follow prints until Ctrl-C; the same command without it proves the rest',
      args: () => ['events', 'tail'],
    },
  };

  const commands = readmeCommands(readFileSync(path.join(repoRoot, 'README.md'), 'utf8'));

  it('the README has the commands this test knows about', () => {
    expect(commands.length).toBeGreaterThanOrEqual(15);
    const lines = commands.map((words) => words.join(' '));
    for (const line of Object.keys(adjustments)) expect(lines, `adjusted line no longer in README.md: ${line}`).toContain(line);
  });

  it('each, in README order, exits 0', async () => {
    for (const words of commands) {
      const line = words.join(' ');
      const adjustment = adjustments[line];
      await adjustment?.before?.();
      const result = await runCliInProcess(adjustment?.args?.() ?? words, { env: { ...env, ...adjustment?.env?.() } });
      expect(result.exitCode, `npx csms ${line}\n${adjustment?.why ?? ''}\nstdout:\n${result.stdout}\nstderr:\n${result.stderr}`).toBe(0);
      expect(result.stderr, `npx csms ${line}`).not.toMatch(/^\s{4}at /m);
    }
  }, 180_000);
});

describe('readmeCommands', () => {
  it('joins continuation lines, keeps quoted words whole, drops comments', () => {
    const markdown = ['```sh', "npx csms a --x 'Main St 1' \\", '  --y NL*CSM*E1   # note', 'npm test', '```', 'npx csms outside-a-block'].join('\n');
    expect(readmeCommands(markdown)).toEqual([['a', '--x', 'Main St 1', '--y', 'NL*CSM*E1']]);
  });
});
