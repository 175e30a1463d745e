import { randomUUID } from 'node:crypto';
import { Decimal } from 'decimal.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../adapters/clock/clock.js';
import { comparePositions } from '../../adapters/event-store/port.js';
import type { CommandBus } from '../../commands/index.js';
import { startOcpiPush } from '../../ocpi/push/index.js';
import { loadProducerCheckpoint } from '../../ocpi/push/outbox.js';
import { sessionsPushSource } from '../../ocpi/sessions/push.js';
import { startProjectionRunners } from '../../projections/index.js';
import { locationsProjection } from '../../projections/locations.js';
import { ocpiSessionsProjection } from '../../projections/ocpi-sessions.js';
import { eventually } from '../support/eventually.js';
import { ok, openPushWorld, pushRows, registerPartner, settings, startFakeEmsp, type FakeEmsp, type PushWorld } from './push.fixtures.js';

/**
 * A partner never gets a Session PATCH for a session it does not hold: one registered mid-session
 * gets the whole Session (PUT) first, one answering 2003 to a PATCH gets the whole next, and a
 * finished session's hold is dropped (partner_objects keeps only running sessions). Real
 * locations and sessions read models and push source, a fake eMSP over HTTP.
 */

const site = {
  name: 'Depot', address: 'Stationsplein 1', city: 'Utrecht', postalCode: '3511', state: null, country: 'NLD',
  coordinates: { latitude: '52.08920', longitude: '5.11040' }, timeZone: 'Europe/Amsterdam', parkingType: 'PARKING_LOT',
  facilities: [], openingTimes: null, chargingWhenClosed: null, directions: [], operator: null, suboperator: null, owner: null, publish: true,
};
const evse = {
  evseUid: 'EVSE-1', evseId: 'NL*CSM*E1', stationId: 'CP-1', stationEvseId: 1, capabilities: [], physicalReference: null, floorLevel: null,
  connectors: [{ connectorId: 'C1', stationConnectorId: 1, standard: 'IEC_62196_T2', format: 'SOCKET', powerType: 'AC_3_PHASE', maxVoltage: 230, maxAmperage: 16, maxElectricPowerW: 11_000, tariffIds: [] }],
};

describe('OCPI session push to a partner that does not hold the session', () => {
  let world: PushWorld;
  let readModels: { stop(): Promise<void>; idle(): Promise<void> };
  let push: { stop(): Promise<void> } | undefined;
  let late: FakeEmsp;
  let registerWh = 1_000;

  const send = (aggregateId: string, command: Parameters<CommandBus['send']>[0]['command']) =>
    world.bus.send({ commandId: randomUUID(), tenantId: 'default', aggregateId, actor: 'user:test', correlationId: randomUUID(), occurredAt: new Date().toISOString(), command });
  const reading = () => {
    registerWh += 500;
    return send('tx-1', { type: 'RecordMeterReading', stationId: 'CP-1', sampledAt: new Date().toISOString(), registerWh: new Decimal(registerWh) });
  };
  const shown = () =>
    late.received.filter((request) => request.url.startsWith('/ocpi/2.2.1/sessions/')).map((request) => `${request.method} ${request.url.replace('/ocpi/2.2.1/sessions/NL/CSM', '')}`);
  const holds = async () =>
    (await world.db.query<{ object_id: string }>(`SELECT object_id FROM ocpi_outbox.partner_objects WHERE partner_id = 'late' AND module = 'sessions'`)).rows.map((row) => row.object_id);

  /** Until the producer has handled every event so far (it runs all the time in `csms serve`). */
  async function producerCaughtUp(): Promise<void> {
    const events = await world.eventStore.readAll({ limit: 10_000 });
    const head = events.at(-1)!.position;
    await eventually(async () => {
      const at = await loadProducerCheckpoint(world.db);
      return at !== null && comparePositions(at, head) >= 0;
    }, 8_000, 'the producer at the head of $all');
  }
  /** Until every push to the partner is answered and its outcome recorded. */
  const settled = () => eventually(async () => (await pushRows(world.db, `partner_id = 'late' AND state = 'pending'`)).length === 0, 8_000, 'no push pending for late');
  /** Until the partner got `count` session requests, and their outcomes are recorded. */
  async function received(count: number, what: string): Promise<string[]> {
    await eventually(async () => shown().length >= count, 8_000, what);
    await settled();
    return shown();
  }

  beforeAll(async () => {
    world = await openPushWorld();
    readModels = startProjectionRunners({ db: world.db, eventStore: world.eventStore }, { projections: [locationsProjection, ocpiSessionsProjection] });
    late = await startFakeEmsp();
    await send('LOC-A', { type: 'DeclareLocation', locationId: 'LOC-A', facts: site });
    await send('LOC-A', { type: 'AssignEvse', locationId: 'LOC-A', evse });
    await send('DE-LAT-CARD', { type: 'IssueToken', uid: 'CARD', tokenType: 'RFID', contractId: 'DE-LAT-C0001', issuer: 'LAT', whitelist: 'ALLOWED', source: 'ocpi', countryCode: 'DE', partyId: 'LAT' });
    // The session starts and charges before the partner exists.
    await send('tx-1', {
      type: 'StartTransaction', transactionId: 'tx-1', stationId: 'CP-1', evseId: 1, connectorId: 1, startedAt: new Date().toISOString(),
      meterStartWh: new Decimal(registerWh), idToken: { idToken: 'CARD', type: 'ISO14443' },
    });
    await reading();
    await readModels.idle();
    push = startOcpiPush(
      { eventStore: world.eventStore, db: world.db, tenantId: 'default', settings, clock: systemClock, log: () => {}, sources: [sessionsPushSource], retryDelayBaseMs: 200 },
      { owner: 'test-node', pollMs: 50, producerPollMs: 50 },
    );
    await producerCaughtUp();
  });
  afterAll(async () => {
    await push?.stop();
    await late?.app.close();
    await readModels?.stop();
    await world?.close();
  });

  it('a partner registering mid-session gets the whole Session first, then PATCHes', async () => {
    await registerPartner(world, 'late', late, 'LAT', ['credentials', 'sessions']);
    await reading();
    const first = await received(1, 'a push about tx-1 at the new partner');
    expect(first).toEqual(['PUT /tx-1']);
    expect(late.received[0]!.body).toMatchObject({ id: 'tx-1', status: 'ACTIVE' });
    expect(await holds()).toEqual(['tx-1']);

    await reading();
    expect(await received(2, 'the PATCH of tx-1')).toEqual(['PUT /tx-1', 'PATCH /tx-1']);
  });

  it('a partner answering 2003 to a PATCH (it lost the session) gets the whole Session next, not the PATCH again', async () => {
    const before = shown().length;
    late.behave = async (request, reply) =>
      request.method === 'PATCH'
        ? reply.code(404).send({ status_code: 2003, status_message: 'Unknown session', timestamp: new Date().toISOString() })
        : ok();
    await reading();
    expect((await received(before + 2, 'the PATCH and then the PUT of tx-1')).slice(before)).toEqual(['PATCH /tx-1', 'PUT /tx-1']);
    expect(late.received.at(-1)!.body).toMatchObject({ id: 'tx-1', status: 'ACTIVE' });
    const row = (await pushRows(world.db, `partner_id = 'late'`)).at(-1);
    expect(row).toMatchObject({ state: 'delivered', attempts: 2 });
    expect(await holds()).toEqual(['tx-1']);
  });

  it('a finished session is sent whole and its hold dropped: holds are kept for running sessions only', async () => {
    late.behave = async () => ok();
    expect(await holds()).toEqual(['tx-1']);
    const before = shown().length;
    await send('tx-1', { type: 'EndTransaction', stationId: 'CP-1', endedAt: new Date().toISOString(), meterStopWh: new Decimal(registerWh + 500), reason: 'Local' });
    expect((await received(before + 1, 'the final PUT of tx-1')).slice(before)).toEqual(['PUT /tx-1']);
    expect(late.received.at(-1)!.body).toMatchObject({ status: 'COMPLETED' });
    expect(await holds()).toEqual([]);
  });
});
