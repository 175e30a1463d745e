import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitUntilVisible } from '../../adapters/event-store/visibility.js';
import { openPostgresEventStore } from '../../adapters/event-store/postgres.js';
import type { EventStore } from '../../adapters/event-store/port.js';
import { execute, queryBuilder } from '../../adapters/sql/kysely.js';
import type { SqlDatabase } from '../../adapters/sql/port.js';
import { history } from '../../projections/fixtures.js';
import {
  allProjections,
  liveSchemaName,
  migrateProjections,
  projectionStatus,
  startProjectionRunners,
  type SessionsReadModel,
  type StationsReadModel,
  type TokensReadModel,
} from '../../projections/index.js';
import { createTestPgliteDatabase, createTestPostgresDatabase, requirePostgres } from '../support/services.js';

const postgresAvailable = await requirePostgres();

function readModelContent(name: string, open: () => Promise<{ db: SqlDatabase; done(): Promise<void> }>) {
  describe(`read models (${name})`, () => {
    let db: SqlDatabase;
    let done: () => Promise<void>;
    let store: EventStore;
    beforeAll(async () => {
      ({ db, done } = await open());
      store = await openPostgresEventStore(db);
      const options = { tenantId: 'acme', stations: 3, transactionsPerStation: 2, readingsPerTransaction: 4, tokens: 4 };
      for (const stream of history(options)) await store.append(stream.streamId, stream.events, 'no_stream');
      // A session still running: started and one reading, no end.
      await store.append('transaction-acme-LIVE', [
        ...[...history({ ...options, stations: 1, transactionsPerStation: 1, readingsPerTransaction: 1, tokens: 0 })][1]!.events.slice(0, 2),
      ].map((e) => (e.type === 'TransactionStarted' ? { ...e, data: { ...e.data, transactionId: 'LIVE' } } : e)), 'no_stream');
      // A 2.0.1 session whose Started carried no energy register, with an offline reading that
      // arrives late: the earliest reading by station time is the baseline, never 0 Wh.
      const [started, reading] = [...history({ ...options, stations: 1, transactionsPerStation: 1, readingsPerTransaction: 1, tokens: 0 })][1]!.events;
      const readingAt = Date.parse(String(reading!.data.sampledAt));
      const noStart = await store.append('transaction-acme-NOSTART', [
        { ...started!, eventId: randomUUID(), schemaVersion: 2, data: { ...started!.data, transactionId: 'NOSTART', meterStartWh: null } },
        { ...reading!, eventId: randomUUID(), data: { ...reading!.data, registerWh: '5250', sampledAt: new Date(readingAt + 60_000).toISOString() } },
        { ...reading!, eventId: randomUUID(), data: { ...reading!.data, registerWh: '5000', sampledAt: new Date(readingAt).toISOString(), late: true } },
      ], 'no_stream');
      // A 1.6 station repeating its meterStart as a Transaction.Begin reading stamped later: a copy of the start, no reading.
      const [liveStarted, liveReading] = [...history({ ...options, stations: 1, transactionsPerStation: 1, readingsPerTransaction: 1, tokens: 0 })][1]!.events;
      const beginCopy = { value: '0', measurand: 'Energy.Active.Import.Register', phase: null, unit: 'Wh', multiplier: null, context: 'Transaction.Begin', location: null };
      const beginLate = await store.append('transaction-acme-BEGINLATE', [
        { ...liveStarted!, eventId: randomUUID(), data: { ...liveStarted!.data, transactionId: 'BEGINLATE' } },
        { ...liveReading!, eventId: randomUUID() },
        { ...liveReading!, eventId: randomUUID(), data: { ...liveReading!.data, registerWh: '0', sampledValues: [beginCopy], sampledAt: new Date(Date.parse(String(liveReading!.data.sampledAt)) + 60_000).toISOString(), suspicious: true } },
      ], 'no_stream');
      await waitUntilVisible(store, noStart.position);
      await waitUntilVisible(store, beginLate.position);
      await migrateProjections({ eventStore: store, db });
      const runners = startProjectionRunners({ eventStore: store, db }, { batchSize: 7 });
      await runners.idle();
      await runners.stop();
    });
    afterAll(async () => {
      await store.close();
      await done();
    });

    it('projects stations and connectors from boots and status reports', async () => {
      const q = queryBuilder<StationsReadModel>().withSchema(liveSchemaName('stations'));
      const { rows: stations } = await execute(db, q.selectFrom('stations').selectAll().orderBy('station_id'));
      expect(stations).toHaveLength(3);
      expect(stations[0]).toMatchObject({
        tenant_id: 'acme', station_id: 'CP-000000', vendor: 'Alfen', model: 'Eve Double', serial_number: 'SN0', firmware_version: '6.4.0',
        ocpp_version: '1.6', registered: true, boot_status: 'Accepted', security_profile: 1, online: true, connection_id: 'c-0',
      });
      expect(stations[0]!.last_seen_at).toBeInstanceOf(Date);
      const { rows: connectors } = await execute(db, q.selectFrom('connectors').selectAll().where('station_id', '=', 'CP-000001').orderBy('evse_id'));
      expect(connectors.map((c) => [c.evse_id, c.connector_id, c.status])).toEqual([[1, 1, 'Available'], [2, 2, 'Available']]);
    });

    it('projects sessions with exact energy from readings and the end', async () => {
      const q = queryBuilder<SessionsReadModel>().withSchema(liveSchemaName('sessions'));
      const { rows } = await execute(db, q.selectFrom('transactions').selectAll().orderBy('transaction_id'));
      expect(rows).toHaveLength(9);
      const ended = rows.find((r) => r.transaction_id === 'CP-000000-T1')!;
      // meter start 1000 Wh; 4 readings of +250.5; stop = last register + 100.
      expect(ended).toMatchObject({ status: 'ended', meter_start_wh: '1000', latest_register_wh: '2102.0', energy_wh: '1102', readings: 4, stop_reason: 'EVDisconnected', id_token: 'TOKEN0' });
      const live = rows.find((r) => r.transaction_id === 'LIVE')!;
      expect(live).toMatchObject({ status: 'active', meter_start_wh: '0', latest_register_wh: '250.5', energy_wh: '250.5', readings: 1, ended_at: null });
      const noStart = rows.find((r) => r.transaction_id === 'NOSTART')!;
      expect(noStart).toMatchObject({ status: 'active', meter_start_wh: null, first_register_wh: '5000', latest_register_wh: '5250', energy_wh: '250', readings: 2 });
      // The Transaction.Begin copy stamped late neither counts nor takes the energy back (domain/transaction/meter-energy.ts).
      const beginLate = rows.find((r) => r.transaction_id === 'BEGINLATE')!;
      expect(beginLate).toMatchObject({ status: 'active', meter_start_wh: '0', latest_register_wh: '250.5', energy_wh: '250.5', readings: 2 });
    });

    it('projects tokens, blocked ones as blocked', async () => {
      const q = queryBuilder<TokensReadModel>().withSchema(liveSchemaName('tokens'));
      const { rows } = await execute(db, q.selectFrom('tokens').select(['uid', 'status', 'contract_id', 'whitelist', 'block_reason']).orderBy('uid'));
      expect(rows).toEqual([
        { uid: 'TOKEN0', status: 'blocked', contract_id: 'NL-ABC-C00000000', whitelist: 'ALLOWED', block_reason: 'lost card' },
        { uid: 'TOKEN1', status: 'valid', contract_id: 'NL-ABC-C00000001', whitelist: 'ALLOWED', block_reason: null },
        { uid: 'TOKEN2', status: 'valid', contract_id: 'NL-ABC-C00000002', whitelist: 'ALLOWED', block_reason: null },
        { uid: 'TOKEN3', status: 'blocked', contract_id: 'NL-ABC-C00000003', whitelist: 'ALLOWED', block_reason: 'lost card' },
      ]);
    });

    it('reports every projection caught up, not stale, lease released', async () => {
      const statuses = await projectionStatus({ eventStore: store, db });
      expect(statuses.map((s) => s.name)).toEqual(allProjections().map((p) => p.name));
      expect(statuses.map((s) => s.name).slice(0, 3)).toEqual(['stations', 'sessions', 'tokens']);
      for (const status of statuses) expect([status.name, status.lagEvents, status.stale, status.leaseOwner]).toEqual([status.name, 0, false, null]);
      expect(statuses[0]!.checkpoint).toBe(statuses[0]!.headPosition);
    });
  });
}

readModelContent('PGlite', async () => {
  const db = await createTestPgliteDatabase();
  return { db, done: () => db.close() };
});

describe.skipIf(!postgresAvailable)('with PostgreSQL', () => {
  readModelContent('PostgreSQL', async () => {
    const database = await createTestPostgresDatabase('proj_readmodels');
    return { db: database.open(), done: () => database.drop() };
  });
});
