import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import pg from 'pg';

/**
 * What the OCPP benchmark needs from the machine: /proc readings (RSS and CPU of the server, of
 * Postgres, of ourselves), a scratch database, and the server child process. Loopback only.
 */

/** Linux USER_HZ: /proc/<pid>/stat counts CPU time in these ticks. 100 on every mainstream kernel. */
const clockTicksPerS = 100;

export function rssBytesOf(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  if (!match) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(match[1]) * 1024;
}

/** utime + stime of one process, in seconds; 0 when it is gone. */
export function cpuSecondsOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces; the fields after its ')' are fixed.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / clockTicksPerS; // fields 14 and 15 of stat(5)
  } catch {
    return 0;
  }
}

/**
 * CPU seconds per postgres process that works for us: the backends connected to `databaseName`
 * and the shared auxiliary processes (postmaster, walwriter, checkpointer, ...). Backends of other
 * databases (other test runs on the same server) are left out. Per pid, because backends come and
 * go: the caller sums the differences of the pids it sees at the end.
 */
export function postgresCpuSecondsByPid(databaseName: string | null): Map<number, number> {
  const byPid = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() !== 'postgres') continue;
      const commandLine = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      // A backend's title is "postgres: 15/main: <user> <database> <client> <state>"; auxiliaries have no client.
      const isBackend = /\(\d+\)|\[local\]/.test(commandLine);
      if (isBackend && (databaseName === null || !commandLine.includes(` ${databaseName} `))) continue;
      byPid.set(Number(entry), cpuSecondsOf(Number(entry)));
    } catch {
      // the process ended between readdir and read
    }
  }
  return byPid;
}

/** Busy and total CPU seconds of the whole machine, from /proc/stat. */
export function machineCpuSeconds(): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
  const values = line.trim().split(/\s+/).slice(1).map(Number);
  const total = values.reduce((a, b) => a + b, 0);
  const idle = (values[3] ?? 0) + (values[4] ?? 0); // idle + iowait
  return { busy: (total - idle) / clockTicksPerS, total: total / clockTicksPerS };
}

export function openFilesLimit(): number {
  const limits = readFileSync('/proc/self/limits', 'utf8');
  const match = /^Max open files\s+(\d+|unlimited)/m.exec(limits);
  return !match || match[1] === 'unlimited' ? Number.POSITIVE_INFINITY : Number(match[1]);
}

/** A port free on 127.0.0.1 right now (the server binds it a moment later; a race we accept in a benchmark). */
export function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export interface ScratchDatabase {
  readonly url: string;
  readonly name: string;
  drop(): Promise<void>;
}

/** A fresh database on the local Postgres, dropped (connections forced off) by `drop()`. */
export async function createScratchDatabase(adminUrl: string, name: string): Promise<ScratchDatabase> {
  if (!/^[a-z0-9_]{1,63}$/.test(name)) throw new Error(`unsafe database name ${name}`);
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  let dropped = false;
  return {
    url: url.toString(),
    name,
    async drop() {
      if (dropped) return;
      dropped = true;
      const client = new pg.Client({ connectionString: adminUrl });
      await client.connect();
      try {
        await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}

/** Bytes of the event table and WAL written: what durability cost. */
export async function eventsStored(databaseUrl: string): Promise<number | null> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const tables = await client.query<{ name: string }>(
      `SELECT format('%I.%I', table_schema, table_name) AS name FROM information_schema.tables
        WHERE table_schema = 'eventstore' AND table_name = 'events'`,
    );
    if (tables.rows.length === 0) return null;
    const count = await client.query<{ n: string }>(`SELECT count(*)::text AS n FROM ${tables.rows[0]!.name}`);
    return Number(count.rows[0]!.n);
  } finally {
    await client.end();
  }
}

export interface ServerProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  /** The last lines of stdout/stderr, for the report when something fails. */
  readonly tail: string[];
  readonly exited: Promise<number | null>;
  stop(graceMs: number): Promise<void>;
  /** The next output line matching `pattern`, or null after `timeoutMs`. */
  nextLine(pattern: RegExp, timeoutMs: number): Promise<RegExpExecArray | null>;
}

/** Lines of server output kept for diagnosis; the rest is read and thrown away so the pipe never blocks the server. */
const serverOutputLinesKept = 40;

/**
 * Spawns the server and resolves once a line of its output matches `ready` (returning the match),
 * or rejects after `readyTimeoutMs` or when it exits first.
 */
export function spawnServer(
  command: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  ready: RegExp,
  readyTimeoutMs: number,
): Promise<{ server: ServerProcess; match: RegExpExecArray }> {
  const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'], cwd: process.cwd() });
  const tail: string[] = [];
  // Diagnosis: OCPP_BENCH_SERVER_LOG=path keeps the server's whole output (the tail alone hides why calls failed).
  const logFile = process.env.OCPP_BENCH_SERVER_LOG ? createWriteStream(process.env.OCPP_BENCH_SERVER_LOG, { flags: 'a' }) : null;
  const lineWaiters = new Set<(line: string) => void>();
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const server: ServerProcess = {
    child,
    pid: child.pid ?? -1,
    tail,
    exited,
    async stop(graceMs) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
    nextLine(pattern, timeoutMs) {
      return new Promise((resolve) => {
        const timer = setTimeout(() => {
          lineWaiters.delete(waiter);
          resolve(null);
        }, timeoutMs);
        const waiter = (line: string) => {
          const match = pattern.exec(line);
          if (!match) return;
          clearTimeout(timer);
          lineWaiters.delete(waiter);
          resolve(match);
        };
        lineWaiters.add(waiter);
      });
    },
  };
  return new Promise((resolve, reject) => {
    let settled = false;
    const timer = setTimeout(() => {
      if (settled) return;
      settled = true;
      reject(new Error(`server not ready within ${readyTimeoutMs} ms; last output:\n${tail.join('\n')}`));
    }, readyTimeoutMs);
    const onLine = (line: string) => {
      tail.push(line);
      logFile?.write(`${line}\n`);
      if (tail.length > serverOutputLinesKept) tail.shift();
      for (const waiter of [...lineWaiters]) waiter(line);
      const match = settled ? null : ready.exec(line);
      if (match) {
        settled = true;
        clearTimeout(timer);
        resolve({ server, match });
      }
    };
    for (const stream of [child.stdout!, child.stderr!]) {
      let buffered = '';
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => {
        buffered += chunk;
        let newline = buffered.indexOf('\n');
        while (newline >= 0) {
          onLine(buffered.slice(0, newline));
          buffered = buffered.slice(newline + 1);
          newline = buffered.indexOf('\n');
        }
        if (buffered.length > 64 * 1024) buffered = ''; // a runaway line without newline
      });
    }
    void exited.then((code) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      reject(new Error(`server exited with ${code} before it was ready; last output:\n${tail.join('\n')}`));
    });
  });
}
