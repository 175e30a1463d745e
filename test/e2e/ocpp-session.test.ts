import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SqlDatabase } from '../../adapters/sql/port.js';
import { spawnCli, waitForExit, waitForOutput } from '../support/cli.js';
import { runCliInProcess, tempDataDirInitialized } from '../support/cli-in-process.js';
import { createTestPostgresDatabase, requirePostgres } from '../support/services.js';
import { HandshakeRefusedError, StationSimulator } from '../support/station-simulator.js';
import { eventually } from '../support/eventually.js';

/**
 * What an operator and a station do on a fresh install: register a station and a token with the
 * CLI, start the server as `npm start` does, and let a simulated station charge a car over OCPP
 * 1.6 and 2.0.1. The read models then show the station, the session with its energy, the token.
 * The server is a real process (`csms serve`); the CLI commands run in this process
 * (runCliInProcess): what they print and do is tested here, not their process boundary.
 */

/** tsx start-up, migrations, transaction id table. */
const startTimeoutMs = 45_000;
const stopTimeoutMs = 10_000;
/** Projections follow the event store within ~100 ms; allow for a loaded CI machine. */
const readModelTimeoutMs = 10_000;
/** OCPP_PING_INTERVAL_S for these tests: a dead peer is cut off after two of them. */
const pingIntervalSeconds = 1;

const password16 = 'sixteen-chars-pw-16';
const password201 = 'another-password-201';


async function startServer(env: Record<string, string>): Promise<{ server: ChildProcess; port: number; ocppUrl: string; httpUrl: string }> {
  const server = spawnCli(['serve'], {
    env: { HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'warn', OCPP_PING_INTERVAL_S: String(pingIntervalSeconds), ...env },
  });
  const [, ocppUrl, port] = await waitForOutput(server, /stations \(OCPP\):\s+(ws:\/\/127\.0\.0\.1:(\d+)\/ocpp)\/\{stationId\}[\s\S]*event store:[^\n]*\n/, startTimeoutMs);
  return { server, port: Number(port), ocppUrl: ocppUrl!, httpUrl: `http://127.0.0.1:${port}` };
}

async function stopServer(server: ChildProcess | undefined): Promise<void> {
  if (!server || server.exitCode !== null) return;
  server.kill('SIGTERM');
  await waitForExit(server, stopTimeoutMs).catch(() => server.kill('SIGKILL'));
}

const getConfigurationAnswer = { configurationKey: [{ key: 'HeartbeatInterval', readonly: false, value: '300' }], unknownKey: [] };

const available = await requirePostgres();

describe.skipIf(!available)('OCPP sessions end to end (PostgreSQL)', () => {
  let database: Awaited<ReturnType<typeof createTestPostgresDatabase>>;
  let db: SqlDatabase;
  let env: Record<string, string>;
  let running: Awaited<ReturnType<typeof startServer>>;

  beforeAll(async () => {
    database = await createTestPostgresDatabase('ocpp_e2e');
    db = database.open(2);
    env = { DATABASE_URL: database.url };
    // Before the server starts, as an operator preparing a site would.
    for (const [id, password] of [['CP-16', password16], ['CP-201', password201]] as const) {
      const registered = await runCliInProcess(['stations', 'register', id, '--password', password], { env });
      expect(registered.exitCode, registered.stderr).toBe(0);
      expect(registered.stdout).toContain(`station ${id} registered with security profile 1`);
    }
    for (const uid of ['TAG-16', 'TAG-201']) {
      const added = await runCliInProcess(['tokens', 'add', uid, '--type', 'ISO14443'], { env });
      expect(added.exitCode, added.stderr).toBe(0);
    }
    running = await startServer({ ...env, OCPP_UNKNOWN_STATIONS: 'reject' });
  }, 120_000);

  afterAll(async () => {
    await stopServer(running?.server);
    await database?.drop();
  });

  const stationRow = async (stationId: string) =>
    (await db.query<{ online: boolean; vendor: string; model: string; firmware_version: string; boot_status: string; connection_id: string }>(
      'SELECT online, vendor, model, firmware_version, boot_status, connection_id FROM proj_stations.stations WHERE station_id = $1',
      [stationId],
    )).rows[0];

  it('refuses a missing or wrong password and an unknown station (HTTP 401)', async () => {
    const connect = (stationId: string, password?: string) =>
      StationSimulator.connect({ url: running.ocppUrl, stationId, protocols: ['ocpp1.6'], ...(password === undefined ? {} : { password }) });
    await expect(connect('CP-16')).rejects.toBeInstanceOf(HandshakeRefusedError);
    await expect(connect('CP-16', 'wrong-password-xxxxxx')).rejects.toMatchObject({ status: 401 });
    await expect(connect('CP-UNKNOWN', password16)).rejects.toMatchObject({ status: 401 });
  });

  it('a full OCPP 1.6 session; then `csms station call` reaches the station', async () => {
    const station = await StationSimulator.connect({
      url: running.ocppUrl,
      stationId: 'CP-16',
      protocols: ['ocpp1.6'],
      password: password16,
      handlers: { GetConfiguration: () => getConfigurationAnswer },
    });
    try {
      const boot = (await station.call('BootNotification', { chargePointVendor: 'ACME', chargePointModel: 'Wallbox-16', firmwareVersion: '1.6.3' })) as { status: string; interval: number };
      expect(boot).toMatchObject({ status: 'Accepted', interval: 300 });
      const at = (minute: number) => new Date(Date.now() - (30 - minute) * 60_000).toISOString();
      // Connector 0 is the charge point itself (1.6 §4.9): its status is the station's in `stations list`.
      await station.call('StatusNotification', { connectorId: 0, errorCode: 'NoError', status: 'Available', timestamp: at(0) });
      await station.call('StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Available', timestamp: at(0) });
      expect(await station.call('Authorize', { idTag: 'TAG-16' })).toMatchObject({ idTagInfo: { status: 'Accepted' } });
      expect(await station.call('Authorize', { idTag: 'NOBODY' })).toMatchObject({ idTagInfo: { status: 'Invalid' } });
      await station.call('StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Charging', timestamp: at(1) });
      const start = (await station.call('StartTransaction', { connectorId: 1, idTag: 'TAG-16', meterStart: 1000, timestamp: at(1) })) as {
        transactionId: number;
        idTagInfo: { status: string };
      };
      expect(start.idTagInfo.status).toBe('Accepted');
      expect(Number.isInteger(start.transactionId)).toBe(true);
      await station.call('MeterValues', {
        connectorId: 1,
        transactionId: start.transactionId,
        meterValue: [{ timestamp: at(10), sampledValue: [{ value: '2500', measurand: 'Energy.Active.Import.Register', unit: 'Wh' }] }],
      });
      expect(
        await station.call('StopTransaction', { transactionId: start.transactionId, idTag: 'TAG-16', meterStop: 4000, timestamp: at(20), reason: 'Local' }),
      ).toMatchObject({ idTagInfo: { status: 'Accepted' } });
      await station.call('StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Available', timestamp: at(21) });

      const call = await runCliInProcess(['station', 'call', 'CP-16', 'GetConfiguration', '--payload', '{}', '--server', running.httpUrl], { env });
      expect(call.exitCode, call.stderr).toBe(0);
      expect(JSON.parse(call.stdout)).toEqual(getConfigurationAnswer);
      expect(station.callsReceived.map((received) => received.action)).toEqual(['GetConfiguration']);

      const row = await eventually(async () => {
        const found = await stationRow('CP-16');
        return found?.online && found.boot_status === 'Accepted' ? found : undefined;
      }, readModelTimeoutMs, 'CP-16 online in the read model');
      expect(row).toMatchObject({ vendor: 'ACME', model: 'Wallbox-16', firmware_version: '1.6.3' });
      const session = await eventually(async () => {
        const { rows } = await db.query<{ status: string; energy_wh: string; id_token: string; station_transaction_id: string }>(
          "SELECT status, energy_wh, id_token, station_transaction_id FROM proj_sessions.transactions WHERE station_id = 'CP-16'",
        );
        return rows[0]?.status === 'ended' ? rows[0] : undefined;
      }, readModelTimeoutMs, 'the 1.6 session ended in the read model');
      expect(session).toMatchObject({ id_token: 'TAG-16', station_transaction_id: String(start.transactionId) });
      expect(Number(session.energy_wh)).toBe(3000);

      const list = await runCliInProcess(['stations', 'list'], { env });
      expect(list.exitCode, list.stderr).toBe(0);
      expect(list.stdout).toMatch(/^ID\s+REGISTERED\s+ONLINE\s+VENDOR\/MODEL\s+FIRMWARE/);
      expect(list.stdout).toMatch(/CP-16\s+profile 1\s+yes\s+ACME\/Wallbox-16\s+1\.6\.3\s+1\.6\s+Accepted\s+Available/);
    } finally {
      await station.close();
    }
    // A clean close marks it offline.
    await eventually(async () => (await stationRow('CP-16'))?.online === false, readModelTimeoutMs, 'CP-16 offline after close');
  }, 60_000);

  it('a full OCPP 2.0.1 session', async () => {
    const station = await StationSimulator.connect({ url: running.ocppUrl, stationId: 'CP-201', protocols: ['ocpp2.0.1'], password: password201 });
    try {
      expect(station.protocol).toBe('ocpp2.0.1');
      const boot = await station.call('BootNotification', {
        chargingStation: { vendorName: 'ACME', model: 'Fast-201', firmwareVersion: '2.0.1-b7' },
        reason: 'PowerUp',
      });
      expect(boot).toMatchObject({ status: 'Accepted' });
      const at = (minute: number) => new Date(Date.now() - (30 - minute) * 60_000).toISOString();
      await station.call('StatusNotification', { timestamp: at(0), connectorStatus: 'Available', evseId: 1, connectorId: 1 });
      const tag = { idToken: 'TAG-201', type: 'ISO14443' };
      expect(await station.call('Authorize', { idToken: tag })).toMatchObject({ idTokenInfo: { status: 'Accepted' } });
      const register = (minute: number, kWh: number, context: string) => [
        { timestamp: at(minute), sampledValue: [{ value: kWh, context, measurand: 'Energy.Active.Import.Register', unitOfMeasure: { unit: 'kWh' } }] },
      ];
      const transactionInfo = { transactionId: 'TX-201-1' };
      const started = await station.call('TransactionEvent', {
        eventType: 'Started', timestamp: at(1), triggerReason: 'Authorized', seqNo: 0, transactionInfo,
        idToken: tag, evse: { id: 1, connectorId: 1 }, meterValue: register(1, 10, 'Transaction.Begin'),
      });
      expect(started).toMatchObject({ idTokenInfo: { status: 'Accepted' } });
      await station.call('TransactionEvent', {
        eventType: 'Updated', timestamp: at(10), triggerReason: 'MeterValuePeriodic', seqNo: 1,
        transactionInfo: { ...transactionInfo, chargingState: 'Charging' }, meterValue: register(10, 12.5, 'Sample.Periodic'),
      });
      await station.call('TransactionEvent', {
        eventType: 'Ended', timestamp: at(20), triggerReason: 'StopAuthorized', seqNo: 2,
        transactionInfo: { ...transactionInfo, stoppedReason: 'Local' }, meterValue: register(20, 15, 'Transaction.End'),
      });

      await eventually(async () => (await stationRow('CP-201'))?.online, readModelTimeoutMs, 'CP-201 online');
      const session = await eventually(async () => {
        const { rows } = await db.query<{ status: string; energy_wh: string; id_token: string }>(
          "SELECT status, energy_wh, id_token FROM proj_sessions.transactions WHERE station_id = 'CP-201'",
        );
        return rows[0]?.status === 'ended' ? rows[0] : undefined;
      }, readModelTimeoutMs, 'the 2.0.1 session ended in the read model');
      expect(session.id_token).toBe('TAG-201');
      expect(Number(session.energy_wh)).toBe(5000);
      const { rows: tokens } = await db.query<{ uid: string; token_type: string; status: string }>(
        'SELECT uid, token_type, status FROM proj_tokens.tokens ORDER BY uid',
      );
      expect(tokens).toEqual([
        { uid: 'TAG-16', token_type: 'ISO14443', status: 'valid' },
        { uid: 'TAG-201', token_type: 'ISO14443', status: 'valid' },
      ]);
    } finally {
      await station.close();
    }
  }, 60_000);

  it('a dead peer (no pongs) is cut off and marked offline', async () => {
    const station = await StationSimulator.connect({ url: running.ocppUrl, stationId: 'CP-16', protocols: ['ocpp1.6'], password: password16, autoPong: false });
    try {
      const online = await eventually(async () => {
        const row = await stationRow('CP-16');
        return row?.online ? row : undefined;
      }, readModelTimeoutMs, 'CP-16 online again');
      // Two ping periods without a pong, then the DisconnectStation command and its projection.
      const closed = await Promise.race([
        station.closed,
        new Promise<never>((_, reject) => setTimeout(() => reject(new Error('not cut off')), (pingIntervalSeconds * 3 + 5) * 1000)),
      ]);
      expect(closed.code).toBe(1006); // terminated: no close frame
      const offline = await eventually(async () => {
        const row = await stationRow('CP-16');
        return row && !row.online ? row : undefined;
      }, readModelTimeoutMs, 'CP-16 offline after ping timeout');
      expect(offline.connection_id).toBe(online.connection_id);
      const { rows } = await db.query<{ reason: string }>(
        "SELECT data->>'reason' AS reason FROM eventstore.events WHERE stream_id = 'station-default-CP-16' AND type = 'StationDisconnected' ORDER BY revision DESC LIMIT 1",
      );
      expect(rows[0]?.reason).toBe('pingTimeout');
    } finally {
      station.terminate();
    }
  }, 60_000);
});

describe('OCPP session end to end (embedded, CLI through the running server)', () => {
  let data: Awaited<ReturnType<typeof tempDataDirInitialized>>;
  let running: Awaited<ReturnType<typeof startServer>> | undefined;
  beforeAll(async () => {
    data = await tempDataDirInitialized('ocpp-e2e');
  });
  afterAll(async () => {
    await stopServer(running?.server);
    await data?.remove();
  });

  it('registers a station while the server holds the database, then the station boots and shows online', async () => {
    running = await startServer({ DATA_DIR: data.dir });
    const env = { DATA_DIR: data.dir };
    const server = ['--server', running.httpUrl];
    const registered = await runCliInProcess(['stations', 'register', 'CP-E', '--password', password16, ...server], { env });
    expect(registered.exitCode, registered.stderr).toBe(0);
    // A named server is used directly (api/cli/station-call.ts): the CLI never opens, nor writes to, the folder.
    expect(registered.stderr).not.toContain('wrote to the embedded database');
    const added = await runCliInProcess(['tokens', 'add', 'TAG-E', ...server], { env });
    expect(added.exitCode, added.stderr).toBe(0);

    const station = await StationSimulator.connect({ url: running.ocppUrl, stationId: 'CP-E', protocols: ['ocpp1.6'], password: password16 });
    try {
      expect(await station.call('BootNotification', { chargePointVendor: 'ACME', chargePointModel: 'Embedded' })).toMatchObject({ status: 'Accepted' });
      expect(await station.call('Authorize', { idTag: 'TAG-E' })).toMatchObject({ idTagInfo: { status: 'Accepted' } });
      const blocked = await runCliInProcess(['tokens', 'block', 'TAG-E', '--reason', 'lost card', ...server], { env });
      expect(blocked.exitCode, blocked.stderr).toBe(0);
      expect(await station.call('Authorize', { idTag: 'TAG-E' })).toMatchObject({ idTagInfo: { status: 'Blocked' } });
      const list = await eventually(async () => {
        const result = await runCliInProcess(['stations', 'list', '--json', ...server], { env });
        const rows = result.stdout.trim().split('\n').filter(Boolean).map((line) => JSON.parse(line) as { stationId: string; online: boolean; model: string });
        return rows.find((row) => row.stationId === 'CP-E' && row.online && row.model === 'Embedded');
      }, 20_000, 'CP-E online in `stations list`');
      expect(list).toMatchObject({ registered: true, securityProfile: 1, bootStatus: 'Accepted' });
    } finally {
      await station.close();
    }
  }, 60_000);
});
