import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { chown, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { isCi } from './services.js';

/**
 * A PostgreSQL cluster of a test's own (initdb into a temporary folder, on a free port), for tests
 * that stop, crash and restart the server: the shared server at 127.0.0.1:5432 serves every other
 * test file and must never be restarted. Skips visibly when the server binaries are missing, and
 * fails under CI=true, like test/support/services.ts.
 *
 * PostgreSQL refuses to run as root, so as root every command runs as the `postgres` user
 * (`runuser`), and the folder is handed to it.
 */

const run = promisify(execFile);

/** initdb, start (with crash recovery after an immediate stop) and stop each finish well within this on a loaded machine. */
export const privatePostgresCommandTimeoutMs = 60_000;
/** Seconds pg_ctl waits for the server to accept connections (or to stop). */
const pgCtlWaitSeconds = 30;
/** The OS user the cluster runs as when we are root. */
const clusterUser = 'postgres';

/** The bin folder of the newest installed PostgreSQL (PG_BIN_DIR overrides), or null. */
export function findPostgresBinaries(): string | null {
  const candidates: string[] = [];
  if (process.env.PG_BIN_DIR) candidates.push(process.env.PG_BIN_DIR);
  const root = '/usr/lib/postgresql';
  if (existsSync(root)) {
    const versions = readdirSync(root).filter((name) => /^\d+$/.test(name)).sort((a, b) => Number(b) - Number(a));
    candidates.push(...versions.map((version) => path.join(root, version, 'bin')));
  }
  return candidates.find((dir) => existsSync(path.join(dir, 'initdb')) && existsSync(path.join(dir, 'pg_ctl'))) ?? null;
}

/**
 * True when a private cluster can be made here. Use with `describe.skipIf(!available)`. Prints why
 * tests are skipped; throws under CI=true.
 */
export function requirePrivatePostgres(): boolean {
  const problem =
    findPostgresBinaries() === null
      ? 'PostgreSQL server binaries (initdb, pg_ctl) not found under /usr/lib/postgresql/*/bin (or PG_BIN_DIR)'
      : isRoot() && !existsSync('/usr/sbin/runuser') && !existsSync('/sbin/runuser')
        ? 'running as root without runuser, so initdb cannot run as the postgres user'
        : null;
  if (problem === null) return true;
  if (isCi) throw new Error(`${problem}: CI=true requires a private PostgreSQL cluster`);
  console.warn(`SKIPPED: ${problem}; the tests that restart PostgreSQL are skipped on this machine.`);
  return false;
}

function isRoot(): boolean {
  return process.getuid?.() === 0;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export interface PrivatePostgres {
  /** Superuser URL of the cluster's `postgres` database. */
  readonly url: string;
  readonly port: number;
  /** Starts the server (after a stop); waits until it accepts connections. */
  start(): Promise<void>;
  /** 'immediate' is a crash (no checkpoint, every backend killed); 'fast' a clean stop that ends sessions. */
  stop(mode: 'immediate' | 'fast'): Promise<void>;
  /** Stops the server (if running) and removes its folder. */
  remove(): Promise<void>;
}

/** initdb into a new temporary folder and start the server on a free port. */
export async function startPrivatePostgres(label: string): Promise<PrivatePostgres> {
  const bin = findPostgresBinaries();
  if (bin === null) throw new Error('PostgreSQL server binaries not found (see requirePrivatePostgres)');
  const dir = await mkdtemp(path.join(tmpdir(), `csms-pg-${label}-`));
  const dataDir = path.join(dir, 'data');
  const logFile = path.join(dir, 'server.log');
  const asCluster = async (program: string, args: readonly string[]): Promise<void> => {
    const [file, argv] = isRoot() ? ['runuser', ['-u', clusterUser, '--', path.join(bin, program), ...args]] : [path.join(bin, program), [...args]];
    try {
      await run(file, argv, { timeout: privatePostgresCommandTimeoutMs, cwd: dir });
    } catch (error) {
      const { stderr, stdout } = error as { stderr?: string; stdout?: string };
      throw new Error(`${program} ${args.join(' ')} failed: ${(error as Error).message}\n${stdout ?? ''}${stderr ?? ''}`);
    }
  };
  if (isRoot()) {
    const { stdout } = await run('id', ['-u', clusterUser]);
    const { stdout: group } = await run('id', ['-g', clusterUser]);
    await chown(dir, Number(stdout.trim()), Number(group.trim()));
  }
  let running = false;
  try {
    // No fsync: a crash of the server (immediate stop) keeps everything the OS has; only an OS crash would not.
    await asCluster('initdb', ['-D', dataDir, '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--locale=C', '--no-sync']);
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  const port = await freePort();
  const serverOptions = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off`;
  const cluster: PrivatePostgres = {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    async start() {
      await asCluster('pg_ctl', ['-D', dataDir, '-l', logFile, '-o', serverOptions, '-w', '-t', String(pgCtlWaitSeconds), 'start']);
      running = true;
    },
    async stop(mode) {
      await asCluster('pg_ctl', ['-D', dataDir, '-m', mode, '-w', '-t', String(pgCtlWaitSeconds), 'stop']);
      running = false;
    },
    async remove() {
      if (running) await cluster.stop('immediate').catch(() => {});
      await rm(dir, { recursive: true, force: true });
    },
  };
  try {
    await cluster.start();
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  return cluster;
}
