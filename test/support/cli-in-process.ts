import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { lockFileName } from '../../api/embedded-lock.js';
import { cliTimeoutMsDefault, tempDataDir, type CliResult } from './cli.js';
import { copyPgliteCluster } from './pglite-template.js';

/**
 * Runs a `csms` command inside the test's own process: `main()` from api/cli/main.ts with the
 * given environment and its output captured, returning what `runCli` (test/support/cli.ts) returns
 * for a spawned `node bin/csms.mjs`. A spawn costs ~1-2 s of tsx start-up before the command even
 * begins (5-10 s on a loaded 2-core machine); a file running dozens of commands spent minutes on it.
 *
 * Keep the real process (`runCli`, `spawnCli`) where the process boundary is what is tested:
 * `serve`, signals (`events tail --follow`), the exit code of a real process, the embedded lock
 * between two processes, `--help` of the real binary.
 *
 * What could leak from one in-process run into the next, and how each is kept out:
 * - the environment: `main` reads its configuration only from the `env` given here, so the
 *   developer's DATABASE_URL & co. cannot reach it, as with cli.ts's scrubbed child environment
 *   (USER, which names the operator in `user:` actors, comes from the process, as a spawned
 *   child inherits it);
 * - the working directory (`./data`, paths shown relative to it): each run happens in `cwd`, by
 *   default an empty folder of this test process's own, so a command that names no database
 *   never touches the repository's ./data;
 * - the embedded lock: it holds the pid, which is the test's own pid here, and the lock code
 *   treats its own pid as stale. A run on a folder this process holds open (openServices in
 *   the test) would open PGlite twice on the same files and corrupt them, so it is refused; a
 *   command that left its lock behind (never released) fails the run;
 * - process-wide listeners (exit, signals) and process.exitCode: a run that adds one and does not
 *   remove it, or sets the exit code, fails, and they are restored;
 * - module-level state: prom-client counters (adapters/observability, ocpi/push/metrics) keep
 *   counting across runs in one process, as they would in a server; no test reads them after a
 *   CLI command. Everything else a command opens (database, event store) it closes itself.
 * Runs are serialized: the working directory and stdout/stderr capture are process-wide.
 */

export interface InProcessCliOptions {
  /** The only variables the command sees. */
  readonly env?: Record<string, string>;
  /** Working directory for the run; default a fresh empty folder, removed after the run. */
  readonly cwd?: string;
  readonly timeoutMs?: number;
}

/** Process events whose listener count must be the same after a run as before. */
const watchedProcessEvents: readonly string[] = ['exit', 'SIGINT', 'SIGTERM', 'unhandledRejection', 'uncaughtException'];
/** process.listeners/removeListener over any event name (their typings are overloaded per event). */
const emitter = process as unknown as NodeJS.EventEmitter;

let queue: Promise<unknown> = Promise.resolve();

/**
 * An empty folder for one run that names no working directory, removed right after it: a folder
 * kept for the whole test process (removed on 'exit') outlived vitest's workers, which end without
 * that event, and piled up in the temporary folder.
 */
async function withDefaultCwd<T>(work: (cwd: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(path.join(tmpdir(), 'csms-cwd-'));
  try {
    return await work(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function lockHolderPid(dataDir: string): number | null {
  try {
    const pid = (JSON.parse(readFileSync(path.join(dataDir, lockFileName), 'utf8')) as { pid?: unknown }).pid;
    return typeof pid === 'number' ? pid : null;
  } catch {
    return null;
  }
}

/** Runs one command in this process; resolves with its exit code and captured output. */
export function runCliInProcess(args: readonly string[], options: InProcessCliOptions = {}): Promise<CliResult> {
  const cwd = options.cwd;
  const run = queue.then(() => (cwd === undefined ? withDefaultCwd((fresh) => runNow(args, options, fresh)) : runNow(args, options, cwd)));
  queue = run.catch(() => {});
  return run;
}

async function runNow(args: readonly string[], options: InProcessCliOptions, cwd: string): Promise<CliResult> {
  const env = { ...(options.env ?? {}) };
  const timeoutMs = options.timeoutMs ?? cliTimeoutMsDefault;
  const dataDir = env.DATABASE_URL === undefined ? path.resolve(cwd, env.DATA_DIR ?? 'data') : null;
  if (dataDir !== null && lockHolderPid(dataDir) === process.pid) {
    throw new Error(`runCliInProcess: this test process holds the embedded database in ${dataDir} open; close it before \`csms ${args.join(' ')}\``);
  }
  const { main } = await import('../../api/cli/main.js');

  let stdout = '';
  let stderr = '';
  const listenersBefore = watchedProcessEvents.map((name) => emitter.listeners(name));
  const exitCodeBefore = process.exitCode;
  const cwdBefore = process.cwd();
  // What a command writes to the streams itself (the progress bar of rebuild and verify) is
  // part of its output, as it is for a spawned process.
  const writeOut = process.stdout.write;
  const writeErr = process.stderr.write;
  const capture = (append: (text: string) => void) =>
    ((chunk: string | Uint8Array, ...rest: unknown[]) => {
      append(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString());
      const callback = rest.find((arg) => typeof arg === 'function') as (() => void) | undefined;
      callback?.();
      return true;
    }) as typeof process.stdout.write;
  process.stdout.write = capture((text) => (stdout += text));
  process.stderr.write = capture((text) => (stderr += text));
  process.chdir(cwd);
  let timer: NodeJS.Timeout | undefined;
  let exitCode: number;
  try {
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`csms ${args.join(' ')} did not finish within ${timeoutMs} ms (in process)\nstdout:\n${stdout}\nstderr:\n${stderr}`)), timeoutMs);
    });
    exitCode = await Promise.race([
      main(['node', 'csms', ...args], env, { out: (line) => (stdout += `${line}\n`), err: (line) => (stderr += `${line}\n`) }),
      timedOut,
    ]);
  } finally {
    clearTimeout(timer);
    process.stdout.write = writeOut;
    process.stderr.write = writeErr;
    process.chdir(cwdBefore);
  }

  const leaks: string[] = [];
  watchedProcessEvents.forEach((name, i) => {
    const before = new Set(listenersBefore[i]);
    for (const listener of emitter.listeners(name)) {
      if (before.has(listener)) continue;
      emitter.removeListener(name, listener as (...args: unknown[]) => void);
      leaks.push(`a '${name}' listener`);
    }
  });
  if (process.exitCode !== exitCodeBefore) {
    leaks.push(`process.exitCode ${String(process.exitCode)}`);
    process.exitCode = exitCodeBefore;
  }
  if (dataDir !== null && lockHolderPid(dataDir) === process.pid) {
    leaks.push(`the embedded lock in ${dataDir}`);
    rmSync(path.join(dataDir, lockFileName), { force: true });
  }
  if (leaks.length > 0) {
    throw new Error(`csms ${args.join(' ')} left ${leaks.join(', ')} behind; a real process would end with it, in-process runs must not\nstderr:\n${stderr}`);
  }
  return { exitCode, signal: null, stdout, stderr };
}

/**
 * Like tempDataDir, with the embedded database's PGlite cluster already initialized (copied from
 * a template, test/support/pglite-template.ts): a first open then costs no initdb. For tests of a
 * folder that does not exist yet, use tempDataDir.
 */
export async function tempDataDirInitialized(label: string): Promise<{ dir: string; remove(): Promise<void> }> {
  const data = await tempDataDir(label);
  const { pgliteSubfolder } = await import('../../api/composition.js');
  await copyPgliteCluster(path.join(data.dir, pgliteSubfolder));
  return data;
}
