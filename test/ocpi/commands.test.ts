import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../adapters/clock/clock.js';
import { openPostgresEventStore } from '../../adapters/event-store/postgres.js';
import type { EventStore } from '../../adapters/event-store/port.js';
import type { SqlDatabase } from '../../adapters/sql/port.js';
import { buildServer } from '../../api/server.js';
import { createCommandBus, type CommandBus } from '../../commands/index.js';
import { ocpiCommandTimeouts } from '../../ocpi/commands/async-results.js';
import type { OcpiModuleContext } from '../../ocpi/plugin.js';
import { authorizationHeader, credentialsTokenHash, newCredentialsToken } from '../../ocpi/transport/auth.js';
import { migrateProjections, startProjectionRunners } from '../../projections/index.js';
import { partnersProjection } from '../../projections/partners.js';
import { sessionsProjection } from '../../projections/sessions.js';
import { eventually } from '../support/eventually.js';
import { createTestPgliteDatabase } from '../support/services.js';
import { StationSimulator } from '../support/station-simulator.js';

/**
 * OCPI commands and chargingprofiles Receivers on the real server (buildServer on PGlite) with a
 * simulated OCPP 1.6 station and an eMSP of our own receiving the results on its response_url.
 * The location read model rows are inserted directly (the locations projection is not run).
 */

const tenantId = 'default';
const partnerId = 'emsp_cmd';
const resultWaitMs = 10_000;

interface Emsp {
  app: FastifyInstance;
  url: string;
  /** Token the eMSP presents to us (our C for them). */
  tokenC: string;
  /** Token we present to them. */
  tokenB: string;
  results: Map<string, { body: any; authorization: string | undefined }>;
}

async function startEmsp(): Promise<Emsp> {
  const app = Fastify({ logger: false, forceCloseConnections: true });
  const emsp: Emsp = { app, url: '', tokenC: newCredentialsToken(), tokenB: newCredentialsToken(), results: new Map() };
  app.post<{ Params: { id: string } }>('/results/:id', async (request) => {
    emsp.results.set(request.params.id, { body: request.body, authorization: request.headers.authorization });
    return { status_code: 1000, timestamp: new Date().toISOString() };
  });
  emsp.url = (await app.listen({ host: '127.0.0.1', port: 0 })).replace('localhost', '127.0.0.1');
  return emsp;
}

const token = (uid: string) => ({
  country_code: 'DE', party_id: 'EMP', uid, type: 'RFID', contract_id: `DE-EMP-${uid}`, issuer: 'Test eMSP', valid: true, whitelist: 'ALLOWED',
  last_updated: '2026-11-01T00:00:00Z',
});

describe('OCPI commands and chargingprofiles (Receiver)', () => {
  let db: SqlDatabase;
  let eventStore: EventStore;
  let bus: CommandBus;
  let server: FastifyInstance;
  let serverUrl: string;
  let ocpi: OcpiModuleContext;
  let runners: { stop(): Promise<void>; idle(): Promise<void> };
  let emsp: Emsp;
  let station: StationSimulator;
  /** What the station answers to RemoteStartTransaction; 'never' leaves the call unanswered. */
  let remoteStartAnswer: 'Accepted' | 'Rejected' | 'never' = 'Accepted';

  beforeAll(async () => {
    ocpiCommandTimeouts.stationAnswerMs = 1_000;
    db = await createTestPgliteDatabase();
    eventStore = await openPostgresEventStore(db);
    await migrateProjections({ db, eventStore });
    bus = createCommandBus({ eventStore, clock: systemClock });
    runners = startProjectionRunners({ db, eventStore }, { projections: [partnersProjection, sessionsProjection] });
    server = await buildServer({
      db,
      eventStore,
      bus,
      logLevel: 'silent',
      ocpp: { unknownStations: 'accept', unknownTokens: 'accept', heartbeatIntervalSeconds: 300, pingIntervalSeconds: 60, allowUnsecured: true },
      ocpi: { publicUrl: null, secret: 'x'.repeat(40), roles: [{ role: 'CPO', country_code: 'NL', party_id: 'CSM', business_details: { name: 'Open-CSMS test' } }] },
      ocpiModules: [(context) => void (ocpi = context)],
    });
    serverUrl = await server.listen({ host: '127.0.0.1', port: 0 });
    emsp = await startEmsp();
    await registerPartner(partnerId, 'EMSP', emsp.tokenC, emsp.tokenB);
    await insertEvse('LOC1', 'EVSE1', 'CP-1', 1, 'AVAILABLE');
    await insertEvse('LOC2', 'EVSE2', 'CP-OFF', 1, 'AVAILABLE');
    await db.query(`INSERT INTO proj_locations.station_links VALUES ($1, 'CP-OFF', false, null, null, false)`, [tenantId]);
    station = await StationSimulator.connect({
      url: serverUrl.replace('http', 'ws') + '/ocpp',
      stationId: 'CP-1',
      protocols: ['ocpp1.6'],
      handlers: {
        RemoteStartTransaction: () => (remoteStartAnswer === 'never' ? new Promise(() => {}) : { status: remoteStartAnswer }),
        RemoteStopTransaction: () => ({ status: 'Accepted' }),
        UnlockConnector: () => ({ status: 'Unlocked' }),
        SetChargingProfile: () => ({ status: 'Accepted' }),
        ClearChargingProfile: () => ({ status: 'Accepted' }),
        GetCompositeSchedule: (payload) => ({
          status: 'Accepted',
          connectorId: (payload as { connectorId: number }).connectorId,
          scheduleStart: '2026-11-28T12:00:00Z',
          chargingSchedule: { duration: 3600, chargingRateUnit: 'A', chargingSchedulePeriod: [{ startPeriod: 0, limit: 16 }, { startPeriod: 1800, limit: 10.5 }] },
        }),
        ReserveNow: () => ({ status: 'Accepted' }),
        CancelReservation: () => ({ status: 'Accepted' }),
      },
    });
    await station.call('BootNotification', { chargePointVendor: 'ACME', chargePointModel: 'Wallbox' });
  });
  afterAll(async () => {
    await station?.close().catch(() => {});
    await emsp?.app.close();
    await server?.close();
    await runners?.stop();
    await eventStore?.close().catch(() => {});
    await db?.close().catch(() => {});
  });

  async function registerPartner(id: string, role: string, theirToken: string, ourToken: string): Promise<void> {
    const envelope = (suffix: string, command: unknown) => ({
      commandId: `test:${id}:${suffix}`, tenantId, aggregateId: id, actor: 'user:test', correlationId: suffix, occurredAt: new Date().toISOString(), command,
    });
    await bus.send(envelope('invite', { type: 'IssueRegistrationToken', tokenTheyPresent: { token: 'A', tokenHash: credentialsTokenHash(newCredentialsToken()) } }) as never);
    await bus.send(
      envelope('register', {
        type: 'RegisterPartner',
        initiatedBy: 'partner',
        connection: {
          roles: [{ role, countryCode: 'DE', partyId: 'EMP', businessDetails: { name: 'Test partner' } }],
          version: '2.2.1',
          versionsUrl: `${emsp.url}/ocpi/versions`,
          endpoints: [],
        },
        tokenWePresent: { token: 'B', tokenSealed: ocpi.sealer.seal(ourToken) },
        tokenTheyPresent: { token: 'C', tokenHash: credentialsTokenHash(theirToken) },
      }) as never,
    );
    await runners.idle();
  }

  async function insertEvse(locationId: string, evseUid: string, stationId: string, stationEvseId: number, status: string): Promise<void> {
    const now = new Date().toISOString();
    await db.query(
      `INSERT INTO proj_locations.location_evses (tenant_id, location_id, evse_uid, evse_id, station_id, station_evse_id, capabilities, removed, status, last_updated)
       VALUES ($1, $2, $3, null, $4, $5, '["REMOTE_START_STOP_CAPABLE","UNLOCK_CAPABLE"]', false, $6, $7)`,
      [tenantId, locationId, evseUid, stationId, stationEvseId, status, now],
    );
    await db.query(
      `INSERT INTO proj_locations.location_connectors (tenant_id, location_id, evse_uid, connector_id, station_connector_id, standard, format, power_type, max_voltage, max_amperage, tariff_ids, last_updated)
       VALUES ($1, $2, $3, '1', 1, 'IEC_62196_T2', 'SOCKET', 'AC_3_PHASE', 230, 32, '[]', $4)`,
      [tenantId, locationId, evseUid, now],
    );
  }

  let requestCount = 0;
  const call = async (method: string, path: string, body?: unknown, tokenOverride?: string): Promise<{ status: number; json: any }> => {
    requestCount += 1;
    const response = await fetch(`${serverUrl}/ocpi/2.2.1${path}`, {
      method,
      headers: {
        authorization: authorizationHeader(tokenOverride ?? emsp.tokenC),
        'x-request-id': `req-${requestCount}`,
        'x-correlation-id': `corr-${requestCount}`,
        'ocpi-from-country-code': 'DE', 'ocpi-from-party-id': 'EMP', 'ocpi-to-country-code': 'NL', 'ocpi-to-party-id': 'CSM',
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: response.status, json: await response.json() };
  };
  const resultOf = (id: string) => eventually(async () => emsp.results.get(id), resultWaitMs, `result ${id} on the response_url`);
  const startSession = (resultId: string, evse = { location_id: 'LOC1', evse_uid: 'EVSE1' }) =>
    call('POST', '/commands/START_SESSION', { response_url: `${emsp.url}/results/${resultId}`, token: token('TAG1'), ...evse });

  it('START_SESSION: ACCEPTED at once, then the station accepts → CommandResult ACCEPTED with our token for the eMSP', async () => {
    remoteStartAnswer = 'Accepted';
    const response = await startSession('start-ok');
    expect(response.json).toMatchObject({ status_code: 1000, data: { result: 'ACCEPTED' } });
    expect(response.json.data.timeout).toBeGreaterThan(0);
    const result = await resultOf('start-ok');
    expect(result.body).toEqual({ result: 'ACCEPTED' });
    expect(result.authorization).toBe(authorizationHeader(emsp.tokenB));
    const sent = station.callsReceived.find((received) => received.action === 'RemoteStartTransaction');
    expect(sent?.payload).toMatchObject({ connectorId: 1, idTag: 'TAG1' });
  });

  it('START_SESSION: the station rejects → REJECTED; never answers → TIMEOUT', async () => {
    remoteStartAnswer = 'Rejected';
    await startSession('start-rejected');
    expect((await resultOf('start-rejected')).body).toEqual({ result: 'REJECTED' });
    remoteStartAnswer = 'never';
    expect((await startSession('start-timeout')).json.data.result).toBe('ACCEPTED');
    expect((await resultOf('start-timeout')).body).toMatchObject({ result: 'TIMEOUT' });
    remoteStartAnswer = 'Accepted';
  });

  it('START_SESSION at an offline station: 1000 with REJECTED at once and a message, nothing posted', async () => {
    const offline = await startSession('start-offline', { location_id: 'LOC2', evse_uid: 'EVSE2' });
    expect(offline.json).toMatchObject({ status_code: 1000, data: { result: 'REJECTED', message: [{ language: 'en', text: 'EVSE EVSE2 is offline' }] } });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(emsp.results.has('start-offline')).toBe(false);
  });

  it('an unknown location, EVSE or connector: status 2003 with data REJECTED (spec mod_commands, "UNLOCK_CONNECTOR Unknown Location")', async () => {
    const cases: { path: string; body: Record<string, unknown>; text: RegExp }[] = [
      { path: 'START_SESSION', body: { token: token('TAG1'), location_id: 'NOWHERE' }, text: /unknown location NOWHERE/ },
      { path: 'START_SESSION', body: { token: token('TAG1'), location_id: 'NOWHERE', evse_uid: 'EVSE1' }, text: /unknown location NOWHERE/ },
      { path: 'START_SESSION', body: { token: token('TAG1'), location_id: 'LOC1', evse_uid: 'NOPE' }, text: /unknown EVSE NOPE at location LOC1/ },
      { path: 'START_SESSION', body: { token: token('TAG1'), location_id: 'LOC1', evse_uid: 'EVSE1', connector_id: '9' }, text: /unknown connector 9/ },
      {
        path: 'RESERVE_NOW',
        body: { token: token('TAG1'), expiry_date: new Date(Date.now() + 3_600_000).toISOString(), reservation_id: 'R-unknown', location_id: 'NOWHERE' },
        text: /unknown location NOWHERE/,
      },
      { path: 'UNLOCK_CONNECTOR', body: { location_id: 'NOWHERE', evse_uid: 'EVSE1', connector_id: '1' }, text: /unknown location NOWHERE/ },
    ];
    for (const [index, { path, body, text }] of cases.entries()) {
      const response = await call('POST', `/commands/${path}`, { response_url: `${emsp.url}/results/unknown-${index}`, ...body });
      // The POST reached the commands endpoint: HTTP 200, the refusal is in the envelope.
      expect(response.status, path).toBe(200);
      expect(response.json, path).toMatchObject({ status_code: 2003, status_message: expect.stringMatching(text), data: { result: 'REJECTED', timeout: 0 } });
      expect(response.json.data.message[0].text, path).toMatch(text);
      expect(response.json.timestamp).toEqual(expect.any(String));
    }
  });

  it('a path parameter longer than the router allows, or malformed: HTTP 400 with a 2001 envelope, not a bare 414/400', async () => {
    const response = await call('POST', `/commands/${'X'.repeat(300)}`, { response_url: `${emsp.url}/results/long` });
    expect(response.status).toBe(400);
    expect(response.json).toMatchObject({ status_code: 2001, status_message: expect.stringMatching(/path parameter.*longer than 256/), timestamp: expect.any(String) });
    expect(response.json).not.toHaveProperty('data');
    const malformed = await call('POST', '/commands/%E0%A4%A', { response_url: `${emsp.url}/results/malformed` });
    expect(malformed.status).toBe(400);
    expect(malformed.json).toMatchObject({ status_code: 2001, status_message: expect.stringMatching(/malformed URL/), timestamp: expect.any(String) });
    // Outside /ocpi the server answers as fastify does (its own error body), and keeps serving.
    const other = await fetch(`${serverUrl}/ocpp/%E0%A4%A`);
    expect(other.status).toBe(400);
    expect(await other.json()).toMatchObject({ code: 'FST_ERR_BAD_URL' });
    expect((await call('POST', '/commands/SELF_DESTRUCT', {})).json.status_code).toBe(2001);
  });

  it('an unknown command is 2001 with HTTP 404; an invalid body 2001', async () => {
    const unknown = await call('POST', '/commands/SELF_DESTRUCT', { response_url: `${emsp.url}/results/x` });
    expect(unknown.status).toBe(404);
    expect(unknown.json.status_code).toBe(2001);
    const invalid = await call('POST', '/commands/START_SESSION', { response_url: 'not a url' });
    expect(invalid.json.status_code).toBe(2001);
  });

  it('STOP_SESSION of an unknown session → UNKNOWN_SESSION at once', async () => {
    const response = await call('POST', '/commands/STOP_SESSION', { response_url: `${emsp.url}/results/stop-unknown`, session_id: 'no-such-session' });
    expect(response.json.data.result).toBe('UNKNOWN_SESSION');
  });

  it('UNLOCK_CONNECTOR → the station unlocks → ACCEPTED', async () => {
    const response = await call('POST', '/commands/UNLOCK_CONNECTOR', { response_url: `${emsp.url}/results/unlock`, location_id: 'LOC1', evse_uid: 'EVSE1', connector_id: '1' });
    expect(response.json.data.result).toBe('ACCEPTED');
    expect((await resultOf('unlock')).body).toEqual({ result: 'ACCEPTED' });
    expect(station.callsReceived.find((received) => received.action === 'UnlockConnector')?.payload).toEqual({ connectorId: 1 });
  });

  it('a running session: chargingprofiles PUT and DELETE reach the station; STOP_SESSION stops it', async () => {
    const started = (await station.call('StartTransaction', { connectorId: 1, idTag: 'TAG1', meterStart: 0, timestamp: new Date().toISOString() })) as { transactionId: number };
    const session = await eventually(async () => {
      const { rows } = await db.query<{ transaction_id: string }>(`SELECT transaction_id FROM proj_sessions.transactions WHERE station_id = 'CP-1' AND status = 'active'`);
      return rows[0];
    }, resultWaitMs, 'the session in the read model');
    const profile = { charging_rate_unit: 'A', charging_profile_period: [{ start_period: 0, limit: 16 }] };

    const put = await call('PUT', `/chargingprofiles/${session.transaction_id}`, { charging_profile: profile, response_url: `${emsp.url}/results/profile-set` });
    expect(put.json.data).toMatchObject({ result: 'ACCEPTED' });
    expect((await resultOf('profile-set')).body).toEqual({ result: 'ACCEPTED' });
    const set = station.callsReceived.find((received) => received.action === 'SetChargingProfile')?.payload as any;
    expect(set).toMatchObject({ connectorId: 1, csChargingProfiles: { transactionId: started.transactionId, chargingProfilePurpose: 'TxProfile', chargingSchedule: { chargingRateUnit: 'A' } } });

    const get = await call('GET', `/chargingprofiles/${session.transaction_id}?duration=3600&response_url=${encodeURIComponent(`${emsp.url}/results/profile-get`)}`);
    expect(get.json.data.result).toBe('ACCEPTED');
    expect((await resultOf('profile-get')).body).toEqual({
      result: 'ACCEPTED',
      profile: {
        start_date_time: '2026-11-28T12:00:00.000Z',
        charging_profile: { charging_rate_unit: 'A', duration: 3600, charging_profile_period: [{ start_period: 0, limit: 16 }, { start_period: 1800, limit: 10.5 }] },
      },
    });
    expect(station.callsReceived.find((received) => received.action === 'GetCompositeSchedule')?.payload).toMatchObject({ connectorId: 1, duration: 3600 });

    const del = await call('DELETE', `/chargingprofiles/${session.transaction_id}?response_url=${encodeURIComponent(`${emsp.url}/results/profile-clear`)}`);
    expect(del.json.data.result).toBe('ACCEPTED');
    expect((await resultOf('profile-clear')).body).toEqual({ result: 'ACCEPTED' });

    const unknown = await call('PUT', '/chargingprofiles/no-such-session', { charging_profile: profile, response_url: `${emsp.url}/results/profile-unknown` });
    expect(unknown.json.data.result).toBe('UNKNOWN_SESSION');

    const stop = await call('POST', '/commands/STOP_SESSION', { response_url: `${emsp.url}/results/stop`, session_id: session.transaction_id });
    expect(stop.json.data.result).toBe('ACCEPTED');
    expect((await resultOf('stop')).body).toEqual({ result: 'ACCEPTED' });
    expect(station.callsReceived.find((received) => received.action === 'RemoteStopTransaction')?.payload).toEqual({ transactionId: started.transactionId });
  });

  it('a retried POST (same X-Request-ID) is answered again but runs on the station once', async () => {
    const before = station.callsReceived.filter((received) => received.action === 'UnlockConnector').length;
    const body = { response_url: `${emsp.url}/results/unlock-retry`, location_id: 'LOC1', evse_uid: 'EVSE1', connector_id: '1' };
    const headers = {
      authorization: authorizationHeader(emsp.tokenC), 'x-request-id': 'retried-request', 'x-correlation-id': 'retried-correlation', 'content-type': 'application/json',
      'ocpi-from-country-code': 'DE', 'ocpi-from-party-id': 'EMP', 'ocpi-to-country-code': 'NL', 'ocpi-to-party-id': 'CSM',
    };
    for (let attempt = 0; attempt < 2; attempt += 1) {
      const response = await fetch(`${serverUrl}/ocpi/2.2.1/commands/UNLOCK_CONNECTOR`, { method: 'POST', headers, body: JSON.stringify(body) });
      expect(((await response.json()) as any).data.result).toBe('ACCEPTED');
    }
    expect((await resultOf('unlock-retry')).body).toEqual({ result: 'ACCEPTED' });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(station.callsReceived.filter((received) => received.action === 'UnlockConnector').length).toBe(before + 1);
  });

  it('RESERVE_NOW then CANCEL_RESERVATION of the same reservation id; an unknown reservation is REJECTED', async () => {
    const reserve = await call('POST', '/commands/RESERVE_NOW', {
      response_url: `${emsp.url}/results/reserve`, token: token('TAG2'), expiry_date: new Date(Date.now() + 3_600_000).toISOString(), reservation_id: 'R-1', location_id: 'LOC1', evse_uid: 'EVSE1',
    });
    expect(reserve.json.data.result).toBe('ACCEPTED');
    expect((await resultOf('reserve')).body).toEqual({ result: 'ACCEPTED' });
    const reserved = station.callsReceived.find((received) => received.action === 'ReserveNow')?.payload as { reservationId: number; connectorId: number; idTag: string };
    expect(reserved).toMatchObject({ connectorId: 1, idTag: 'TAG2' });
    const cancel = await call('POST', '/commands/CANCEL_RESERVATION', { response_url: `${emsp.url}/results/cancel`, reservation_id: 'R-1' });
    expect(cancel.json.data.result).toBe('ACCEPTED');
    expect((await resultOf('cancel')).body).toEqual({ result: 'CANCELED_RESERVATION' });
    expect(station.callsReceived.find((received) => received.action === 'CancelReservation')?.payload).toEqual({ reservationId: reserved.reservationId });
    const unknown = await call('POST', '/commands/CANCEL_RESERVATION', { response_url: `${emsp.url}/results/cancel-unknown`, reservation_id: 'R-404' });
    expect(unknown.json.data.result).toBe('REJECTED');
  });

  it("RESERVE_NOW's authorization_reference is kept with the reservation and carried by the transaction that uses it", async () => {
    const reserve = await call('POST', '/commands/RESERVE_NOW', {
      // An OCPI DateTime may leave out the Z (UTC): sent to the station with it.
      response_url: `${emsp.url}/results/reserve-ref`, token: token('TAG3'), expiry_date: new Date(Date.now() + 3_600_000).toISOString().replace('Z', ''), reservation_id: 'R-REF',
      location_id: 'LOC1', evse_uid: 'EVSE1', authorization_reference: 'RES-REF-1',
    });
    expect(reserve.json.data.result).toBe('ACCEPTED');
    expect((await resultOf('reserve-ref')).body).toEqual({ result: 'ACCEPTED' });
    const reserved = station.callsReceived.filter((received) => received.action === 'ReserveNow').at(-1)?.payload as { reservationId: number };
    // Not sent to the station: OCPP has no field for it.
    expect(reserved).not.toHaveProperty('authorizationReference');
    expect((reserved as unknown as { expiryDate: string }).expiryDate).toMatch(/Z$/);
    const timestamp = new Date().toISOString();
    const started = (await station.call('StartTransaction', { connectorId: 1, idTag: 'TAG3', meterStart: 0, timestamp, reservationId: reserved.reservationId })) as { transactionId: number };
    const authorized = (await eventStore.readStream(`transaction-${tenantId}-${started.transactionId}`)).find((event) => event.type === 'TransactionAuthorized');
    expect(authorized?.data).toMatchObject({ idToken: { idToken: 'TAG3' }, authorizationReference: 'RES-REF-1' });
    await station.call('StopTransaction', { transactionId: started.transactionId, meterStop: 10, timestamp });
  });

  it('START_SESSION on an OCPP 2.0.1 station: the RFID token goes as an ISO14443 idToken', async () => {
    await insertEvse('LOC3', 'EVSE3', 'CP-201', 1, 'AVAILABLE');
    const station201 = await StationSimulator.connect({
      url: serverUrl.replace('http', 'ws') + '/ocpp',
      stationId: 'CP-201',
      protocols: ['ocpp2.0.1'],
      handlers: { RequestStartTransaction: () => ({ status: 'Accepted' }) },
    });
    try {
      await station201.call('BootNotification', { reason: 'PowerUp', chargingStation: { vendorName: 'ACME', model: 'Wallbox-201' } });
      expect((await startSession('start-201', { location_id: 'LOC3', evse_uid: 'EVSE3' })).json.data.result).toBe('ACCEPTED');
      expect((await resultOf('start-201')).body).toEqual({ result: 'ACCEPTED' });
      expect(station201.callsReceived[0]).toMatchObject({ action: 'RequestStartTransaction', payload: { evseId: 1, idToken: { idToken: 'TAG1', type: 'ISO14443' } } });
    } finally {
      await station201.close();
    }
  });
});
