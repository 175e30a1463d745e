import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../adapters/clock/clock.js';
import { openPostgresEventStore } from '../../adapters/event-store/postgres.js';
import type { EventStore } from '../../adapters/event-store/port.js';
import type { SqlDatabase } from '../../adapters/sql/port.js';
import { buildServer } from '../../api/server.js';
import { createCommandBus, type CommandBus } from '../../commands/index.js';
import * as domain from '../../domain/location/index.js';
import { eventFrom } from '../../domain/shared/event-definition.js';
import { ConnectorStatusChanged } from '../../domain/station/events.js';
import { locationsPushSource } from '../../ocpi/locations/push.js';
import { ocpiPageLimitMax, nextLink } from '../../ocpi/transport/pagination.js';
import * as limits from '../../ocpi/schemas/limits.js';
import { capabilities, connectorSchema, evsePatchSchema, evseSchema, facilities, locationSchema, parkingTypes } from '../../ocpi/schemas/locations.js';
import { authorizationHeader, credentialsTokenHash, newCredentialsToken } from '../../ocpi/transport/auth.js';
import { migrateProjections, startProjectionRunners } from '../../projections/index.js';
import { locationsProjection } from '../../projections/locations.js';
import { partnersProjection } from '../../projections/partners.js';
import { eventually } from '../support/eventually.js';
import { createTestPgliteDatabase } from '../support/services.js';

/** The Locations Sender interface of our real server, as a registered eMSP (DE/EMP) sees it. */

const us = { countryCode: 'NL', partyId: 'CSM' };
const site = (overrides: Record<string, unknown> = {}) => ({
  name: 'Depot', address: 'Stationsplein 1', city: 'Utrecht', postalCode: '3511', state: null, country: 'NLD',
  coordinates: { latitude: '52.08920', longitude: '5.11040' }, timeZone: 'Europe/Amsterdam', parkingType: 'PARKING_LOT',
  facilities: ['TRAIN_STATION'], openingTimes: { twentyfourseven: false, regular_hours: [{ weekday: 1, period_begin: '07:00', period_end: '22:00' }] },
  chargingWhenClosed: true, directions: [{ language: 'nl', text: 'Achter het station' }], operator: { name: 'Open CSMS', website: 'https://csms.example.com' },
  suboperator: null, owner: null, publish: true, ...overrides,
});
const evse = (uid: string, stationEvseId: number) => ({
  evseUid: uid, evseId: `NL*CSM*E${uid}`, stationId: 'CP-1', stationEvseId, capabilities: ['REMOTE_START_STOP_CAPABLE', 'RFID_READER'],
  physicalReference: uid, floorLevel: '0',
  connectors: [{ connectorId: '1', stationConnectorId: 1, standard: 'IEC_62196_T2', format: 'SOCKET', powerType: 'AC_3_PHASE', maxVoltage: 230, maxAmperage: 16, maxElectricPowerW: 11_000, tariffIds: ['STD'] }],
});

describe('OCPI locations (Sender)', () => {
  let db: SqlDatabase;
  let eventStore: EventStore;
  let bus: CommandBus;
  let server: FastifyInstance;
  let serverUrl: string;
  let runners: { stop(): Promise<void>; idle(): Promise<void> };
  const tokenC = newCredentialsToken();

  const send = (aggregateId: string, command: Parameters<CommandBus['send']>[0]['command']) =>
    bus.send({ commandId: randomUUID(), tenantId: 'default', aggregateId, actor: 'user:test', correlationId: randomUUID(), occurredAt: new Date().toISOString(), command });

  beforeAll(async () => {
    db = await createTestPgliteDatabase();
    eventStore = await openPostgresEventStore(db);
    await migrateProjections({ db, eventStore });
    bus = createCommandBus({ eventStore, clock: systemClock });
    runners = startProjectionRunners({ db, eventStore }, { projections: [partnersProjection, locationsProjection] });
    server = await buildServer({
      db, eventStore, bus, logLevel: 'silent',
      ocpi: { publicUrl: null, secret: null, roles: [{ role: 'CPO', country_code: 'NL', party_id: 'CSM', business_details: { name: 'Open-CSMS test' } }] },
    });
    serverUrl = await server.listen({ host: '127.0.0.1', port: 0 });

    // An eMSP that registered with us: invited (token A), then registered (its token C).
    await send('emsp', { type: 'IssueRegistrationToken', tokenTheyPresent: { token: 'A', tokenHash: credentialsTokenHash(newCredentialsToken()) } });
    await send('emsp', {
      type: 'RegisterPartner', initiatedBy: 'partner',
      connection: { roles: [{ role: 'EMSP', countryCode: 'DE', partyId: 'EMP', businessDetails: { name: 'eMSP' } }], version: '2.2.1', versionsUrl: 'http://127.0.0.1:1/ocpi/versions', endpoints: [] },
      tokenWePresent: { token: 'B', tokenSealed: newCredentialsToken() },
      tokenTheyPresent: { token: 'C', tokenHash: credentialsTokenHash(tokenC) },
    });
    // Location A with two EVSEs, then B, then C (unpublished): A is the oldest.
    await send('LOC-A', { type: 'DeclareLocation', locationId: 'LOC-A', facts: site() });
    await send('LOC-A', { type: 'AssignEvse', locationId: 'LOC-A', evse: evse('1', 1) });
    await send('LOC-A', { type: 'AssignEvse', locationId: 'LOC-A', evse: evse('2', 2) });
    await send('LOC-A', { type: 'RemoveEvse', locationId: 'LOC-A', evseUid: '2' });
    await new Promise((resolve) => setTimeout(resolve, 5));
    await send('LOC-B', { type: 'DeclareLocation', locationId: 'LOC-B', facts: site({ name: null, openingTimes: null, directions: [], facilities: [] }) });
    await send('LOC-C', { type: 'DeclareLocation', locationId: 'LOC-C', facts: site({ publish: false }) });
    await runners.idle();
  });
  afterAll(async () => {
    await server?.close();
    await runners?.stop();
    await eventStore?.close().catch(() => {});
    await db?.close().catch(() => {});
  });

  type JsonResponse = Omit<Response, 'json'> & { json(): Promise<any> };
  const get = (url: string): Promise<JsonResponse> =>
    fetch(url.startsWith('http') ? url : `${serverUrl}/ocpi/2.2.1/locations${url}`, {
      headers: {
        authorization: authorizationHeader(tokenC),
        'OCPI-from-country-code': 'DE', 'OCPI-from-party-id': 'EMP', 'OCPI-to-country-code': 'NL', 'OCPI-to-party-id': 'CSM',
      },
    });
  const list = async (query: string) => (await (await get(query)).json()).data as { id: string; last_updated: string }[];

  it('lists the endpoint as a SENDER', async () => {
    const details = (await (await fetch(`${serverUrl}/ocpi/2.2.1`, { headers: { authorization: authorizationHeader(tokenC) } })).json()) as { data: { endpoints: unknown[] } };
    expect(details.data.endpoints).toContainEqual({ identifier: 'locations', role: 'SENDER', url: `${serverUrl}/ocpi/2.2.1/locations` });
  });

  it('pages published locations oldest first, following Link headers, every object a valid Location', async () => {
    const seen: unknown[] = [];
    let url: string | null = '?limit=1';
    for (let pages = 0; url !== null && pages < 10; pages += 1) {
      const response = await get(url);
      expect(response.status).toBe(200);
      expect(response.headers.get('x-total-count')).toBe('2');
      expect(response.headers.get('x-limit')).toBe(String(ocpiPageLimitMax));
      const body = await response.json();
      expect(body.status_code).toBe(1000);
      expect(body.data).toHaveLength(1);
      seen.push(...body.data);
      url = nextLink(response.headers.get('link'));
    }
    expect(seen.map((location) => (location as { id: string }).id)).toEqual(['LOC-A', 'LOC-B']);
    for (const location of seen) expect(locationSchema.safeParse(location).error).toBeUndefined();
    const [a] = seen as any[];
    expect(a).toMatchObject({ country_code: 'NL', party_id: 'CSM', publish: true, country: 'NLD', time_zone: 'Europe/Amsterdam', facilities: ['TRAIN_STATION'] });
    expect(a.evses.map((e: { uid: string; status: string }) => [e.uid, e.status])).toEqual([['1', 'UNKNOWN'], ['2', 'REMOVED']]);
    // Location last_updated is the newest of its own and its EVSEs'.
    expect(a.last_updated).toBe(a.evses[1].last_updated);
  });

  it('filters on last_updated: date_from inclusive, date_to exclusive', async () => {
    const [a, b] = await list('');
    expect((await list(`?date_from=${b!.last_updated}`)).map((l) => l.id)).toEqual(['LOC-B']);
    expect((await list(`?date_to=${b!.last_updated}`)).map((l) => l.id)).toEqual(['LOC-A']);
    expect((await list(`?date_from=${a!.last_updated}&date_to=${b!.last_updated}`)).map((l) => l.id)).toEqual(['LOC-A']);
    const after = await get(`?date_from=2100-01-01T00:00:00Z`);
    expect(after.headers.get('x-total-count')).toBe('0');
    expect((await after.json()).data).toEqual([]);
  });

  it('serves one location, EVSE and connector; 2003 with 404 for unknown or unpublished ones', async () => {
    const location = (await (await get('/LOC-A')).json()).data;
    expect(locationSchema.safeParse(location).error).toBeUndefined();
    const one = (await (await get('/LOC-A/1')).json()).data;
    expect(evseSchema.safeParse(one).error).toBeUndefined();
    expect(one).toMatchObject({ uid: '1', evse_id: 'NL*CSM*E1', physical_reference: '1', capabilities: ['REMOTE_START_STOP_CAPABLE', 'RFID_READER'] });
    const connector = (await (await get('/LOC-A/1/1')).json()).data;
    expect(connectorSchema.safeParse(connector).error).toBeUndefined();
    expect(connector).toMatchObject({ id: '1', standard: 'IEC_62196_T2', max_electric_power: 11_000, tariff_ids: ['STD'] });
    for (const path of ['/NOPE', '/LOC-C', '/LOC-A/9', '/LOC-A/1/9']) {
      const response = await get(path);
      expect(response.status, path).toBe(404);
      expect((await response.json()).status_code, path).toBe(2003);
    }
  });

  it('shows the station status on the EVSE and pushes it as a PATCH resolved from the station', async () => {
    await eventStore.append('station-default-CP-1', [{
      eventId: randomUUID(), type: 'ConnectorStatusChanged', schemaVersion: 1,
      data: eventFrom(ConnectorStatusChanged, { evseId: 1, connectorId: 1, status: 'Charging', errorCode: null, info: null, vendorId: null, vendorErrorCode: null, statusAt: new Date().toISOString() }).data as never,
      metadata: { tenantId: 'default', correlationId: 'c', causationId: 'c', actor: 'station:CP-1', occurredAt: new Date().toISOString(), recordedAt: new Date().toISOString() },
    }], 'any');
    const charging = await eventually(async () => {
      const data = (await (await get('/LOC-A/1')).json()).data;
      return data.status === 'CHARGING' ? data : null;
    }, 10_000, 'EVSE 1 CHARGING');
    const [recorded] = await eventStore.readStream('station-default-CP-1');
    const triggers = locationsPushSource.triggers(recorded!);
    expect(triggers).toEqual([{ module: 'locations', objectKey: 'station:CP-1/1', change: 'status' }]);
    const context = { db, tenantId: 'default', us, partner: { partnerId: 'emsp', parties: [{ countryCode: 'DE', partyId: 'EMP' }] } };
    const patch = await locationsPushSource.build(context, 'station:CP-1/1', 'status');
    expect(patch).toEqual({ method: 'PATCH', path: '/NL/CSM/LOC-A/1', body: { status: 'CHARGING', last_updated: charging.last_updated }, partOf: 'LOC-A' });
    expect(evsePatchSchema.safeParse(patch!.body).success).toBe(true);
    expect(await locationsPushSource.build(context, 'station:CP-9/1', 'status')).toBeNull();
    const put = await locationsPushSource.build(context, 'LOC-A/1', 'object');
    expect(put).toMatchObject({ method: 'PUT', path: '/NL/CSM/LOC-A/1', body: { uid: '1', status: 'CHARGING' } });
    const whole = await locationsPushSource.build(context, 'station:CP-1', 'status');
    expect(whole).toMatchObject({ method: 'PUT', path: '/NL/CSM/LOC-A', body: { id: 'LOC-A' } });
    expect(locationSchema.safeParse(whole!.body).success).toBe(true);
    // The unpublished location is pushed too, so a partner learns it is hidden.
    expect(await locationsPushSource.build(context, 'LOC-C', 'object')).toMatchObject({ body: { id: 'LOC-C', publish: false } });
    const keys = await locationsPushSource.listKeys(context, null, 10);
    expect([...keys].sort()).toEqual(['LOC-A', 'LOC-B', 'LOC-C']);
    expect(await locationsPushSource.listKeys(context, keys[0]!, 10)).toEqual(keys.slice(1));
  });
});

describe('locations push triggers', () => {
  const recorded = (streamId: string, type: string, data: Record<string, unknown>) =>
    ({ streamId, type, data, schemaVersion: 1, eventId: 'e', revision: 0, position: { commit: 1n, prepare: 1n }, previousHash: null, hash: 'h', metadata: {} }) as never;
  it('key locations, EVSEs and station EVSEs as documented in push.ts', () => {
    const t = (streamId: string, type: string, data: Record<string, unknown>) => locationsPushSource.triggers(recorded(streamId, type, data));
    expect(t('location-default-L1', 'LocationUpdated', {})).toEqual([{ module: 'locations', objectKey: 'L1', change: 'object' }]);
    expect(t('location-default-L1', 'EvseAssigned', { evse: { evseUid: 'E1' } })).toEqual([{ module: 'locations', objectKey: 'L1/E1', change: 'object' }]);
    expect(t('location-default-L1', 'EvseRemoved', { evseUid: 'E1' })).toEqual([{ module: 'locations', objectKey: 'L1/E1', change: 'object' }]);
    expect(t('station-default-CP-1', 'AvailabilityChanged', { evseId: 2 })).toEqual([{ module: 'locations', objectKey: 'station:CP-1/2', change: 'status' }]);
    expect(t('station-default-CP-1', 'StationDisconnected', {})).toEqual([{ module: 'locations', objectKey: 'station:CP-1', change: 'status' }]);
    expect(t('station-default-CP-1', 'StationBooted', {})).toEqual([]);
  });
});

describe('the domain copy of OCPI location enums and limits', () => {
  it('equals ocpi/schemas', () => {
    expect(domain.parkingTypes).toEqual(parkingTypes);
    expect(domain.facilities).toEqual(facilities);
    expect(domain.capabilities).toEqual(capabilities);
    expect(domain.evsesPerLocationMax).toBe(limits.evsesPerLocationMax);
    expect(domain.connectorsPerEvseMax).toBe(limits.connectorsPerEvseMax);
    expect(domain.tariffIdsPerConnectorMax).toBe(limits.tariffIdsPerConnectorMax);
    expect(domain.displayTextsMax).toBe(limits.displayTextsMax);
    expect(domain.regularHoursMax).toBe(limits.regularHoursMax);
  });
});
