import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPostgresEventStore } from '../adapters/event-store/postgres.js';
import type { EventStore } from '../adapters/event-store/port.js';
import type { SqlDatabase } from '../adapters/sql/port.js';
import { eventFrom } from '../domain/shared/event-definition.js';
import type { DomainEvent } from '../domain/shared/event.js';
import { TokenIssued } from '../domain/token/events.js';
import {
  ChargingStateChanged,
  MeterReadingRecorded,
  TransactionAuthorized,
  TransactionEnded,
  TransactionStarted,
  type ChargingState,
  type SampledValue,
} from '../domain/transaction/events.js';
import { createTestPgliteDatabase } from '../test/support/services.js';
import { migrateProjections, startProjectionRunners } from './index.js';
import { ocpiSessionPeriodsMax, ocpiSessionsProjection, ocpiTokenTypeOf } from './ocpi-sessions.js';
import { verify } from './rebuild.js';

/** Transaction and token events in, `proj_ocpi_sessions` rows out. */

const t = (minute: number, second = 0) => new Date(Date.UTC(2025, 2, 1, 10, minute, second)).toISOString();
const started = (id: string, overrides: Partial<ReturnType<typeof TransactionStarted.schema.parse>> = {}) =>
  eventFrom(TransactionStarted, {
    transactionId: id, stationTransactionId: null, stationId: 'CP-1', evseId: 1, connectorId: 1,
    idToken: { idToken: 'CARD-1', type: 'ISO14443' }, meterStartWh: '1000.1', startedAt: t(0), reservationId: null, ...overrides,
  });
const reading = (minute: number, registerWh: string | null, sampledValues: SampledValue[] = []) =>
  eventFrom(MeterReadingRecorded, { sampledAt: t(minute), registerWh, sampledValues, signedData: null, suspicious: false, late: false });
const state = (minute: number, s: ChargingState, late = false) => eventFrom(ChargingStateChanged, { state: s, changedAt: t(minute), late });
const ended = (minute: number, meterStopWh: string, meterStopSource: 'station' | 'lastReading' = 'station') =>
  eventFrom(TransactionEnded, { meterStopWh, meterStopSource, endedAt: t(minute), reason: 'Local', stoppedBy: null, suspicious: false });
const sampled = (measurand: string, value: string, phase: string | null, unit: string): SampledValue => ({
  value, measurand, phase, unit, multiplier: null, context: null, location: null,
});

describe('ocpi_sessions projection', () => {
  let db: SqlDatabase;
  let eventStore: EventStore;
  let runners: { stop(): Promise<void>; idle(): Promise<void> };
  let appends = 0;

  beforeAll(async () => {
    db = await createTestPgliteDatabase();
    eventStore = await openPostgresEventStore(db);
    await migrateProjections({ db, eventStore });
    runners = startProjectionRunners({ db, eventStore }, { projections: [ocpiSessionsProjection] });
  });
  afterAll(async () => {
    await runners?.stop();
    await eventStore?.close().catch(() => {});
    await db?.close().catch(() => {});
  });

  /** Appends with recordedAt one second after the previous append; returns it (last_updated follows it). */
  async function append(stream: string, ...events: DomainEvent[]): Promise<string> {
    appends += 1;
    const recordedAt = new Date(Date.UTC(2025, 2, 1, 12, 0, appends)).toISOString();
    const metadata = { tenantId: 'default', correlationId: 'c', causationId: 'c', actor: 'user:test', occurredAt: recordedAt, recordedAt };
    await eventStore.append(stream, events.map((e) => ({ eventId: randomUUID(), type: e.type, schemaVersion: e.schemaVersion, data: e.data as never, metadata })), 'any');
    await runners.idle();
    return recordedAt;
  }
  const session = async (id: string): Promise<Record<string, any>> =>
    (await db.query<Record<string, any>>(`SELECT * FROM proj_ocpi_sessions.sessions WHERE session_id = $1`, [id])).rows[0] ?? {};
  const periods = async (id: string) =>
    (await db.query<Record<string, any>>(`SELECT * FROM proj_ocpi_sessions.charging_periods WHERE session_id = $1 ORDER BY period_index`, [id])).rows;
  const iso = (value: unknown) => new Date(value as string).toISOString();
  const num = (value: unknown) => (value === null ? null : String(value));

  it('pending, then active on charging, completed at the end; periods split on each charging-state change; exact kWh', async () => {
    await append('token-default-DE-EMP-CARD-1', eventFrom(TokenIssued, {
      uid: 'CARD-1', tokenType: 'RFID', contractId: 'DE-EMP-C12345678-X', issuer: 'EMP', ownerId: null, visualNumber: null,
      validUntil: null, whitelist: 'ALLOWED', source: 'ocpi', groupId: null, countryCode: 'DE', partyId: 'EMP',
    }));
    await append('transaction-default-tx-1', eventFrom(TransactionAuthorized, {
      stationId: 'CP-1', evseId: 1, idToken: { idToken: 'CARD-1', type: 'ISO14443' }, result: 'Accepted', authorizedAt: t(0), basis: 'token',
    }));
    expect((await session('tx-1')).status).toBe('AUTHORIZED');

    await append('transaction-default-tx-1', started('tx-1'));
    expect(await session('tx-1')).toMatchObject({
      status: 'PENDING', station_id: 'CP-1', station_evse_id: 1, station_connector_id: 1, token_uid: 'CARD-1', token_type: 'RFID',
      contract_id: 'DE-EMP-C12345678-X', token_country_code: 'DE', token_party_id: 'EMP', auth_basis: 'token', remote_start: false, period_count: 1,
    });

    await append('transaction-default-tx-1', state(1, 'Charging'));
    expect((await session('tx-1')).status).toBe('ACTIVE');
    await append('transaction-default-tx-1', reading(10, '1500.3', [
      sampled('Current.Import', '16', 'L1', 'A'), sampled('Current.Import', '15.5', 'L2', 'A'), sampled('Power.Active.Import', '11000', null, 'W'),
    ]));
    await append('transaction-default-tx-1', state(20, 'SuspendedEV'), reading(25, '2000.25'));
    const lastUpdated = await append('transaction-default-tx-1', ended(30, '2100.2'));

    const row = await session('tx-1');
    expect(row.status).toBe('COMPLETED');
    expect(num(row.energy_wh)).toBe('1100.1');
    expect(iso(row.end_date_time)).toBe(t(30));
    expect(iso(row.last_updated)).toBe(lastUpdated);
    const rows = await periods('tx-1');
    expect(rows.map((p) => [iso(p.start_date_time), iso(p.end_at), p.charging_state, num(p.start_register_wh), num(p.end_register_wh)])).toEqual([
      [t(0), t(1), null, '1000.1', '1000.1'],
      [t(1), t(20), 'Charging', '1000.1', '1500.3'],
      [t(20), t(30), 'SuspendedEV', '1500.3', '2100.2'],
    ]);
    expect([rows[1]!.max_current_a, rows[1]!.min_current_a, rows[1]!.max_power_kw, rows[1]!.min_power_kw].map(num)).toEqual(['16', '15.5', '11', '11']);
    expect(rows[2]!.max_current_a).toBeNull();
  });

  it('energy flowing makes a session active without any charging state; late changes do not split periods', async () => {
    await append('transaction-default-tx-2', started('tx-2', { meterStartWh: null, idToken: { idToken: 'APP-9', type: 'eMAID' } }));
    await append('transaction-default-tx-2', reading(5, '500'));
    expect((await session('tx-2')).status).toBe('PENDING');
    await append('transaction-default-tx-2', reading(6, '500.0001'), state(0, 'Charging', true));
    const row = await session('tx-2');
    expect(row).toMatchObject({ status: 'ACTIVE', token_type: 'APP_USER', contract_id: null, token_country_code: null });
    expect(num(row.energy_wh)).toBe('0.0001');
    expect(row.period_count).toBe(1);
  });

  it('a session that ended without any energy register ever known is INVALID', async () => {
    await append('transaction-default-tx-3', started('tx-3', { meterStartWh: null }), ended(3, '0', 'lastReading'));
    expect((await session('tx-3')).status).toBe('INVALID');
  });

  it(`keeps at most ${ocpiSessionPeriodsMax} periods, then extends the last`, async () => {
    const timed = Array.from({ length: ocpiSessionPeriodsMax + 5 }, (_, i) =>
      eventFrom(ChargingStateChanged, { state: i % 2 === 0 ? 'Charging' : 'SuspendedEV', changedAt: t(1, i % 60).replace(':01:', `:${String(1 + Math.floor(i / 60)).padStart(2, '0')}:`), late: false }),
    );
    await append('transaction-default-tx-4', started('tx-4'), ...timed, ended(30, '1200'));
    const row = await session('tx-4');
    expect(row.period_count).toBe(ocpiSessionPeriodsMax);
    const last = (await periods('tx-4')).at(-1)!;
    expect(last.period_index).toBe(ocpiSessionPeriodsMax - 1);
    expect(iso(last.end_at)).toBe(t(30));
  });

  it('a rebuild gives the same tables (pure, checksummed)', async () => {
    const result = await verify({ store: eventStore, db, log: () => {} }, ocpiSessionsProjection);
    expect(result.identical).toBe(true);
  });

  it('maps OCPP id token types to OCPI TokenType', () => {
    expect(['ISO14443', 'ISO15693', 'Central', 'Local', 'KeyCode', 'eMAID', 'NoAuthorization', 'AD_HOC_USER'].map(ocpiTokenTypeOf)).toEqual([
      'RFID', 'RFID', 'RFID', 'RFID', 'RFID', 'APP_USER', 'OTHER', 'AD_HOC_USER',
    ]);
  });
});
