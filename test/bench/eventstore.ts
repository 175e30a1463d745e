import { randomUUID } from 'node:crypto';
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import type { EventToAppend } from '../../adapters/event-store/port.js';
import { groupAppendsDefault, groupFlushersDefault, openPostgresEventStore, type GroupWriteMode } from '../../adapters/event-store/postgres.js';
import { createTestPostgresDatabase, requirePostgres } from '../support/services.js';

/**
 * `npm run bench:eventstore`: append throughput and latency of the Postgres event store on a
 * real server, in a database of its own (dropped after). Each appender appends one event at a
 * time to its own stream with the exact expected revision, as command handlers do.
 * Target (issue): >= 20,000 events/s at 256 appenders with p99 < 50 ms.
 *
 *   --duration-s N     seconds per level (default 10)
 *   --sweep-s N        seconds per run of the flusher / write-mode comparison at 256 (default 5, 0 skips)
 */
const { values: args } = parseArgs({
  options: {
    'duration-s': { type: 'string', default: '10' },
    'sweep-s': { type: 'string', default: '5' },
  },
});
const levelDurationS = Number(args['duration-s']);
const sweepDurationS = Number(args['sweep-s']);
const appenderLevels = [1, 16, 256] as const;
let schemasMade = 0;

interface RunResult {
  readonly label: string;
  readonly appenders: number;
  readonly events: number;
  readonly eventsPerS: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  readonly appendsPerTransaction: number;
  /** CPU time of this process (planning, hashing, JSON, driver) per appended event. */
  readonly nodeCpuUsPerEvent: number;
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

function oneEvent(n: number): EventToAppend {
  return {
    eventId: randomUUID(),
    type: 'BenchmarkRecorded',
    schemaVersion: 1,
    data: { n, energyWh: '12345.678', connectorId: 1 },
    metadata: {
      tenantId: 'bench',
      correlationId: randomUUID(),
      causationId: randomUUID(),
      actor: 'system:bench',
      occurredAt: new Date().toISOString(),
      recordedAt: new Date().toISOString(),
    },
  };
}

async function run(
  database: Awaited<ReturnType<typeof createTestPostgresDatabase>>,
  label: string,
  appenders: number,
  durationS: number,
  groupCommit: { flushers?: number; mode?: GroupWriteMode; appendsPerGroupMax?: number },
): Promise<RunResult> {
  const db = database.open(Math.max(4, (groupCommit.flushers ?? groupFlushersDefault) + 2));
  const store = await openPostgresEventStore(db, { schema: `bench_${schemasMade++}`, groupCommit });
  const latenciesMs: number[] = [];
  const deadline = performance.now() + durationS * 1_000;
  const started = performance.now();
  const cpuBefore = process.cpuUsage();
  await Promise.all(
    Array.from({ length: appenders }, async () => {
      const stream = `bench-bench-${randomUUID()}`;
      for (let revision = 0; performance.now() < deadline; revision++) {
        const before = performance.now();
        const result = await store.append(stream, [oneEvent(revision)], revision === 0 ? 'no_stream' : revision - 1);
        latenciesMs.push(performance.now() - before);
        if (result.nextExpectedRevision !== revision) throw new Error(`${stream}: revision ${result.nextExpectedRevision}, expected ${revision}`);
      }
    }),
  );
  const elapsedS = (performance.now() - started) / 1_000;
  const cpu = process.cpuUsage(cpuBefore);
  const stats = store.groupCommitStats();
  await store.close();
  await db.close();
  latenciesMs.sort((a, b) => a - b);
  return {
    label,
    appenders,
    events: latenciesMs.length,
    eventsPerS: Math.round(latenciesMs.length / elapsedS),
    p50Ms: percentile(latenciesMs, 50),
    p99Ms: percentile(latenciesMs, 99),
    maxMs: latenciesMs.at(-1) ?? Number.NaN,
    appendsPerTransaction: stats.appends / Math.max(1, stats.transactions),
    nodeCpuUsPerEvent: (cpu.user + cpu.system) / Math.max(1, latenciesMs.length),
  };
}

function row(result: RunResult): string {
  return `| ${result.label} | ${result.appenders} | ${result.events} | ${result.eventsPerS} | ${result.p50Ms.toFixed(1)} | ${result.p99Ms.toFixed(1)} | ${result.maxMs.toFixed(1)} | ${result.appendsPerTransaction.toFixed(1)} | ${result.nodeCpuUsPerEvent.toFixed(0)} |`;
}

async function main(): Promise<void> {
  if (!(await requirePostgres())) {
    console.error('bench:eventstore needs PostgreSQL (TEST_DATABASE_URL)');
    process.exitCode = 1;
    return;
  }
  const database = await createTestPostgresDatabase('bench_eventstore');
  const admin = database.open(1);
  const { rows } = await admin.query<{ version: string; fsync: string; synchronous_commit: string }>(
    `SELECT current_setting('server_version') AS version, current_setting('fsync') AS fsync,
            current_setting('synchronous_commit') AS synchronous_commit`,
  );
  const server = rows[0]!;
  const loadBefore = loadavg()[0]!.toFixed(1);
  const results: RunResult[] = [];
  try {
    for (const appenders of appenderLevels) {
      results.push(await run(database, `default (${groupFlushersDefault} flushers, groups <= ${groupAppendsDefault})`, appenders, levelDurationS, {}));
      console.info(row(results.at(-1)!));
    }
    if (sweepDurationS > 0) {
      for (const flushers of [1, 2, 4, 8]) {
        for (const appendsPerGroupMax of [32, 64, 128, 256]) {
          const label = `${flushers} flusher(s), groups <= ${appendsPerGroupMax}`;
          results.push(await run(database, label, 256, sweepDurationS, { flushers, appendsPerGroupMax }));
          console.info(row(results.at(-1)!));
        }
      }
      results.push(await run(database, `${groupFlushersDefault} flushers, savepoint per append`, 256, sweepDurationS, { mode: 'savepoints' }));
      console.info(row(results.at(-1)!));
    }
  } finally {
    await database.drop();
  }
  console.info(
    `\nPostgres ${server.version} (fsync=${server.fsync}, synchronous_commit=${server.synchronous_commit}), ` +
      `${cpus().length} cores (${cpus()[0]?.model ?? '?'}), Node ${process.version}, ` +
      `load average ${loadBefore} before / ${loadavg()[0]!.toFixed(1)} after, ${levelDurationS} s per level\n`,
  );
  console.info('| run | appenders | events | events/s | p50 ms | p99 ms | max ms | appends/transaction | node CPU µs/event |');
  console.info('|---|---|---|---|---|---|---|---|---|');
  for (const result of results) console.info(row(result));
}

await main();
