import { mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/**
 * PGlite is one process only: two processes opening the same data folder corrupt it. So whoever
 * opens the embedded database first writes a lock file with its pid; anyone else fails fast with
 * a message saying who holds it. A lock left by a process that died (kill -9, power loss) is
 * detected by its pid no longer running, and taken over.
 */

export const lockFileName = 'csms.lock';
/** Attempts to take a lock when a stale one is being removed at the same time by someone else. */
const lockAttemptsMax = 3;

interface LockContent {
  readonly pid: number;
  /** What holds it: 'serve' for the server, else the CLI command, for the error message. */
  readonly command: string;
  readonly startedAt: string;
}

export class EmbeddedDatabaseInUseError extends Error {
  override readonly name = 'EmbeddedDatabaseInUseError';
  constructor(
    readonly dataDir: string,
    readonly holder: LockContent,
  ) {
    const who = holder.command === 'serve' ? 'the server' : `\`csms ${holder.command}\``;
    super(
      `the embedded database in ${displayPath(dataDir)} is in use by ${who} (pid ${holder.pid}): ` +
        'stop it, or set DATABASE_URL to use a Postgres server',
    );
  }
}

/** `./data` when under the working directory (what the operator typed), else the absolute path. */
export function displayPath(folder: string, cwd: string = process.cwd()): string {
  const relative = path.relative(cwd, folder);
  if (relative === '') return '.';
  if (relative.startsWith('..') || path.isAbsolute(relative)) return folder;
  return `./${relative}`;
}

function processIsRunning(pid: number): boolean {
  try {
    process.kill(pid, 0); // signal 0: existence check only
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to another user, so it is running.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readLock(file: string): LockContent | null {
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as Partial<LockContent>;
    if (typeof parsed.pid !== 'number') return null;
    return { pid: parsed.pid, command: String(parsed.command ?? 'unknown'), startedAt: String(parsed.startedAt ?? '') };
  } catch {
    return null; // missing, or half written by a process that died mid-write: treat as stale
  }
}

export interface EmbeddedLock {
  readonly file: string;
  release(): void;
}

/** Takes the data folder's lock or throws EmbeddedDatabaseInUseError. Creates the folder if needed. */
export function acquireEmbeddedLock(dataDir: string, command: string): EmbeddedLock {
  mkdirSync(dataDir, { recursive: true });
  const file = path.join(dataDir, lockFileName);
  const mine: LockContent = { pid: process.pid, command, startedAt: new Date().toISOString() };
  for (let attempt = 1; attempt <= lockAttemptsMax; attempt++) {
    try {
      // 'wx' fails if the file exists: creating it is the atomic test-and-set.
      writeFileSync(file, JSON.stringify(mine), { flag: 'wx' });
      return lockHandle(file);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const holder = readLock(file);
    if (holder && holder.pid !== process.pid && processIsRunning(holder.pid)) {
      throw new EmbeddedDatabaseInUseError(dataDir, holder);
    }
    // Stale (its process is gone) or unreadable: remove and try again.
    try {
      unlinkSync(file);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
  throw new Error(`could not take the lock ${file} after ${lockAttemptsMax} attempts`);
}

function lockHandle(file: string): EmbeddedLock {
  let held = true;
  // A crash that skips release() leaves a stale lock the next start detects; this covers the
  // ordinary exits (process.exit, end of the event loop) so nothing is left behind at all.
  const onExit = () => release();
  function release(): void {
    if (!held) return;
    held = false;
    process.removeListener('exit', onExit);
    // Remove it only if it is still ours: never delete a lock another process took over.
    if (readLock(file)?.pid === process.pid) {
      try {
        unlinkSync(file);
      } catch {
        // already gone
      }
    }
  }
  process.on('exit', onExit);
  return { file, release };
}
