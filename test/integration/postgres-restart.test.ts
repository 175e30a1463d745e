import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../adapters/clock/clock.js';
import { unexpectedErrorCount } from '../../adapters/observability/unexpected-errors.js';
import { openPostgresEventStore, type PostgresEventStore } from '../../adapters/event-store/postgres.js';
import type { SqlDatabase } from '../../adapters/sql/port.js';
import { openPostgres } from '../../adapters/sql/postgres.js';
import { buildServer } from '../../api/server.js';
import { runShutdown, serveShutdownSteps } from '../../api/shutdown.js';
import { createCommandBus, type CommandBus } from '../../commands/index.js';
import { startCdrIssuer } from '../../commands/process/index.js';
import { ocpiSettingsDefault } from '../../ocpi/plugin.js';
import { startOcpiPush } from '../../ocpi/push/index.js';
import { migrateProjections, startProjectionRunners } from '../../projections/index.js';
import { sessionsProjection } from '../../projections/sessions.js';
import { stationsProjection } from '../../projections/stations.js';
import { eventually } from '../support/eventually.js';
import { requirePrivatePostgres, startPrivatePostgres, type PrivatePostgres } from '../support/private-postgres.js';
import { createTestPostgresDatabase, requirePostgres } from '../support/services.js';
import { StationSimulator } from '../support/station-simulator.js';

/**
 * Issue 9, point 2: PostgreSQL going away (restart, crash, pg_terminate_backend) must not end the
 * process. Calls in flight get an OCPP InternalError, new calls succeed as soon as it is back,
 * projections resume from their checkpoints. The server is composed as `csms serve` composes it,
 * on a cluster of the test's own (the shared server must never be restarted).
 */

/** Projections retry with a doubling delay from 200 ms; a restart costs them a few seconds at most. */
const resumeTimeoutMs = 15_000;
/**
 * A call cut off by the crash is answered at once; this bound is only for reaching the lock wait
 * and the answer on a loaded machine (10 s was once too short in a full run). It stays below the
 * gateway's 30 s handler timeout, so an answer within it is the crash's InternalError, not the timeout's.
 */
const inFlightAnswerMs = 25_000;
const appName = 'csms-restart-test';
const owner = 'restart-test';

/** Errors that reached the process: each one would have ended `csms serve` before this fix. */
const escaped: unknown[] = [];
const onEscaped = (error: unknown) => escaped.push(error);

function installEscapeListeners(): void {
  process.on('unhandledRejection', onEscaped);
  process.on('uncaughtException', onEscaped);
}
function removeEscapeListeners(): void {
  process.removeListener('unhandledRejection', onEscaped);
  process.removeListener('uncaughtException', onEscaped);
}

const at = (offsetS: number) => new Date(Date.now() + offsetS * 1000).toISOString();

const privateAvailable = requirePrivatePostgres();

describe.skipIf(!privateAvailable)('a PostgreSQL restart under a running server', () => {
  let cluster: PrivatePostgres;
  let db: SqlDatabase;
  let eventStore: PostgresEventStore;
  let bus: CommandBus;
  let server: Awaited<ReturnType<typeof buildServer>>;
  let stopWorkers: () => Promise<void>;
  let station: StationSimulator;
  const logged: string[] = [];

  beforeAll(async () => {
    installEscapeListeners();
    cluster = await startPrivatePostgres('restart');
    db = openPostgres({ connectionString: cluster.url, poolSize: 8, applicationName: appName, log: (line) => logged.push(line) });
    eventStore = await openPostgresEventStore(db);
    const log = (line: string) => logged.push(line);
    await migrateProjections({ db, eventStore });
    bus = createCommandBus({ eventStore, clock: systemClock });
    const runners = startProjectionRunners({ db, eventStore, log }, { owner, projections: [stationsProjection, sessionsProjection] });
    const cdrIssuer = startCdrIssuer({ eventStore, bus, db, log }, { owner });
    const ocpiPush = startOcpiPush({ eventStore, db, tenantId: 'default', settings: ocpiSettingsDefault, clock: systemClock, log }, { owner });
    stopWorkers = async () => {
      await Promise.all([runners.stop(), cdrIssuer.stop(), ocpiPush.stop()]);
    };
    server = await buildServer({
      db,
      eventStore,
      bus,
      logLevel: 'silent',
      ocpp: { unknownStations: 'accept', unknownTokens: 'accept', heartbeatIntervalSeconds: 300, pingIntervalSeconds: 60, allowUnsecured: true },
    });
    const url = await server.listen({ host: '127.0.0.1', port: 0 });
    station = await StationSimulator.connect({ url: `${url.replace('http', 'ws')}/ocpp`, stationId: 'CP-R', protocols: ['ocpp1.6'] });
    expect(await station.call('BootNotification', { chargePointVendor: 'ACME', chargePointModel: 'Restart' })).toMatchObject({ status: 'Accepted' });
    await connectorStatusIs('Available', at(0));
  }, 120_000);

  afterAll(async () => {
    await station?.close().catch(() => {});
    // The same sequence as `csms serve` (api/shutdown.ts).
    if (server) {
      await runShutdown(
        serveShutdownSteps({ server, bus, stopWorkers, closeEventStore: () => eventStore.close(), closeDatabase: () => db.close() }),
        (line) => logged.push(line),
      );
    }
    await cluster?.remove();
    removeEscapeListeners();
  });

  afterEach(() => {
    // Nothing may reach the process: `csms serve` would have died here (issue 9: "twice out of twice").
    expect(escaped.splice(0)).toEqual([]);
  });

  /** Reports connector 1's status and waits until the read model shows it (projections running). */
  async function connectorStatusIs(status: string, timestamp: string): Promise<void> {
    expect(await station.call('StatusNotification', { connectorId: 1, errorCode: 'NoError', status, timestamp })).toEqual({});
    await eventually(
      async () => {
        const { rows } = await db.query<{ status: string }>(`SELECT status FROM proj_stations.connectors WHERE station_id = 'CP-R' AND connector_id = 1`);
        return rows[0]?.status === status ? true : undefined;
      },
      resumeTimeoutMs,
      `connector status ${status} in the read model`,
    );
  }

  it('idle: PostgreSQL crashes and comes back; the next call succeeds and projections resume', async () => {
    await cluster.stop('immediate');
    await cluster.start();
    // The very first call after the restart: stored, answered, and shown by the runner.
    await connectorStatusIs('Unavailable', at(1));
    const stored = await eventStore.readStream('station-default-CP-R', { maxCount: 1_000 });
    expect(stored.filter((event) => event.type === 'ConnectorStatusChanged').map((event) => event.data.status)).toContain('Unavailable');
    // A restart is expected, not a fault: the last line of defence counted nothing.
    expect(await unexpectedErrorCount('projection-runner:stations')).toBe(0);
    expect(await unexpectedErrorCount('cdr-issuer')).toBe(0);
  });

  // A failed attempt prints what the server was doing and settles its call. (It once flaked in 2 of
  // 4 full runs: the wait was looked for by query text, which pg_stat_activity had not updated.)
  it('a call in flight gets InternalError (not a hang); after the restart a new session is recorded and projected', async () => {
    // Hold the 1.6 transaction id table so that StartTransaction waits inside PostgreSQL.
    const blocker = new pg.Client({ connectionString: cluster.url });
    blocker.on('error', () => {}); // it dies with the server, on purpose
    await blocker.connect();
    await blocker.query('BEGIN');
    await blocker.query('LOCK TABLE ocpp16_transaction_ids IN ACCESS EXCLUSIVE MODE');
    const start = { connectorId: 1, idTag: 'TAG-R', meterStart: 100, timestamp: at(2) };
    // Settled here, so a failed attempt leaves no rejection to escape into the next one.
    const inFlight = station.send('StartTransaction', start, { timeoutMs: inFlightAnswerMs }).catch((error: unknown) => ({ type: 'no answer', error }));
    try {
      await eventually(
        async () => {
          // pg_locks, not pg_stat_activity's query text: a statement that waits for its lock while
          // being bound (a reused prepared statement) still shows the connection's previous query
          // there, which is why this wait went unseen in 2 of 4 full runs.
          const { rows } = await blocker.query<{ waiting: number }>(
            `SELECT count(*)::int AS waiting FROM pg_locks WHERE relation = 'ocpp16_transaction_ids'::regclass AND NOT granted AND pid <> pg_backend_pid()`,
          );
          return rows[0]!.waiting > 0 ? true : undefined;
        },
        inFlightAnswerMs,
        'StartTransaction waiting inside PostgreSQL',
      );
    } catch (error) {
      const { rows } = await blocker.query(
        `SELECT application_name, state, wait_event_type, wait_event, left(query, 120) AS query, now() - query_start AS running
           FROM pg_stat_activity WHERE datname = current_database()`,
      );
      console.warn(`restart test: server connections ${JSON.stringify(rows)}\nlast log lines:\n${logged.slice(-30).join('\n')}`);
      await blocker.end().catch(() => {});
      await inFlight;
      throw error;
    }
    await cluster.stop('immediate');
    const answer = await inFlight;
    expect(answer).toMatchObject({ type: 'error', code: 'InternalError' });
    await blocker.end().catch(() => {});

    await cluster.start();
    // The station retries (OCPP-J: a CALL without answer may be sent again); now it is recorded.
    const started = (await station.call('StartTransaction', start)) as { transactionId: number; idTagInfo: { status: string } };
    expect(started.idTagInfo.status).toBe('Accepted');
    await eventually(
      async () => {
        const { rows } = await db.query<{ status: string }>(`SELECT status FROM proj_sessions.transactions WHERE station_id = 'CP-R' AND station_transaction_id = $1`, [String(started.transactionId)]);
        return rows[0]?.status === 'active' ? true : undefined;
      },
      resumeTimeoutMs,
      'the session in the read model after the restart',
    );
    await connectorStatusIs('Charging', at(3));
  });
});

const sharedAvailable = await requirePostgres();

describe.skipIf(!sharedAvailable)('pg_terminate_backend of every connection (shared server, own database)', () => {
  let database: Awaited<ReturnType<typeof createTestPostgresDatabase>>;
  let admin: pg.Client;
  let db: SqlDatabase;

  beforeAll(async () => {
    installEscapeListeners();
    database = await createTestPostgresDatabase('terminate');
    db = database.open(4);
    admin = new pg.Client({ connectionString: database.url });
    admin.on('error', () => {});
    await admin.connect();
  });
  afterAll(async () => {
    await admin?.end().catch(() => {});
    await database?.drop();
    removeEscapeListeners();
  });
  afterEach(() => {
    expect(escaped.splice(0)).toEqual([]);
  });

  const terminateOthers = () =>
    admin.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()`);

  it('a transaction whose connection is killed between two statements fails alone; the process lives and the pool recovers', async () => {
    let inside!: () => void;
    const reachedInside = new Promise<void>((resolve) => (inside = resolve));
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const transaction = db.transaction(async (tx) => {
      await tx.query('SELECT 1');
      inside();
      await released; // the checked-out client idles here, in our code, when its server goes
    });
    transaction.catch(() => {});
    await reachedInside;
    await terminateOthers();
    // The 'error' event reaches the checked-out client before the next statement.
    await eventually(async () => ((await admin.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()`)).rows[0].n === 0 ? true : undefined), 5_000, 'every other backend gone');
    await new Promise((resolve) => setImmediate(resolve));
    release();
    await expect(transaction).rejects.toThrow();
    expect(await db.query<{ one: number }>('SELECT 1 AS one')).toMatchObject({ rows: [{ one: 1 }] });
    expect(await db.transaction((tx) => tx.query<{ two: number }>('SELECT 2 AS two'))).toMatchObject({ rows: [{ two: 2 }] });
  });

  it("the event store's LISTEN connection is reopened after it is killed, and appends go on", async () => {
    const store = await openPostgresEventStore(db);
    const subscription = store.subscribe();
    const iterator = subscription[Symbol.asyncIterator]();
    try {
      const listener = async () =>
        (await admin.query<{ pid: number }>(`SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN %'`)).rows.map((row) => row.pid);
      const append = (id: string) => store.append(`probe-${id}`, [{ eventId: crypto.randomUUID(), type: 'Probe', schemaVersion: 1, data: {}, metadata: { tenantId: 'default', correlationId: id, causationId: id, actor: 'test', occurredAt: new Date().toISOString(), recordedAt: new Date().toISOString() } }], 'no_stream');
      await append('a');
      expect((await iterator.next()).value).toMatchObject({ streamId: 'probe-a' });
      const [before] = await eventually(async () => ((await listener()).length === 1 ? await listener() : undefined), 5_000, 'LISTEN connection open');
      await terminateOthers();
      await eventually(async () => {
        const pids = await listener();
        return pids.length === 1 && pids[0] !== before ? true : undefined;
      }, 5_000, 'LISTEN connection reopened (a new backend)');
      await append('b');
      expect((await iterator.next()).value).toMatchObject({ streamId: 'probe-b' });
    } finally {
      await subscription.close();
      await store.close();
    }
  });
});
