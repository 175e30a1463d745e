import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { eventStoreSchemaDefault } from '../../adapters/event-store/postgres.js';

/**
 * Runs the real CLI (`node bin/csms.mjs ...`) as a child process, as an operator would, with a
 * clean environment: only the variables a test passes reach it, never the developer's own.
 */

export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
export const csmsBin = path.join(repoRoot, 'bin', 'csms.mjs');
/** A CLI command in a test must finish within this (tsx start-up is ~1 s; rebuilds take longer). */
export const cliTimeoutMsDefault = 60_000;

/** Variables the CLI reads: removed from the inherited environment so the host's settings never leak in. */
// Every variable api/config.ts reads: a developer's own settings must not leak into tests.
const configVariables = [
  'DATABASE_URL', 'DATA_DIR', 'EVENTSTORE_URL', 'REDIS_URL', 'INFLUX_URL', 'HOST', 'PORT', 'LOG_LEVEL', 'TENANT_ID', 'NODE_ID',
  'OCPP_UNKNOWN_STATIONS', 'OCPP_UNKNOWN_TOKENS', 'OCPP_HEARTBEAT_INTERVAL_S', 'OCPP_PING_INTERVAL_S', 'OCPP_ALLOW_UNSECURED',
  'TLS_CERT_FILE', 'TLS_KEY_FILE', 'TLS_CA_FILE', 'ADMIN_API_TOKEN', 'CSMS_SERVER_URL',
  'OCPI_PUBLIC_URL', 'OCPI_SECRET', 'OCPI_COUNTRY_CODE', 'OCPI_PARTY_ID', 'OCPI_BUSINESS_NAME',
];

function childEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  const base = { ...process.env };
  for (const name of configVariables) delete base[name];
  // vitest may add loader flags meant for its own workers.
  delete base.NODE_OPTIONS;
  return { ...base, ...env };
}

export interface CliResult {
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface CliOptions {
  readonly env?: Record<string, string>;
  readonly cwd?: string;
  readonly timeoutMs?: number;
}

export function spawnCli(args: readonly string[], options: CliOptions = {}): ChildProcess {
  return spawn(process.execPath, [csmsBin, ...args], {
    cwd: options.cwd ?? repoRoot,
    env: childEnv(options.env ?? {}),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Runs a command to completion; kills it (and fails) when it outlives the timeout. */
export function runCli(args: readonly string[], options: CliOptions = {}): Promise<CliResult> {
  const timeoutMs = options.timeoutMs ?? cliTimeoutMsDefault;
  return new Promise((resolve, reject) => {
    const child = spawnCli(args, options);
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`csms ${args.join(' ')} did not finish within ${timeoutMs} ms\nstdout:\n${stdout}\nstderr:\n${stderr}`));
    }, timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (exitCode, signal) => {
      clearTimeout(timer);
      resolve({ exitCode, signal, stdout, stderr });
    });
  });
}

/** Resolves with the first match of `pattern` in the child's stdout, or rejects on exit or timeout. */
export function waitForOutput(child: ChildProcess, pattern: RegExp, timeoutMs: number): Promise<RegExpMatchArray> {
  return new Promise((resolve, reject) => {
    let seen = '';
    let errors = '';
    const onErr = (chunk: Buffer) => (errors += chunk.toString());
    const onData = (chunk: Buffer) => {
      seen += chunk.toString();
      const match = seen.match(pattern);
      if (match) {
        cleanup();
        resolve(match);
      }
    };
    const onExit = (code: number | null) => {
      cleanup();
      reject(new Error(`process exited (${code}) before printing ${pattern}\nstdout:\n${seen}\nstderr:\n${errors}`));
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`no ${pattern} within ${timeoutMs} ms\nstdout:\n${seen}\nstderr:\n${errors}`));
    }, timeoutMs);
    function cleanup() {
      clearTimeout(timer);
      child.stdout!.off('data', onData);
      child.stderr!.off('data', onErr);
      child.off('exit', onExit);
    }
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onErr);
    child.on('exit', onExit);
  });
}

/** Resolves with the exit code once the child has exited, or rejects after `timeoutMs`. */
export function waitForExit(child: ChildProcess, timeoutMs: number): Promise<{ exitCode: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve({ exitCode: child.exitCode, signal: child.signalCode });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`process did not exit within ${timeoutMs} ms`)), timeoutMs);
    child.once('exit', (exitCode, signal) => {
      clearTimeout(timer);
      resolve({ exitCode, signal });
    });
  });
}

/** A temporary data folder for the embedded database; `remove()` deletes it. */
export async function tempDataDir(label: string): Promise<{ dir: string; remove(): Promise<void> }> {
  const dir = await mkdtemp(path.join(tmpdir(), `csms-${label}-`));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

// ---------------------------------------------------------------------------------------------
// A realistic event history, produced the way the system produces it: through the command bus.

/** Stations whose histories are generated at once; each station's own commands stay in order. */
export const historyStationsConcurrent = 8;
/** Readings per charging session: 1-minute samples of a ~15 minute session. */
const readingsPerSession = 15;
/** Sessions per station, so the history spreads over many stations as a real one does. */
const sessionsPerStationMax = 8;

type Bus = import('../../commands/index.js').CommandBus;

/**
 * Appends at least `eventsMin` events as stations would cause them: registration, boot, connector
 * statuses, then charging sessions (start, meter readings, end). Returns how many were appended.
 */
export async function generateChargingHistory(
  eventStore: import('../../adapters/event-store/port.js').EventStore,
  eventsMin: number,
  tenantId = 'default',
): Promise<{ events: number; stations: number }> {
  const { createCommandBus } = await import('../../commands/index.js');
  const { fixedClock } = await import('../../adapters/clock/clock.js');
  const { Decimal } = await import('decimal.js');
  const clock = fixedClock('2025-03-01T08:00:00.000Z');
  const bus: Bus = createCommandBus({ eventStore, clock });
  let events = 0;
  let stations = 0;

  const send = async (stationId: string, aggregateId: string, n: number, occurredAt: string, command: Parameters<Bus['send']>[0]['command']) => {
    const result = await bus.send({
      commandId: `${stationId}-${n}`,
      tenantId,
      aggregateId,
      actor: `station:${stationId}`,
      correlationId: `msg-${stationId}-${n}`,
      occurredAt,
      command,
    });
    events += result.duplicate ? 0 : result.events.length;
  };

  async function stationHistory(index: number): Promise<void> {
    const stationId = `CP-${String(index).padStart(4, '0')}`;
    const at = (minutes: number) => new Date(Date.parse('2025-03-01T08:00:00Z') + (index * 7 + minutes) * 60_000).toISOString();
    let n = 0;
    let minute = 0;
    await send(stationId, stationId, n++, at(minute), { type: 'RegisterStation', stationId, securityProfile: 1, passwordHash: 'sha256:0f1e' });
    await send(stationId, stationId, n++, at(minute), {
      type: 'RecordBoot', vendor: 'Alfen', model: 'Eve Single', serialNumber: `SN${index}`, firmwareVersion: '6.4.0',
      ocppVersion: '1.6', bootReason: 'PowerUp', bootedAt: at(minute), registrationPolicy: { unknownStation: 'Rejected' },
    });
    await send(stationId, stationId, n++, at(minute), { type: 'RecordStatus', evseId: 1, connectorId: 1, status: 'Available', statusAt: at(minute) });
    let registerWh = new Decimal(index * 1000);
    for (let session = 0; session < sessionsPerStationMax && events < eventsMin; session++) {
      const transactionId = `${stationId}-T${session}`;
      minute += 5;
      await send(stationId, stationId, n++, at(minute), { type: 'RecordStatus', evseId: 1, connectorId: 1, status: 'Charging', statusAt: at(minute) });
      await send(stationId, transactionId, n++, at(minute), {
        type: 'StartTransaction', transactionId, stationTransactionId: String(session), stationId, evseId: 1, connectorId: 1,
        idToken: { idToken: `04A2${index}B${session % 7}`, type: 'ISO14443' }, meterStartWh: registerWh, startedAt: at(minute),
      });
      for (let reading = 0; reading < readingsPerSession; reading++) {
        minute += 1;
        registerWh = registerWh.plus(183.5);
        await send(stationId, transactionId, n++, at(minute), {
          type: 'RecordMeterReading', sampledAt: at(minute), registerWh,
          sampledValues: [
            { value: '11010', measurand: 'Power.Active.Import', phase: null, unit: 'W', multiplier: null, context: 'Sample.Periodic', location: 'Outlet' },
          ],
        });
      }
      minute += 1;
      await send(stationId, transactionId, n++, at(minute), { type: 'EndTransaction', meterStopWh: registerWh, endedAt: at(minute), reason: 'EVDisconnected' });
      await send(stationId, stationId, n++, at(minute), { type: 'RecordStatus', evseId: 1, connectorId: 1, status: 'Available', statusAt: at(minute) });
    }
  }

  // Start stations in waves until enough events exist; each wave's sessions interleave in $all.
  let next = 0;
  while (events < eventsMin) {
    const wave = Array.from({ length: historyStationsConcurrent }, () => stationHistory(next++));
    stations += wave.length;
    await Promise.all(wave);
  }
  return { events, stations };
}


/**
 * Alters one stored event's data behind the store's back, as someone with database access could:
 * the immutability trigger is switched off first (a table owner can), which is exactly why the
 * hash chain exists. Returns the altered event's id.
 */
export async function tamperWithEvent(
  db: import('../../adapters/sql/port.js').SqlDatabase,
  streamId: string,
  revision: number,
  schema = eventStoreSchemaDefault,
): Promise<string> {
  return db.transaction(async (tx) => {
    await tx.exec(`ALTER TABLE "${schema}".events DISABLE TRIGGER events_no_update_or_delete`);
    const { rows } = await tx.query<{ event_id: string }>(
      `UPDATE "${schema}".events SET data = data || '{"tampered": true}'::jsonb
        WHERE stream_id = $1 AND revision = $2 RETURNING event_id::text`,
      [streamId, revision],
    );
    await tx.exec(`ALTER TABLE "${schema}".events ENABLE TRIGGER events_no_update_or_delete`);
    if (rows.length !== 1) throw new Error(`no event ${streamId}@${revision} to tamper with`);
    return rows[0]!.event_id;
  });
}
