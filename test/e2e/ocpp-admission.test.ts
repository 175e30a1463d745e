import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../adapters/clock/clock.js';
import { openPostgresEventStore } from '../../adapters/event-store/postgres.js';
import type { EventStore } from '../../adapters/event-store/port.js';
import type { SqlDatabase } from '../../adapters/sql/port.js';
import { tenantIdDefault } from '../../api/config.js';
import { issueToken, registerStation, type OperatorDeps } from '../../api/operator-commands.js';
import { buildServer } from '../../api/server.js';
import { createCommandBus } from '../../commands/index.js';
import { migrateProjections, startProjectionRunners } from '../../projections/index.js';
import { sessionsProjection } from '../../projections/sessions.js';
import { stationsProjection } from '../../projections/stations.js';
import { eventually } from '../support/eventually.js';
import { createTestPostgresDatabase, requirePostgres } from '../support/services.js';
import { StationSimulator } from '../support/station-simulator.js';

/**
 * Issue 9 points 5 and 6 on the real server (Postgres, default OCPP_UNKNOWN_STATIONS=pending):
 * an unregistered station may boot and heartbeat and nothing else is recorded for it; a station
 * naming another station's transaction is refused with SecurityError and the refusal is recorded
 * on its own stream, where the operator sees it.
 */

const readModelTimeoutMs = 10_000;
const password = 'admission-test-password';
const at = (minute: number) => new Date(Date.now() - (30 - minute) * 60_000).toISOString();
const energy16 = (wh: number, minute: number) => [{ timestamp: at(minute), sampledValue: [{ value: String(wh), measurand: 'Energy.Active.Import.Register', unit: 'Wh' }] }];

const available = await requirePostgres();

describe.skipIf(!available)('OCPP admission and refusals on the real server (PostgreSQL)', () => {
  let database: Awaited<ReturnType<typeof createTestPostgresDatabase>>;
  let db: SqlDatabase;
  let eventStore: EventStore;
  let server: FastifyInstance;
  let ocppUrl: string;
  let runners: { stop(): Promise<void>; idle(): Promise<void> };
  let operator: OperatorDeps;
  const stations: StationSimulator[] = [];

  beforeAll(async () => {
    database = await createTestPostgresDatabase('ocpp_admission');
    db = database.open(4);
    eventStore = await openPostgresEventStore(db);
    await migrateProjections({ db, eventStore });
    const bus = createCommandBus({ eventStore, clock: systemClock });
    runners = startProjectionRunners({ db, eventStore }, { projections: [stationsProjection, sessionsProjection] });
    // The default OCPP settings: unknown stations are admitted Pending.
    server = await buildServer({ db, eventStore, bus, logLevel: 'silent' });
    const url = await server.listen({ host: '127.0.0.1', port: 0 });
    ocppUrl = `${url.replace('http', 'ws')}/ocpp`;
    operator = { bus, clock: systemClock, tenantId: tenantIdDefault, actor: 'user:test' };
    await issueToken(operator, { uid: 'TAG-1' });
    for (const stationId of ['CP-A', 'CP-B']) await registerStation(operator, { stationId, password });
  }, 60_000);

  afterAll(async () => {
    for (const station of stations) await station.close().catch(() => {});
    await server?.close();
    await runners?.stop();
    await eventStore?.close().catch(() => {});
    await database?.drop();
  });

  async function connect(stationId: string, protocol: 'ocpp1.6' | 'ocpp2.0.1', withPassword = false): Promise<StationSimulator> {
    const station = await StationSimulator.connect({ url: ocppUrl, stationId, protocols: [protocol], ...(withPassword ? { password } : {}) });
    stations.push(station);
    return station;
  }

  /**
   * Every committed event (straight from the table: $all shows an event only once every older
   * transaction has finished) but the connections' own facts: StationConnected/Disconnected are
   * recorded per connection by design, and asynchronously to the CALLs.
   */
  async function allEvents(): Promise<{ type: string; stream_id: string }[]> {
    const { rows } = await db.query<{ type: string; stream_id: string }>(
      `SELECT type, stream_id FROM eventstore.events WHERE type NOT IN ('StationConnected', 'StationDisconnected') ORDER BY seq`,
    );
    return rows;
  }

  const allocatedTransactionIds = async () => Number((await db.query<{ n: string }>('SELECT count(*) AS n FROM ocpp16_transaction_ids')).rows[0]!.n);

  async function expectRefusedWithoutTrace(station: StationSimulator, calls: readonly [string, unknown][]): Promise<void> {
    const before = (await allEvents()).length;
    const idsBefore = await allocatedTransactionIds();
    for (const [action, payload] of calls) {
      await expect(station.call(action, payload), action).rejects.toMatchObject({ code: 'SecurityError' });
    }
    expect((await allEvents()).slice(before)).toEqual([]);
    expect(await allocatedTransactionIds()).toBe(idsBefore);
  }

  it('an unregistered password-less 1.6 station is Pending: boot and heartbeat only, nothing else recorded', async () => {
    const station = await connect('CP-U16', 'ocpp1.6');
    expect(await station.call('BootNotification', { chargePointVendor: 'ACME', chargePointModel: 'Unknown-16' })).toMatchObject({ status: 'Pending' });
    expect(await station.call('Heartbeat', {})).toHaveProperty('currentTime');
    await expectRefusedWithoutTrace(station, [
      ['Authorize', { idTag: 'TAG-1' }],
      ['StartTransaction', { connectorId: 1, idTag: 'TAG-1', meterStart: 0, timestamp: at(1) }],
      ['MeterValues', { connectorId: 1, transactionId: 1, meterValue: energy16(10, 2) }],
      ['StopTransaction', { meterStop: 10, timestamp: at(3), transactionId: 1, idTag: 'TAG-1' }],
      ['DataTransfer', { vendorId: 'ACME', data: 'x' }],
      ['StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Available', timestamp: at(1) }],
    ]);
    // The operator discovers it from its boot.
    const row = await eventually(async () => {
      const { rows } = await db.query<{ boot_status: string; registered: boolean; model: string }>(
        `SELECT boot_status, registered, model FROM proj_stations.stations WHERE station_id = 'CP-U16'`,
      );
      return rows[0]?.boot_status ? rows[0] : undefined;
    }, readModelTimeoutMs, 'CP-U16 in the stations read model');
    expect(row).toEqual({ boot_status: 'Pending', registered: false, model: 'Unknown-16' });
  });

  it('an unregistered password-less 2.0.1 station is Pending the same way', async () => {
    const station = await connect('CP-U201', 'ocpp2.0.1');
    expect(await station.call('BootNotification', { chargingStation: { vendorName: 'ACME', model: 'Unknown-201' }, reason: 'PowerUp' })).toMatchObject({ status: 'Pending' });
    expect(await station.call('Heartbeat', {})).toHaveProperty('currentTime');
    const started = { eventType: 'Started', timestamp: at(1), triggerReason: 'Authorized', seqNo: 0, transactionInfo: { transactionId: 'TX-1' }, evse: { id: 1 }, idToken: { idToken: 'TAG-1', type: 'ISO14443' } };
    await expectRefusedWithoutTrace(station, [
      ['Authorize', { idToken: { idToken: 'TAG-1', type: 'ISO14443' } }],
      ['TransactionEvent', started],
      ['TransactionEvent', { ...started, eventType: 'Ended', seqNo: 1, timestamp: at(5), triggerReason: 'StopAuthorized' }],
      ['MeterValues', { evseId: 1, meterValue: [{ timestamp: at(2), sampledValue: [{ value: 10 }] }] }],
      ['DataTransfer', { vendorId: 'ACME' }],
    ]);
  });

  it('a station registered after booting Pending stays held on its next connection until a boot is Accepted', async () => {
    await registerStation(operator, { stationId: 'CP-U16', password });
    server.stationAuthentication.forget('CP-U16');
    // Reconnects with its password but does not reboot: its last boot was answered Pending.
    const station = await connect('CP-U16', 'ocpp1.6', true);
    const start = { connectorId: 1, idTag: 'TAG-1', meterStart: 0, timestamp: at(10) };
    await expectRefusedWithoutTrace(station, [['StartTransaction', start]]);
    expect(await station.call('BootNotification', { chargePointVendor: 'ACME', chargePointModel: 'Unknown-16' })).toMatchObject({ status: 'Accepted' });
    expect(await station.call('StartTransaction', start)).toMatchObject({ idTagInfo: { status: 'Accepted' }, transactionId: expect.any(Number) });
  });

  it("a station naming another station's transaction gets SecurityError; that transaction is unchanged; the refusal is on its own stream and in the read model", async () => {
    const stationA = await connect('CP-A', 'ocpp1.6', true);
    const stationB = await connect('CP-B', 'ocpp1.6', true);
    for (const station of [stationA, stationB]) {
      expect(await station.call('BootNotification', { chargePointVendor: 'ACME', chargePointModel: 'Known' })).toMatchObject({ status: 'Accepted' });
    }
    const { transactionId } = (await stationB.call('StartTransaction', { connectorId: 1, idTag: 'TAG-1', meterStart: 1000, timestamp: at(1) })) as { transactionId: number };
    await stationB.call('MeterValues', { connectorId: 1, transactionId, meterValue: energy16(1500, 2) });
    const streamB = `transaction-${tenantIdDefault}-${transactionId}`;
    const bBefore = await eventStore.readStream(streamB);

    await expect(stationA.call('MeterValues', { connectorId: 1, transactionId, meterValue: energy16(99_000, 3) })).rejects.toMatchObject({ code: 'SecurityError' });
    await expect(stationA.call('StopTransaction', { transactionId, meterStop: 99_999, timestamp: at(4), reason: 'Local' })).rejects.toMatchObject({ code: 'SecurityError' });
    // Again, as a station retrying would: refused again, recorded once.
    await expect(stationA.call('StopTransaction', { transactionId, meterStop: 99_999, timestamp: at(4), reason: 'Local' })).rejects.toMatchObject({ code: 'SecurityError' });

    expect(await eventStore.readStream(streamB)).toEqual(bBefore);
    const refusals = (await eventStore.readStream(`station-${tenantIdDefault}-CP-A`)).filter((event) => event.type === 'StationMessageRefused');
    expect(refusals.map((event) => [event.data.action, event.data.reason, event.data.transactionId])).toEqual([
      ['MeterValues', 'foreignTransaction', String(transactionId)],
      ['StopTransaction', 'foreignTransaction', String(transactionId)],
    ]);
    const rows = await eventually(async () => {
      const found = await db.query<{ action: string; reason: string; transaction_id: string }>(
        `SELECT action, reason, transaction_id FROM proj_stations.message_refusals WHERE station_id = 'CP-A' ORDER BY refused_at, action`,
      );
      return found.rows.length === 2 ? found.rows : undefined;
    }, readModelTimeoutMs, "CP-A's refusals in the stations read model");
    expect(rows).toEqual([
      { action: 'MeterValues', reason: 'foreignTransaction', transaction_id: String(transactionId) },
      { action: 'StopTransaction', reason: 'foreignTransaction', transaction_id: String(transactionId) },
    ]);
    // B's session still runs with B's energy.
    await runners.idle();
    const { rows: sessions } = await db.query<{ status: string; station_id: string; energy_wh: string }>(
      `SELECT status, station_id, energy_wh FROM proj_sessions.transactions WHERE station_transaction_id = $1`,
      [String(transactionId)],
    );
    expect(sessions).toEqual([{ status: 'active', station_id: 'CP-B', energy_wh: '500' }]);
  });
});
