import { Decimal } from 'decimal.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixedClock } from '../../adapters/clock/clock.js';
import { openPostgresEventStore } from '../../adapters/event-store/postgres.js';
import type { EventStore } from '../../adapters/event-store/port.js';
import type { SqlDatabase } from '../../adapters/sql/port.js';
import { catchUpCdrIssuer, postgresCheckpoint } from '../../commands/process/index.js';
import { createCommandBus, type Command, type CommandBus } from '../../commands/index.js';
import { InvalidCommandError } from '../../domain/shared/errors.js';
import { liveSchemaName, migrateProjections, rebuildProjection, startProjectionRunners, verifyProjection } from '../../projections/index.js';
import { createTestPgliteDatabase } from '../support/services.js';

/**
 * Billing end to end below the server: a session's commands → the CDR process manager → a
 * priced CDR → a balanced journal entry → trial balance zero → a credit that reverses it exactly.
 */

const tenantId = 'acme';
const clock = fixedClock('2025-03-03T08:00:00.000Z');

/** 0.25 EUR/kWh, 1.00 EUR start fee, 2.00 EUR/h parking, all at 21 % VAT. */
const tariff = {
  country_code: 'NL',
  party_id: 'CSM',
  id: 'STD',
  currency: 'EUR',
  elements: [
    {
      price_components: [
        { type: 'FLAT', price: 1.0, vat: 21, step_size: 0 },
        { type: 'ENERGY', price: 0.25, vat: 21, step_size: 1 },
        { type: 'PARKING_TIME', price: 2.0, vat: 21, step_size: 60 },
      ],
    },
  ],
  last_updated: '2025-03-01T00:00:00Z',
};

let db: SqlDatabase;
let store: EventStore;
let bus: CommandBus;
let n = 0;

const send = (aggregateId: string, command: Command, occurredAt = clock.now().toISOString()) =>
  bus.send({ commandId: `test-${n++}`, tenantId, aggregateId, actor: 'user:test', correlationId: `c-${n}`, occurredAt, command });

async function runIssuer() {
  const checkpoint = await postgresCheckpoint(db, 'cdr_issuer');
  await catchUpCdrIssuer({ eventStore: store, bus }, checkpoint);
}

async function runProjections() {
  const runners = startProjectionRunners({ eventStore: store, db }, { batchSize: 50 });
  await runners.idle();
  await runners.stop();
}

async function trialBalance() {
  const { rows } = await db.query<{ currency: string; debits: string; credits: string; difference: string }>(
    `SELECT currency, sum(debits)::text AS debits, sum(credits)::text AS credits, sum(balance)::text AS difference
       FROM ${liveSchemaName('ledger')}.accounts WHERE tenant_id = $1 GROUP BY currency`,
    [tenantId],
  );
  return rows.map((row) => ({ ...row, difference: new Decimal(row.difference).toFixed() }));
}

async function balances() {
  const { rows } = await db.query<{ account: string; balance: string }>(
    `SELECT account, balance::text AS balance FROM ${liveSchemaName('ledger')}.accounts WHERE tenant_id = $1 ORDER BY account`,
    [tenantId],
  );
  return Object.fromEntries(rows.map((r) => [r.account, new Decimal(r.balance).toFixed(2)]));
}

beforeAll(async () => {
  db = await createTestPgliteDatabase();
  store = await openPostgresEventStore(db);
  bus = createCommandBus({ eventStore: store, clock });
  await migrateProjections({ eventStore: store, db });
});

afterAll(async () => {
  await store.close();
  await db.close();
});

describe('tariffs', () => {
  it('refuses bad tariffs with every reason and records nothing', async () => {
    const overlapping = { ...tariff, id: 'BAD', currency: 'EUX', elements: [tariff.elements[0]!, tariff.elements[0]!] };
    await expect(send('BAD', { type: 'CreateTariff', tariff: overlapping, createdAt: clock.now().toISOString() })).rejects.toThrow(InvalidCommandError);
    await expect(send('BAD', { type: 'CreateTariff', tariff: overlapping, createdAt: clock.now().toISOString() })).rejects.toThrow(/EUX is not an ISO 4217.*elements\.1: is never used/s);
    const negative = { ...tariff, id: 'NEG', elements: [{ price_components: [{ type: 'ENERGY', price: -0.1, step_size: 1 }] }] };
    await expect(send('NEG', { type: 'CreateTariff', tariff: negative, createdAt: clock.now().toISOString() })).rejects.toThrow(/price may not be negative/);
    const restriction = { ...tariff, id: 'RES', elements: [{ price_components: [{ type: 'ENERGY', price: 0.1, step_size: 1 }], restrictions: { min_kwh: 10, max_kwh: 5 } }] };
    await expect(send('RES', { type: 'CreateTariff', tariff: restriction, createdAt: clock.now().toISOString() })).rejects.toThrow(/min_kwh: must be less than max_kwh/);
    for (const id of ['BAD', 'NEG', 'RES']) expect(await store.readStream(`tariff-${tenantId}-${id}`)).toEqual([]);
  });

  it('creates a tariff, attaches it to the tenant; a bad new version changes nothing', async () => {
    await send('STD', { type: 'CreateTariff', tariff, createdAt: clock.now().toISOString() });
    await send('tenant', { type: 'AttachTariff', tariffId: 'STD', scope: { kind: 'tenant' }, attachedAt: clock.now().toISOString() });
    const before = await store.readStream(`tariff-${tenantId}-STD`);
    await expect(send('STD', { type: 'VersionTariff', tariff: { ...tariff, currency: 'XXX' }, versionedAt: clock.now().toISOString() })).rejects.toThrow(InvalidCommandError);
    expect(await store.readStream(`tariff-${tenantId}-STD`)).toEqual(before);
  });
});

describe('a session billed by the CDR process manager', () => {
  const at = (minutes: number) => new Date(Date.parse('2025-03-03T09:00:00Z') + minutes * 60_000).toISOString();

  beforeAll(async () => {
    clock.set(at(0));
    await send('T1', { type: 'StartTransaction', transactionId: 'T1', stationId: 'CP-1', evseId: 1, connectorId: 1, idToken: { idToken: '04A2B3', type: 'ISO14443' }, meterStartWh: new Decimal(1000), startedAt: at(0) });
    await send('T1', { type: 'RecordChargingState', state: 'Charging', changedAt: at(0) });
    await send('T1', { type: 'RecordMeterReading', sampledAt: at(30), registerWh: new Decimal(6000), signedData: 'OCMF|{"RD":[{"RV":6.0}]}' });
    await send('T1', { type: 'RecordMeterReading', sampledAt: at(60), registerWh: new Decimal(11000) });
    await send('T1', { type: 'RecordChargingState', state: 'SuspendedEV', changedAt: at(60) });
    clock.set(at(75));
    await send('T1', { type: 'EndTransaction', meterStopWh: new Decimal(11000), endedAt: at(75), reason: 'EVDisconnected' });
    // A new tariff version after the session started must not change its price.
    await send('STD', { type: 'VersionTariff', tariff: { ...tariff, elements: [{ price_components: [{ type: 'ENERGY', price: 9, vat: 21, step_size: 1 }] }] }, versionedAt: at(76) });
    await runIssuer();
    await runIssuer(); // again: at-least-once delivery appends nothing new
    await runProjections();
  });

  it('issues a CDR priced with the version in force at start, to the cent', async () => {
    const { rows } = await db.query<Record<string, string>>(`SELECT * FROM ${liveSchemaName('cdrs')}.cdrs WHERE tenant_id = $1`, [tenantId]);
    expect(rows).toHaveLength(1);
    const row = rows[0]!;
    // 10 kWh × 0.25 + 1.00 flat + 15 min parking × 2.00/h = 4.00 excl; × 1.21 = 4.84 incl.
    expect(row).toMatchObject({ cdr_id: 'T1', transaction_id: 'T1', total_cost_excl_vat: '4.00', total_cost_incl_vat: '4.84', tariff_version_id: 'STD@1', credit: false, currency: 'EUR' });
    const cdr = JSON.parse(row.cdr_json!);
    expect(cdr.total_energy).toBe('10.0000');
    expect(cdr.total_time).toBe('1.2500');
    expect(cdr.total_parking_time).toBe('0.2500');
    expect(cdr.total_energy_cost).toEqual({ excl_vat: '2.5000', incl_vat: '3.0250' });
    expect(cdr.total_parking_cost).toEqual({ excl_vat: '0.5000', incl_vat: '0.6050' });
    expect(cdr.signed_data.signed_values).toEqual([{ nature: 'Start', plain_data: '', signed_data: 'OCMF|{"RD":[{"RV":6.0}]}' }]);
    expect(cdr.charging_periods.map((p: { dimensions: { type: string }[] }) => p.dimensions.map((d) => d.type))).toEqual([['ENERGY', 'TIME'], ['ENERGY', 'PARKING_TIME']]);
    expect(cdr.tariffs[0].id).toBe('STD');
    expect(cdr.cdr_location.evse_uid).toBe('CP-1*1');
  });

  it('posts a balanced entry: receivable 4.84, revenue 4.00, VAT 0.84; trial balance zero', async () => {
    expect(await balances()).toEqual({ 'receivable:unknown-tokens': '4.84', 'revenue:charging': '-4.00', 'vat-payable:21': '-0.84' });
    expect(await trialBalance()).toEqual([{ currency: 'EUR', debits: '4.84', credits: '4.84', difference: '0' }]);
  });

  it('a credit issues the credit CDR and reverses the entry exactly', async () => {
    clock.set(at(120));
    await send('T1', { type: 'CreditCdr', creditCdrId: 'T1-CR', creditedAt: at(120), reason: 'meter fault' });
    await runIssuer();
    await runProjections();
    const { rows } = await db.query<Record<string, unknown>>(
      `SELECT cdr_id, credit, credit_reference_id, credited_by, total_cost_excl_vat::text AS excl, total_cost_incl_vat::text AS incl FROM ${liveSchemaName('cdrs')}.cdrs ORDER BY cdr_id`,
    );
    expect(rows).toEqual([
      { cdr_id: 'T1', credit: false, credit_reference_id: null, credited_by: 'T1-CR', excl: '4.00', incl: '4.84' },
      { cdr_id: 'T1-CR', credit: true, credit_reference_id: 'T1', credited_by: null, excl: '-4.00', incl: '-4.84' },
    ]);
    expect(await balances()).toEqual({ 'receivable:unknown-tokens': '0.00', 'revenue:charging': '0.00', 'vat-payable:21': '0.00' });
    expect(await trialBalance()).toEqual([{ currency: 'EUR', debits: '9.68', credits: '9.68', difference: '0' }]);
  });

  it('rebuilding cdrs and ledger reproduces them identically (checksums)', async () => {
    for (const name of ['cdrs', 'ledger']) {
      const before = await verifyProjection({ eventStore: store, db }, name);
      expect(before.identical).toBe(true);
      await rebuildProjection({ eventStore: store, db }, name);
      const after = await verifyProjection({ eventStore: store, db }, name);
      expect(after.identical).toBe(true);
      expect(after.liveChecksum).toBe(before.liveChecksum);
    }
  });
});
