import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { cpus } from 'node:os';
import { LeanStation, PhaseCounters } from './ocpp-station.js';
import { bottleneckOf, cpuShare, cpuSnapshot, fmt, formatTable, type CpuShare } from './ocpp-report.js';
import {
  createScratchDatabase, eventsStored, freeLoopbackPort, openFilesLimit, rssBytesOf, spawnServer,
  type ScratchDatabase, type ServerProcess,
} from './ocpp-system.js';

/**
 * OCPP gateway load benchmark (issue "OCPP 1.6J and 2.0.1 gateway"), `npm run bench:ocpp -- [flags]`.
 *
 * Opens N lean simulated stations (a mix of 1.6 and 2.0.1) against a real server in a child
 * process on 127.0.0.1 with a fresh Postgres database, then:
 *   connect  — all N WebSockets, bounded concurrency of handshakes;
 *   boot     — BootNotification + StatusNotification per station; then idle → server RSS per connection;
 *   load     — charging sessions for --duration-s: one message per station every --meter-interval-s
 *              (Start, --meter-values-per-session × MeterValues/TransactionEvent(Updated), Stop);
 *   storm    — every station drops its connection at once, reconnects and sends Boot + Status.
 * Targets (issue): 10,000 stations; ≥ 5,000 durable msg/s with p99 < 100 ms; ≤ 20 KB RSS per idle
 * connection; storm of 10,000 settled in ≤ 15 s with zero errors.
 *
 * --server=csms      `node bin/csms.mjs serve` (the real server with the real handler);
 * --server=transport test/bench/ocpp-transport-server.ts (gateway + trivial handler appending one event per CALL).
 */

const { values: flags } = parseArgs({
  options: {
    stations: { type: 'string', default: '10000' },
    'duration-s': { type: 'string', default: '60' },
    mix: { type: 'string', default: '0.5' },
    server: { type: 'string', default: 'csms' },
    'meter-interval-s': { type: 'string', default: '2' },
    'meter-values-per-session': { type: 'string', default: '10' },
    'connect-concurrency': { type: 'string', default: '500' },
    'idle-settle-s': { type: 'string', default: '5' },
    'call-timeout-ms': { type: 'string', default: '30000' },
    'storm-timeout-s': { type: 'string', default: '120' },
    'max-run-s': { type: 'string', default: '1200' },
    'transport-store': { type: 'string', default: 'postgres' },
    'server-log-level': { type: 'string', default: 'warn' },
    'admin-url': { type: 'string', default: 'postgres://postgres@127.0.0.1:5432/postgres' },
    password: { type: 'string' },
    'skip-storm': { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
  strict: true,
});

if (flags.help) {
  process.stdout.write(`usage: npm run bench:ocpp -- [--stations 10000] [--duration-s 60] [--mix 0.5 (fraction 1.6)]
  [--server csms|transport] [--meter-interval-s 2] [--meter-values-per-session 10] [--connect-concurrency 500]
  [--transport-store postgres|none] [--server-log-level warn] [--password P] [--skip-storm] [--max-run-s 1200]\n`);
  process.exit(0);
}

function numberFlag(name: string, min: number, max: number): number {
  const value = Number(flags[name as keyof typeof flags]);
  if (!Number.isFinite(value) || value < min || value > max) {
    process.stderr.write(`--${name} must be a number in ${min}..${max}\n`);
    process.exit(2);
  }
  return value;
}

const stationCount = Math.floor(numberFlag('stations', 1, 60_000));
const durationS = numberFlag('duration-s', 1, 3_600);
const mix16 = numberFlag('mix', 0, 1);
const meterIntervalS = numberFlag('meter-interval-s', 0.05, 3_600);
const meterValuesPerSession = Math.floor(numberFlag('meter-values-per-session', 0, 10_000));
const connectConcurrency = Math.floor(numberFlag('connect-concurrency', 1, 10_000));
const idleSettleS = numberFlag('idle-settle-s', 0, 600);
const callTimeoutMs = numberFlag('call-timeout-ms', 100, 600_000);
const stormTimeoutS = numberFlag('storm-timeout-s', 1, 3_600);
const maxRunS = numberFlag('max-run-s', 10, 24 * 3_600);
const serverMode = flags.server;
if (serverMode !== 'csms' && serverMode !== 'transport') {
  process.stderr.write('--server must be csms or transport\n');
  process.exit(2);
}
const transportStore = flags['transport-store'];
if (transportStore !== 'postgres' && transportStore !== 'none') {
  process.stderr.write('--transport-store must be postgres or none\n');
  process.exit(2);
}
// This benchmark talks to loopback only.
const adminUrl = new URL(flags['admin-url']);
if (!['127.0.0.1', 'localhost'].includes(adminUrl.hostname)) {
  process.stderr.write('--admin-url must point to 127.0.0.1\n');
  process.exit(2);
}

/** Handshake of one station; a slower one counts as a failed connect. */
const handshakeTimeoutMs = 30_000;
/** Connect and boot phases each end by then, whatever is still pending. */
const phaseTimeoutS = Math.max(120, stationCount / 50);
/** Failed connects of one station retried this many times (a real station retries forever, with backoff). */
const connectAttemptsMax = 3;
const connectRetryDelayMs = 1_000;
/** Timeout sweep period: one timer for all stations instead of one per call. */
const sweepIntervalMs = 250;
/** The server gets this long to shut down cleanly before SIGKILL. */
const serverStopGraceMs = 12_000;
const serverReadyTimeoutMs = 120_000;
/** Server RSS is sampled this often during the load phase, for its peak. */
const rssSampleIntervalMs = 1_000;

const log = (line: string) => process.stderr.write(`[bench:ocpp ${(performance.now() / 1000).toFixed(1)}s] ${line}\n`);

let database: ScratchDatabase | null = null;
let server: ServerProcess | null = null;
let stations: LeanStation[] = [];
let cleaningUp: Promise<void> | null = null;

function cleanup(): Promise<void> {
  cleaningUp ??= (async () => {
    for (const station of stations) station.drop();
    if (server) await server.stop(serverStopGraceMs).catch((error: unknown) => log(`server stop: ${String(error)}`));
    if (database) await database.drop().catch((error: unknown) => log(`database drop: ${String(error)}`));
  })();
  return cleaningUp;
}

const runDeadline = setTimeout(() => {
  log(`run exceeded --max-run-s ${maxRunS}: aborting`);
  void cleanup().finally(() => process.exit(1));
}, maxRunS * 1000);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    log(`${signal}: cleaning up`);
    void cleanup().finally(() => process.exit(130));
  });
}

/** Runs `work` over `items` with at most `concurrency` at once; stops taking new items at `deadlineMs`. */
async function inPool<T>(items: readonly T[], concurrency: number, deadlineMs: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length && performance.now() < deadlineMs) await work(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
}

/** Transport mode only: RSS and V8 heap right after a full GC in the server (null for csms, which has no such hook). */
async function memoryAfterGc(): Promise<{ rssBytes: number; heapUsedBytes: number } | null> {
  if (serverMode !== 'transport' || !server) return null;
  const line = server.nextLine(/ocpp-bench-gc heapUsed=(\d+) rss=(\d+)/, 10_000);
  server.child.kill('SIGUSR2');
  const match = await line;
  return match ? { heapUsedBytes: Number(match[1]), rssBytes: Number(match[2]) } : null;
}

function useCounters(counters: PhaseCounters): PhaseCounters {
  for (const station of stations) station.counters = counters;
  return counters;
}

interface PhaseResult {
  readonly name: string;
  readonly seconds: number;
  readonly counters: PhaseCounters;
  readonly cpu: CpuShare;
  readonly errors: number;
}

async function connectWithRetry(station: LeanStation, errors: { count: number; examples: Map<string, number> }): Promise<boolean> {
  for (let attempt = 1; attempt <= connectAttemptsMax; attempt++) {
    try {
      await station.connect();
      return true;
    } catch (error) {
      errors.count += 1;
      const key = (error as Error).message.slice(0, 80);
      errors.examples.set(key, (errors.examples.get(key) ?? 0) + 1);
      if (attempt < connectAttemptsMax) await sleep(connectRetryDelayMs);
    }
  }
  return false;
}

async function main(): Promise<number> {
  const filesMax = openFilesLimit();
  // Each station is one socket here and one in the server (a separate process with the same limit).
  if (stationCount + 512 > filesMax) {
    log(`open files limit ${filesMax} is too low for ${stationCount} stations: run \`ulimit -n ${stationCount + 1024}\` first`);
    return 2;
  }

  const needsDatabase = serverMode === 'csms' || transportStore === 'postgres';
  if (needsDatabase) {
    database = await createScratchDatabase(adminUrl.toString(), `csms_bench_ocpp_${Date.now()}_${process.pid}`);
    log(`database ${database.name} created`);
  }
  const port = await freeLoopbackPort();
  // Diagnosis: OCPP_BENCH_SERVER_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/p" (node refuses --cpu-prof in NODE_OPTIONS).
  const serverNodeArgs = (process.env.OCPP_BENCH_SERVER_NODE_ARGS ?? '').split(' ').filter((arg) => arg.length > 0);
  const env: NodeJS.ProcessEnv = { ...process.env, HOST: '127.0.0.1', PORT: String(port), LOG_LEVEL: flags['server-log-level'] };
  // Unregistered stations held Pending may only boot and heartbeat (ocpp/translate/shared/admission.ts):
  // the bench's transactions need them accepted, unless the caller chose a policy.
  env.OCPP_UNKNOWN_STATIONS ??= 'accept';
  delete env.DATABASE_URL;
  if (database) env.DATABASE_URL = database.url;
  const started = serverMode === 'csms'
    ? await spawnServer(process.execPath, [...serverNodeArgs, 'bin/csms.mjs', 'serve'], env, /stations \(OCPP\):\s+(ws:\/\/\S+?)\/\{stationId\}/, serverReadyTimeoutMs)
    : await spawnServer(process.execPath, ['--expose-gc', '--import', 'tsx', 'test/bench/ocpp-transport-server.ts'], env, /ocpp-bench-ready (ws:\/\/\S+)/, serverReadyTimeoutMs);
  server = started.server;
  const url = started.match[1]!;
  log(`server (${serverMode}) pid ${server.pid} ready at ${url}`);

  // Does this server speak OCPP at all? `csms serve` answered 501 here until the gateway was wired in.
  const probe = new LeanStation({ url, stationId: `PROBE${process.pid}`, version: 'ocpp2.0.1', handshakeTimeoutMs, ...(flags.password ? { password: flags.password } : {}) }, new PhaseCounters());
  try {
    await probe.connect();
    probe.drop();
  } catch (error) {
    log(`the ${serverMode} server does not accept OCPP connections at ${url}: ${(error as Error).message}`);
    if (serverMode === 'csms') log('is the OCPP gateway wired into `csms serve` yet? measure the gateway alone with --server=transport');
    return 2;
  }

  await sleep(1_000);
  const gcBaseline = await memoryAfterGc();
  const rssBaselineBytes = rssBytesOf(server.pid);
  const count16 = Math.round(stationCount * mix16);
  stations = Array.from({ length: stationCount }, (_, index) => new LeanStation({
    url,
    stationId: `BENCH${String(index).padStart(6, '0')}`,
    version: index < count16 ? 'ocpp1.6' : 'ocpp2.0.1',
    handshakeTimeoutMs,
    ...(flags.password ? { password: flags.password } : {}),
  }, new PhaseCounters()));
  // Interleave versions so neither arrives as one block.
  stations.sort(() => Math.random() - 0.5);

  const sweep = setInterval(() => {
    const now = performance.now();
    for (const station of stations) station.expirePending(now, callTimeoutMs);
  }, sweepIntervalMs);
  const phases: PhaseResult[] = [];
  const runPhase = async (name: string, work: (counters: PhaseCounters) => Promise<number>): Promise<PhaseResult> => {
    const counters = useCounters(new PhaseCounters());
    const from = cpuSnapshot(server!.pid, database?.name ?? null);
    const startMs = performance.now();
    log(`${name}: start`);
    const errors = await work(counters);
    const result = { name, seconds: (performance.now() - startMs) / 1000, counters, cpu: cpuShare(from, cpuSnapshot(server!.pid, database?.name ?? null)), errors };
    log(`${name}: ${result.seconds.toFixed(2)} s, ${counters.answered} answered, ${errors} errors; bottleneck: ${bottleneckOf(result.cpu)}`);
    phases.push(result);
    return result;
  };

  // connect
  const connectErrors = { count: 0, examples: new Map<string, number>() };
  const connect = await runPhase('connect', async () => {
    await inPool(stations, connectConcurrency, performance.now() + phaseTimeoutS * 1000, async (station) => {
      await connectWithRetry(station, connectErrors);
    });
    return connectErrors.count;
  });
  const connected = stations.filter((s) => s.open).length;
  const rssConnectedBytes = rssBytesOf(server.pid);

  // boot
  let bootFailures = 0;
  const boot = await runPhase('boot', async () => {
    await inPool(stations.filter((s) => s.open), connectConcurrency, performance.now() + phaseTimeoutS * 1000, async (station) => {
      if (!(await station.boot())) bootFailures += 1;
    });
    return bootFailures;
  });

  // idle
  await sleep(idleSettleS * 1000);
  const rssIdleBytes = rssBytesOf(server.pid);
  const gcIdle = await memoryAfterGc();
  const idleOpen = stations.filter((s) => s.open).length;

  // load
  const intervalMs = meterIntervalS * 1000;
  let rssPeakBytes = rssIdleBytes;
  let closesBefore = 0;
  for (const station of stations) closesBefore += station.closesSeen;
  const load = await runPhase('load', async () => {
    const startMs = performance.now();
    const endMs = startMs + durationS * 1000;
    const rssTimer = setInterval(() => {
      rssPeakBytes = Math.max(rssPeakBytes, rssBytesOf(server!.pid));
    }, rssSampleIntervalMs);
    await Promise.all(stations.map(async (station) => {
      // Spread the first tick over one interval so the load is even, not a wave per interval.
      let nextMs = startMs + Math.random() * intervalMs;
      while (nextMs < endMs && station.open) {
        const waitMs = nextMs - performance.now();
        if (waitMs > 0) await sleep(waitMs);
        await station.tick(meterIntervalS, meterValuesPerSession);
        // A station behind schedule (slow answers) sends its next message at once: closed loop, one CALL at a time.
        nextMs = Math.max(nextMs + intervalMs, performance.now());
      }
    }));
    clearInterval(rssTimer);
    return 0;
  });
  let closesDuringLoad = -closesBefore;
  for (const station of stations) closesDuringLoad += station.closesSeen;
  const heldAfterLoad = stations.filter((s) => s.open).length;
  const rssAfterLoadBytes = rssBytesOf(server.pid);
  const gcAfterLoad = await memoryAfterGc();
  const loadErrors = load.counters.callErrors + load.counters.timeouts + load.counters.dropped;

  // storm
  let storm: PhaseResult | null = null;
  let stormSettled = 0;
  const stormErrors = { count: 0, examples: new Map<string, number>() };
  if (!flags['skip-storm']) {
    storm = await runPhase('storm', async (counters) => {
      for (const station of stations) station.drop();
      await inPool(stations, connectConcurrency, performance.now() + stormTimeoutS * 1000, async (station) => {
        if (!(await connectWithRetry(station, stormErrors))) return;
        if (await station.boot()) stormSettled += 1;
      });
      return stormErrors.count + counters.callErrors + counters.timeouts + counters.dropped;
    });
  }
  clearInterval(sweep);
  const rssEndBytes = rssBytesOf(server.pid);
  const events = database ? await eventsStored(database.url).catch(() => null) : null;

  // report
  const loadP = load.counters.latency.percentiles();
  const bootP = boot.counters.latency.percentiles();
  const stormP = storm?.counters.latency.percentiles();
  const perConnection = (bytes: number) => (bytes - rssBaselineBytes) / Math.max(1, idleOpen);
  const answeredPerS = load.counters.answered / load.seconds;
  const offeredPerS = stationCount / meterIntervalS;
  // CPU time per message does not depend on how much CPU other processes leave us (much), unlike latency and rate.
  const cpuMicrosPerMessage = (pctOfCore: number) => (pctOfCore / 100) * load.seconds * 1e6 / Math.max(1, load.counters.answered);
  const mark = (ok: boolean) => (ok ? 'met' : 'NOT met');
  const rows: string[][] = [
    ['figure', 'value', 'target'],
    ['server', `${serverMode}${serverMode === 'transport' ? ` (store=${transportStore})` : ''}, LOG_LEVEL=${flags['server-log-level']}`, ''],
    ['stations (1.6 / 2.0.1)', `${fmt.int(stationCount)} (${fmt.int(count16)} / ${fmt.int(stationCount - count16)})`, '10,000'],
    ['connect phase', `${fmt.s(connect.seconds)}, ${fmt.int(connected)} open, ${connectErrors.count} failed attempts`, ''],
    ['boot phase (Boot+Status)', `${fmt.s(boot.seconds)}, ${bootFailures} failed, p99 ${fmt.ms(bootP.p99)}, statuses ${[...boot.counters.bootStatuses].map(([k, v]) => `${k}=${v}`).join(' ')}`, ''],
    ['connections held', `${fmt.int(heldAfterLoad)} of ${fmt.int(stationCount)} after ${durationS} s of load (${closesDuringLoad} unexpected closes)`, `${mark(heldAfterLoad === stationCount)}`],
    ['messages/s answered (load)', `${fmt.int(answeredPerS)} (offered ${fmt.int(offeredPerS)}; ${fmt.int(load.counters.answered)} in ${fmt.s(load.seconds)})`, `>= 5,000: ${mark(answeredPerS >= 5_000)}`],
    ['CALL→CALLRESULT p50 / p95 / p99', `${fmt.ms(loadP.p50)} / ${fmt.ms(loadP.p95)} / ${fmt.ms(loadP.p99)} (max ${fmt.ms(loadP.max)})`, `p99 < 100 ms: ${mark(loadP.p99 < 100)}`],
    ['CPU per answered message (load)', `server ${fmt.int(cpuMicrosPerMessage(load.cpu.serverPct))} µs, Postgres ${fmt.int(cpuMicrosPerMessage(load.cpu.postgresPct))} µs, generator ${fmt.int(cpuMicrosPerMessage(load.cpu.generatorPct))} µs → one free server core ≈ ${fmt.int(1e6 / cpuMicrosPerMessage(load.cpu.serverPct))} msg/s`, ''],
    ['load errors', `${load.counters.callErrors} CALLERROR, ${load.counters.timeouts} timeouts, ${load.counters.dropped} dropped ${[...load.counters.callErrorCodes].map(([k, v]) => `${k}=${v}`).join(' ')}`, `0: ${mark(loadErrors === 0)}`],
    ['server RSS baseline', fmt.mib(rssBaselineBytes), ''],
    ['server RSS per connection (connected, no messages)', fmt.kib((rssConnectedBytes - rssBaselineBytes) / Math.max(1, connected)), ''],
    ['server RSS per idle connection (after Boot+Status)', `${fmt.kib(perConnection(rssIdleBytes))} (${fmt.mib(rssIdleBytes)} total, ${fmt.int(idleOpen)} stations)`, `<= 20 KB: ${mark(perConnection(rssIdleBytes) <= 20_000)}`],
    ['server RSS per station after load / peak', `${fmt.kib(perConnection(rssAfterLoadBytes))} / ${fmt.kib(perConnection(rssPeakBytes))} (${fmt.mib(rssAfterLoadBytes)} / ${fmt.mib(rssPeakBytes)})`, ''],
  ];
  if (gcBaseline && gcIdle && gcAfterLoad) {
    const perStation = (bytes: number, base: number) => fmt.kib((bytes - base) / Math.max(1, idleOpen));
    rows.push(['after full GC, per station: idle / after load', `RSS ${perStation(gcIdle.rssBytes, gcBaseline.rssBytes)} / ${perStation(gcAfterLoad.rssBytes, gcBaseline.rssBytes)}; V8 heap ${perStation(gcIdle.heapUsedBytes, gcBaseline.heapUsedBytes)} / ${perStation(gcAfterLoad.heapUsedBytes, gcBaseline.heapUsedBytes)}`, '']);
  }
  if (storm && stormP) {
    const stormOk = stormSettled === stationCount && storm.errors === 0 && storm.seconds <= 15;
    rows.push(
      ['reconnect storm (all drop, reconnect, Boot+Status)', `${fmt.s(storm.seconds)}, ${fmt.int(stormSettled)} of ${fmt.int(stationCount)} settled, ${storm.errors} errors, p99 ${fmt.ms(stormP.p99)}`, `<= 15 s, 0 errors: ${mark(stormOk)}`],
    );
  }
  rows.push(['server RSS at end', fmt.mib(rssEndBytes), '']);
  rows.push(['events in the store', events === null ? '-' : fmt.int(events), '']);
  rows.push(['generator RSS', fmt.mib(process.memoryUsage().rss), '']);
  const cpuRows: string[][] = [['phase', 'seconds', 'server CPU', 'Postgres CPU', 'generator CPU', 'others CPU', 'machine', 'bottleneck']];
  for (const phase of phases) {
    cpuRows.push([phase.name, phase.seconds.toFixed(2), fmt.pct(phase.cpu.serverPct), fmt.pct(phase.cpu.postgresPct), fmt.pct(phase.cpu.generatorPct), fmt.pct(phase.cpu.othersPct), fmt.pct(phase.cpu.machinePct), bottleneckOf(phase.cpu)]);
  }
  process.stdout.write(`\nOCPP gateway benchmark — ${stationCount} stations, mix ${mix16} 1.6, meter interval ${meterIntervalS} s, ${meterValuesPerSession} meter values per session, duration ${durationS} s\n\n`);
  process.stdout.write(`${formatTable(rows)}\n\nCPU (% of one core; Postgres = our database's backends + shared auxiliaries; others = every other process on the machine; machine = % of all ${cpus().length} cores)\n${formatTable(cpuRows)}\n`);
  const examples = [...connectErrors.examples, ...stormErrors.examples];
  if (examples.length > 0) process.stdout.write(`\nconnect failures: ${examples.map(([k, v]) => `${v}× ${k}`).join('; ')}\n`);
  const csmsCalls = stations.reduce((sum, s) => sum + s.csmsCallsReceived, 0);
  if (csmsCalls > 0) process.stdout.write(`CSMS→station calls received (answered NotImplemented): ${csmsCalls}\n`);
  return 0;
}

let exitCode = 1;
try {
  exitCode = await main();
} catch (error) {
  log(`failed: ${(error as Error).stack ?? String(error)}`);
  // Assigned inside main(): TypeScript's narrowing still sees the initial null here.
  const running = server as ServerProcess | null;
  if (running) log(`server output (last lines):\n${running.tail.join('\n')}`);
} finally {
  await cleanup();
  clearTimeout(runDeadline);
}
process.exit(exitCode);
