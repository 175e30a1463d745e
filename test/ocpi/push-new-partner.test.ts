import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../adapters/clock/clock.js';
import type { CommandBus } from '../../commands/index.js';
import { locationsPushSource } from '../../ocpi/locations/push.js';
import { startOcpiPush } from '../../ocpi/push/index.js';
import { loadProducerCheckpoint } from '../../ocpi/push/outbox.js';
import { comparePositions } from '../../adapters/event-store/port.js';
import { startProjectionRunners } from '../../projections/index.js';
import { locationsProjection } from '../../projections/locations.js';
import { eventually } from '../support/eventually.js';
import { credentialsTokenHash, newCredentialsToken } from '../../ocpi/transport/auth.js';
import { ok, openPushWorld, pushRows, registerPartner, sealer, settings, startFakeEmsp, type FakeEmsp, type PushWorld } from './push.fixtures.js';

/**
 * A partner registered after our locations exist never had them: the first thing it gets of a
 * location is the whole Location (PUT), never a PATCH of an EVSE it cannot know. Real locations
 * read model and push source, a fake eMSP over HTTP.
 */

const site = {
  name: 'Depot', address: 'Stationsplein 1', city: 'Utrecht', postalCode: '3511', state: null, country: 'NLD',
  coordinates: { latitude: '52.08920', longitude: '5.11040' }, timeZone: 'Europe/Amsterdam', parkingType: 'PARKING_LOT',
  facilities: [], openingTimes: null, chargingWhenClosed: null, directions: [], operator: null, suboperator: null, owner: null, publish: true,
};
const evse = (evseUid: string, stationEvseId: number) => ({
  evseUid, evseId: `NL*CSM*E${stationEvseId}`, stationId: 'CP-1', stationEvseId, capabilities: [], physicalReference: null, floorLevel: null,
  connectors: [{ connectorId: '1', stationConnectorId: 1, standard: 'IEC_62196_T2', format: 'SOCKET', powerType: 'AC_3_PHASE', maxVoltage: 230, maxAmperage: 16, maxElectricPowerW: 11_000, tariffIds: [] }],
});

describe('OCPI push to a partner registered after the locations', () => {
  let world: PushWorld;
  let locationRunner: { stop(): Promise<void>; idle(): Promise<void> };
  let push: { stop(): Promise<void> } | undefined;
  let late: FakeEmsp;

  const send = (aggregateId: string, command: Parameters<CommandBus['send']>[0]['command']) =>
    world.bus.send({ commandId: randomUUID(), tenantId: 'default', aggregateId, actor: 'user:test', correlationId: randomUUID(), occurredAt: new Date().toISOString(), command });
  const status = (evseId: number, value: 'Available' | 'Charging' | 'Preparing') =>
    send('CP-1', { type: 'RecordStatus', evseId, connectorId: 1, status: value, statusAt: new Date().toISOString() });
  const toLocation = (emsp: FakeEmsp) => emsp.received.filter((request) => request.url.includes('/locations/NL/CSM/LOC-A'));
  const shown = (emsp: FakeEmsp) => toLocation(emsp).map((request) => `${request.method} ${request.url.replace('/ocpi/2.2.1/locations/NL/CSM', '')}`);

  /** Until the producer has handled every event so far (it runs all the time in `csms serve`). */
  async function producerCaughtUp(): Promise<void> {
    const events = await world.eventStore.readAll({ limit: 10_000 });
    const head = events.at(-1)!.position;
    await eventually(async () => {
      const at = await loadProducerCheckpoint(world.db);
      return at !== null && comparePositions(at, head) >= 0;
    }, 8_000, 'the producer at the head of $all');
  }

  /** Until every push to the partner is answered and recorded. */
  const settled = () => eventually(async () => (await pushRows(world.db, `partner_id = 'late' AND state = 'pending'`)).length === 0, 8_000, 'no push pending for late');

  beforeAll(async () => {
    world = await openPushWorld();
    locationRunner = startProjectionRunners({ db: world.db, eventStore: world.eventStore }, { projections: [locationsProjection] });
    late = await startFakeEmsp();
    await send('LOC-A', { type: 'DeclareLocation', locationId: 'LOC-A', facts: site });
    await send('LOC-A', { type: 'AssignEvse', locationId: 'LOC-A', evse: evse('EVSE-1', 1) });
    await send('LOC-A', { type: 'AssignEvse', locationId: 'LOC-A', evse: evse('EVSE-2', 2) });
    await status(1, 'Available');
    await locationRunner.idle();
    push = startOcpiPush(
      { eventStore: world.eventStore, db: world.db, tenantId: 'default', settings, clock: systemClock, log: () => {}, sources: [locationsPushSource], retryDelayBaseMs: 200 },
      { owner: 'test-node', pollMs: 50, producerPollMs: 50 },
    );
    await producerCaughtUp();
  });
  afterAll(async () => {
    await push?.stop();
    await late?.app.close();
    await locationRunner?.stop();
    await world?.close();
  });

  it('a status change after it registered reaches it as the whole Location first, then as EVSE PATCHes', async () => {
    await registerPartner(world, 'late', late, 'LAT');
    await status(1, 'Preparing');
    await eventually(async () => toLocation(late).length >= 1, 8_000, 'a push about LOC-A at the new partner');
    const [first] = toLocation(late);
    expect(`${first!.method} ${first!.url}`).toBe('PUT /ocpi/2.2.1/locations/NL/CSM/LOC-A');
    expect((first!.body as { evses: Array<{ uid: string; status: string }> }).evses.map((e) => [e.uid, e.status])).toEqual([
      ['EVSE-1', 'CHARGING'], // OCPP Preparing is OCPI CHARGING (projections/locations-status.ts)
      ['EVSE-2', 'UNKNOWN'],
    ]);

    // Once its answer is recorded it holds the location: the next change is the EVSE's PATCH.
    await settled();
    await status(2, 'Charging');
    await eventually(async () => shown(late).includes('PATCH /LOC-A/EVSE-2'), 8_000, 'the EVSE-2 PATCH');
    expect(shown(late)).toEqual(['PUT /LOC-A', 'PATCH /LOC-A/EVSE-2']);
  });

  it('a partner that registers again (it may have lost our data) gets the whole Location again first', async () => {
    await send('late', { type: 'UnregisterPartner', initiatedBy: 'partner', reason: 'moving platform' });
    await send('late', { type: 'IssueRegistrationToken', tokenTheyPresent: { token: 'A', tokenHash: credentialsTokenHash(newCredentialsToken()) } });
    await send('late', {
      type: 'RegisterPartner',
      initiatedBy: 'partner',
      connection: {
        roles: [{ role: 'EMSP', countryCode: 'DE', partyId: 'LAT', businessDetails: { name: 'late' } }],
        version: '2.2.1',
        versionsUrl: `${late.url}/ocpi/versions`,
        endpoints: [{ identifier: 'locations', role: 'RECEIVER', url: `${late.url}/ocpi/2.2.1/locations` }],
      },
      tokenWePresent: { token: 'B', tokenSealed: sealer.seal(late.token) },
      tokenTheyPresent: { token: 'C', tokenHash: credentialsTokenHash(newCredentialsToken()) },
    });
    await world.runners.idle();
    await producerCaughtUp();
    const before = toLocation(late).length;
    await status(2, 'Available');
    await eventually(async () => toLocation(late).length > before, 8_000, 'a push about LOC-A after registering again');
    expect(shown(late).slice(before)).toEqual(['PUT /LOC-A']);
  });

  it('a partner answering 2003 to an EVSE PATCH (it lost the location) gets the whole Location next, not the PATCH again', async () => {
    await settled();
    late.behave = async (request, reply) =>
      request.method === 'PATCH' ? reply.code(404).send({ status_code: 2003, status_message: 'Unknown location', timestamp: new Date().toISOString() }) : ok();
    const before = toLocation(late).length;
    await status(1, 'Available');
    await eventually(async () => toLocation(late).length >= before + 2, 8_000, 'the EVSE-1 PATCH and then the Location PUT');
    await settled();
    expect(shown(late).slice(before)).toEqual(['PATCH /LOC-A/EVSE-1', 'PUT /LOC-A']);
    late.behave = async () => ok();
  });
});
