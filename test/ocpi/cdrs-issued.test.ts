import { Decimal } from 'decimal.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixedClock } from '../../adapters/clock/clock.js';
import { openPostgresEventStore } from '../../adapters/event-store/postgres.js';
import type { EventStore } from '../../adapters/event-store/port.js';
import type { SqlDatabase } from '../../adapters/sql/port.js';
import { catchUpCdrIssuer, postgresCheckpoint } from '../../commands/process/index.js';
import { createCommandBus, type Command, type CommandBus } from '../../commands/index.js';
import { cdrsPushSource } from '../../ocpi/cdrs/push.js';
import { cdrToWire, sendableCdr } from '../../ocpi/cdrs/wire.js';
import { cdrSchema, tariffSchema } from '../../ocpi/schemas/index.js';
import { tariffsPushSource } from '../../ocpi/tariffs/push.js';
import { cdrsProjection } from '../../projections/cdrs.js';
import { liveSchemaName, migrateProjections, startProjectionRunners } from '../../projections/index.js';
import { tariffsProjection } from '../../projections/tariffs.js';
import { sampleCdr } from '../../domain/cdr/fixtures.js';
import { createTestPgliteDatabase } from '../support/services.js';

/**
 * The CDRs the billing process really issues (a session priced by the CDR issuer, then credited)
 * leave through the CDRs Sender as valid OCPI 2.2.1 CDRs: what the test fixtures cannot show.
 */

const tenantId = 'default';
const clock = fixedClock('2025-03-03T08:00:00.000Z');
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
const at = (minutes: number) => new Date(Date.parse('2025-03-03T09:00:00Z') + minutes * 60_000).toISOString();

describe('CDRs issued by the billing process, as the CDRs Sender sends them', () => {
  let db: SqlDatabase;
  let store: EventStore;
  let bus: CommandBus;
  let n = 0;
  const send = (aggregateId: string, command: Command) =>
    bus.send({ commandId: `test-${n++}`, tenantId, aggregateId, actor: 'user:test', correlationId: `c-${n}`, occurredAt: clock.now().toISOString(), command });
  async function runIssuerAndProjections() {
    await catchUpCdrIssuer({ eventStore: store, bus }, await postgresCheckpoint(db, 'cdr_issuer'));
    const runners = startProjectionRunners({ eventStore: store, db }, { projections: [cdrsProjection, tariffsProjection] });
    await runners.idle();
    await runners.stop();
  }
  const us = { countryCode: 'NL', partyId: 'CSM' };

  beforeAll(async () => {
    db = await createTestPgliteDatabase();
    store = await openPostgresEventStore(db);
    bus = createCommandBus({ eventStore: store, clock });
    await migrateProjections({ eventStore: store, db });
    await send('STD', { type: 'CreateTariff', tariff, createdAt: clock.now().toISOString() });
    await send('tenant', { type: 'AttachTariff', tariffId: 'STD', scope: { kind: 'tenant' }, attachedAt: clock.now().toISOString() });
    clock.set(at(0));
    await send('T1', { type: 'StartTransaction', transactionId: 'T1', stationId: 'CP-1', evseId: 1, connectorId: 1, idToken: { idToken: '04A2B3', type: 'ISO14443' }, meterStartWh: new Decimal(1000), startedAt: at(0) });
    await send('T1', { type: 'RecordChargingState', state: 'Charging', changedAt: at(0) });
    await send('T1', { type: 'RecordMeterReading', sampledAt: at(30), registerWh: new Decimal(6000), signedData: 'OCMF|{"RD":[{"RV":6.0}]}' });
    await send('T1', { type: 'RecordMeterReading', sampledAt: at(60), registerWh: new Decimal(11000) });
    await send('T1', { type: 'RecordChargingState', state: 'SuspendedEV', changedAt: at(60) });
    clock.set(at(75));
    await send('T1', { type: 'EndTransaction', meterStopWh: new Decimal(11000), endedAt: at(75), reason: 'EVDisconnected' });
    await runIssuerAndProjections();
    clock.set(at(120));
    await send('T1', { type: 'CreditCdr', creditCdrId: 'T1-CR', creditedAt: at(120), reason: 'meter fault' });
    await runIssuerAndProjections();
  });
  afterAll(async () => {
    await store?.close();
    await db?.close();
  });

  const storedCdr = async (id: string) =>
    (await db.query<{ cdr_id: string; emsp: string; cdr_json: string }>(`SELECT cdr_id, emsp, cdr_json FROM ${liveSchemaName('cdrs')}.cdrs WHERE cdr_id = $1`, [id])).rows[0]!;

  it('the issued CDR and its credit CDR pass the OCPI 2.2.1 CDR schema on the wire', async () => {
    for (const id of ['T1', 'T1-CR']) {
      const row = await storedCdr(id);
      const wire = cdrToWire(JSON.parse(row.cdr_json));
      const checked = cdrSchema.safeParse(wire);
      expect(checked.error?.issues ?? [], `CDR ${id}`).toEqual([]);
    }
    const credit = sendableCdr('T1-CR', (await storedCdr('T1-CR')).cdr_json);
    expect(credit).toMatchObject({ credit: true, credit_reference_id: 'T1', total_cost: { excl_vat: -4, incl_vat: -4.84 }, total_energy: -10 });
  });

  it('pushes the issued CDR to the eMSP of its token only', async () => {
    const row = await storedCdr('T1');
    const [countryCode, partyId] = row.emsp.split('-') as [string, string];
    const request = await cdrsPushSource.build({ db, tenantId, us, partner: { partnerId: 'p', parties: [{ countryCode, partyId }] } }, 'T1', 'object');
    expect(request).toMatchObject({ method: 'POST', path: '', body: { id: 'T1', total_cost: { excl_vat: 4, incl_vat: 4.84 } } });
    expect(await cdrsPushSource.build({ db, tenantId, us, partner: { partnerId: 'q', parties: [{ countryCode: 'ZZ', partyId: 'ZZZ' }] } }, 'T1', 'object')).toBeNull();
  });

  it('pushes the tariff the session was priced with as a valid OCPI Tariff', async () => {
    const request = await tariffsPushSource.build({ db, tenantId, us, partner: { partnerId: 'p', parties: [] } }, 'STD', 'object');
    expect(request).toMatchObject({ method: 'PUT', path: '/NL/CSM/STD' });
    expect(tariffSchema.safeParse(request!.body).error).toBeUndefined();
  });

  it('refuses to send a value a JSON number cannot carry exactly, naming the field', () => {
    const tooPrecise = sampleCdr({ total_energy: '12345678901234567.5' });
    expect(() => cdrToWire(tooPrecise)).toThrow(/total_energy = 12345678901234567\.5/);
    // More than 4 decimals is a JSON number but not an OCPI number: the schema check names it.
    expect(() => sendableCdr('CDR-1', JSON.stringify(sampleCdr({ tariffs: undefined, total_time: '1.23456' })))).toThrow(/CDR CDR-1 fails .*total_time/);
  });
});
