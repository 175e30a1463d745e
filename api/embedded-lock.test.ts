import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { acquireEmbeddedLock, displayPath, EmbeddedDatabaseInUseError, lockFileName } from './embedded-lock.js';

const folders: string[] = [];
function tempFolder(): string {
  const folder = mkdtempSync(path.join(tmpdir(), 'csms-lock-'));
  folders.push(folder);
  return folder;
}
afterEach(() => {
  for (const folder of folders.splice(0)) rmSync(folder, { recursive: true, force: true });
});

/** A pid that surely does not run: a child that has already exited. */
function deadPid(): number {
  return spawnSync(process.execPath, ['-e', '0']).pid!;
}

describe('embedded database lock', () => {
  it('is taken with our pid and removed on release', () => {
    const folder = tempFolder();
    const lock = acquireEmbeddedLock(folder, 'migrate');
    expect(JSON.parse(readFileSync(lock.file, 'utf8'))).toMatchObject({ pid: process.pid, command: 'migrate' });
    lock.release();
    expect(existsSync(lock.file)).toBe(false);
  });

  it('refuses when a running process holds it, naming the server and its pid', () => {
    const folder = tempFolder();
    // Our parent is surely running and is not us.
    writeFileSync(path.join(folder, lockFileName), JSON.stringify({ pid: process.ppid, command: 'serve' }));
    expect(() => acquireEmbeddedLock(folder, 'migrate')).toThrow(EmbeddedDatabaseInUseError);
    expect(() => acquireEmbeddedLock(folder, 'migrate')).toThrow(
      `is in use by the server (pid ${process.ppid}): stop it, or set DATABASE_URL to use a Postgres server`,
    );
  });

  it('takes over a stale lock left by a process that died', () => {
    const folder = tempFolder();
    writeFileSync(path.join(folder, lockFileName), JSON.stringify({ pid: deadPid(), command: 'serve' }));
    const lock = acquireEmbeddedLock(folder, 'migrate');
    expect(JSON.parse(readFileSync(lock.file, 'utf8')).pid).toBe(process.pid);
    lock.release();
  });

  it('takes over an unreadable (half-written) lock', () => {
    const folder = tempFolder();
    writeFileSync(path.join(folder, lockFileName), '{"pi');
    acquireEmbeddedLock(folder, 'migrate').release();
  });

  it('does not remove a lock another process took over', () => {
    const folder = tempFolder();
    const lock = acquireEmbeddedLock(folder, 'migrate');
    writeFileSync(lock.file, JSON.stringify({ pid: process.ppid, command: 'serve' }));
    lock.release();
    expect(existsSync(lock.file)).toBe(true);
  });

  it('shows folders under the working directory as ./relative', () => {
    expect(displayPath('/srv/csms/data', '/srv/csms')).toBe('./data');
    expect(displayPath('/var/lib/csms', '/srv/csms')).toBe('/var/lib/csms');
  });
});
