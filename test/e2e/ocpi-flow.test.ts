import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../adapters/clock/clock.js';
import { openPostgresEventStore } from '../../adapters/event-store/postgres.js';
import type { EventStore } from '../../adapters/event-store/port.js';
import type { SqlDatabase } from '../../adapters/sql/port.js';
import { inviteOcpiPartner } from '../../api/ocpi-commands.js';
import { registerStation } from '../../api/operator-commands.js';
import { buildServer, ocppSettingsDefault } from '../../api/server.js';
import { createCommandBus, type CommandBus } from '../../commands/index.js';
import { billingConfigFor, creditCdrIdFor, startCdrIssuer } from '../../commands/process/index.js';
import { cdrSchema, commandResponseSchema, locationSchema, sessionSchema, tariffSchema, tokenSchema } from '../../ocpi/schemas/index.js';
import { ocpiRequest } from '../../ocpi/client/client.js';
import { ourParty, type OcpiModuleContext, type OcpiSettings } from '../../ocpi/plugin.js';
import { startOcpiPush } from '../../ocpi/push/index.js';
import { locationsCdrSiteLookup } from '../../ocpi/locations/cdr-site.js';
import { realtimeTimeoutMsDefault } from '../../ocpi/tokens/realtime.js';
import { migrateProjections, startProjectionRunners } from '../../projections/index.js';
import { EmspPartner, emspToken } from '../support/emsp-partner.js';
import { eventually } from '../support/eventually.js';
import { createTestPgliteDatabase, createTestPostgresDatabase, requirePostgres } from '../support/services.js';
import { StationSimulator } from '../support/station-simulator.js';

/**
 * The OCPI 2.2.1 CPO flow end to end, as an eMSP lives it: our real server (projections, CDR
 * issuer and push outbox running in-process), a simulated OCPP 1.6 station, and an eMSP on its
 * own HTTP server (test/support/emsp-partner.ts) that checks every object it receives against
 * ocpi/schemas. One `it` per step; each step builds on the ones before.
 */

/** Projections, pushes and the CDR issuer follow within a second; room for a loaded machine. */
const arrivesWithinMs = 15_000;
const stationId = 'CP-OCPI';
const stationPassword = 'ocpi-flow-password-16';
const locationId = 'LOC-FLOW';
const evseUid = `${stationId}-1`;
/** 1.00 EUR start fee and 0.25 EUR/kWh, 21 % VAT, for the whole tenant. */
const tariff = {
  country_code: 'NL',
  party_id: 'OCS',
  id: 'FLOW-STD',
  currency: 'EUR',
  type: 'REGULAR',
  elements: [{ price_components: [{ type: 'FLAT', price: 1.0, vat: 21, step_size: 0 }, { type: 'ENERGY', price: 0.25, vat: 21, step_size: 1 }] }],
  last_updated: '2025-03-01T00:00:00Z',
};
const locationFacts = {
  name: 'Flow test site',
  address: 'Teststraat 1',
  city: 'Amsterdam',
  postalCode: '1011AA',
  state: null,
  country: 'NLD',
  coordinates: { latitude: '52.37403', longitude: '4.88969' },
  timeZone: 'Europe/Amsterdam',
  parkingType: 'ON_STREET',
  facilities: [],
  openingTimes: { twentyfourseven: true },
  chargingWhenClosed: null,
  directions: [],
  operator: { name: 'Open-CSMS' },
  suboperator: null,
  owner: null,
  publish: true,
};
const evseFacts = {
  evseUid,
  evseId: 'NL*OCS*E1',
  stationId,
  stationEvseId: 1,
  capabilities: ['RFID_READER', 'REMOTE_START_STOP_CAPABLE'],
  physicalReference: null,
  floorLevel: null,
  connectors: [
    { connectorId: '1', stationConnectorId: 1, standard: 'IEC_62196_T2', format: 'SOCKET', powerType: 'AC_3_PHASE', maxVoltage: 230, maxAmperage: 16, maxElectricPowerW: 11_000, tariffIds: ['FLOW-STD'] },
  ],
};
/** Our CPO party, configured (not the default NL/CSM): credentials, locations, sessions, tariffs and CDRs all name it. */
const us = { countryCode: 'NL', partyId: 'OCS' };

const pushedUid = 'DE-EMP-TOKEN-1';
/** The eMSP's authorization_reference in its START_SESSION: the Session and CDR must carry it. */
const startReference = 'AUTH-REF-START-1';
const meterStartWh = 1_000;
const meterMiddleWh = 8_000;
const meterStopWh = 15_000;

/** The eMSP's own bookkeeping fields, not part of the CDR it received. */
const pick = (object: Record<string, unknown>, keys: string[]) => Object.fromEntries(keys.map((key) => [key, object[key]]));
const stripLocal = ({ _location, _storedAs, ...cdr }: Record<string, any>) => cdr;

const ocpiSettings: OcpiSettings = {
  publicUrl: null,
  secret: 'flow-secret-'.repeat(4),
  roles: [{ role: 'CPO', country_code: us.countryCode, party_id: us.partyId, business_details: { name: 'Open-CSMS' } }],
};

const postgres = await requirePostgres();

describe('OCPI 2.2.1 flow: a CPO and an eMSP, a station charging in between', () => {
  let drop: (() => Promise<void>) | null = null;
  let db: SqlDatabase;
  let eventStore: EventStore;
  let bus: CommandBus;
  let server: FastifyInstance;
  let serverUrl: string;
  let ocpi: OcpiModuleContext;
  let background: { stop(): Promise<void> }[] = [];
  let emsp: EmspPartner;
  let station: StationSimulator | null = null;

  beforeAll(async () => {
    if (postgres) {
      const database = await createTestPostgresDatabase('ocpi_flow');
      db = database.open(8);
      drop = database.drop;
    } else {
      db = await createTestPgliteDatabase();
    }
    eventStore = await openPostgresEventStore(db);
    await migrateProjections({ db, eventStore });
    bus = createCommandBus({ eventStore, clock: systemClock });
    const owner = 'ocpi-flow-test';
    background = [startProjectionRunners({ db, eventStore }, { owner }), startCdrIssuer({ db, eventStore, bus, config: billingConfigFor(ourParty(ocpiSettings)), siteOf: locationsCdrSiteLookup(db, us) }, { owner })];
    server = await buildServer({
      db,
      eventStore,
      bus,
      logLevel: 'silent',
      ocpp: { ...ocppSettingsDefault, unknownStations: 'reject' },
      ocpi: ocpiSettings,
      ocpiModules: [(context) => void (ocpi = context)],
    });
    serverUrl = (await server.listen({ host: '127.0.0.1', port: 0 })).replace('localhost', '127.0.0.1');
    // Short timeouts and backoff: a failed push is retried within a second, not ten minutes.
    background.push(
      startOcpiPush(
        { db, eventStore, tenantId: 'default', settings: ocpiSettings, clock: systemClock, log: () => {}, client: { timeoutMs: 2_000 }, retryDelayBaseMs: 100 },
        { owner, pollMs: 50, producerPollMs: 50 },
      ),
    );
    emsp = await EmspPartner.start({ tokensPageSize: 1, client: { timeoutMs: 5_000, retryDelayBaseMs: 20 } });
  }, 60_000);

  afterAll(async () => {
    await station?.close().catch(() => {});
    await emsp?.close();
    await server?.close();
    for (const task of background) await task.stop();
    await eventStore?.close().catch(() => {});
    await db?.close().catch(() => {});
    await drop?.();
  });

  const operator = () => ({ bus, clock: systemClock, tenantId: 'default', actor: 'user:test' });
  /** A command as an operator sends it (the CLI's way: one command id per action). */
  const send = (aggregateId: string, command: Parameters<CommandBus['send']>[0]['command']) => {
    const id = `test:${command.type}:${aggregateId}:${Date.now()}:${Math.random()}`;
    return bus.send({ commandId: id, tenantId: 'default', aggregateId, actor: 'user:test', correlationId: id, occurredAt: new Date().toISOString(), command });
  };

  it('handshake: the eMSP registers with us with an invitation token A', async () => {
    const invitation = await inviteOcpiPartner(ocpi.credentials, 'emsp', `${serverUrl}/ocpi/versions`, 'user:test');
    await emsp.registerWith(invitation.versionsUrl, invitation.token);
    expect(emsp.tokenToUs).not.toBeNull();
    expect(emsp.ourParty).toEqual(us);
    // What a CPO offers an eMSP (spec 5 "Interfaces and endpoints" per module and role).
    const offered = emsp.ourEndpoints.map((e) => `${e.identifier} ${e.role}`);
    for (const endpoint of ['credentials SENDER', 'credentials RECEIVER', 'locations SENDER', 'sessions SENDER', 'cdrs SENDER', 'tariffs SENDER', 'tokens RECEIVER', 'commands RECEIVER']) {
      expect(offered).toContain(endpoint);
    }
    // We read its versions with the token it gave us.
    expect(emsp.requestsTo('/ocpi/versions', 'GET').length).toBeGreaterThan(0);
    await eventually(async () => {
      const { rows } = await db.query<{ status: string }>(`SELECT status FROM proj_partners.partners WHERE partner_id = 'emsp'`);
      return rows[0]?.status === 'registered';
    }, arrivesWithinMs, 'the partner registered in the read model');
  });

  /** Our endpoint of a module as listed in our version details (as the eMSP learned them in the handshake). */
  const ours = (identifier: string, role: 'SENDER' | 'RECEIVER') => {
    const url = emsp.ourEndpoints.find((e) => e.identifier === identifier && e.role === role)?.url;
    if (url === undefined) throw new Error(`our version details list no ${identifier} ${role}: ${JSON.stringify(emsp.ourEndpoints)}`);
    return url;
  };
  /** A step that builds on an earlier one skips, saying so, when that one failed (its failure is the report). */
  const after = (skip: (note: string) => void, value: unknown, step: string) => {
    if (value === undefined) skip(`needs the ${step} step`);
  };

  it('an operator adds a tariff and a location with an EVSE for the station; both are pushed', async () => {
    await send('FLOW-STD', { type: 'CreateTariff', tariff, createdAt: new Date().toISOString() });
    await send('tenant', { type: 'AttachTariff', tariffId: 'FLOW-STD', scope: { kind: 'tenant' }, attachedAt: new Date().toISOString() });
    // The site, through the operator REST API (loopback, no admin token configured).
    const rest = async (method: string, path: string, body: unknown) => {
      const response = await fetch(`${serverUrl}/api${path}`, { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      expect(response.status, `${method} ${path}: ${await response.clone().text()}`).toBe(201);
    };
    await rest('POST', '/locations', { id: locationId, ...locationFacts });
    // The location first: an EVSE pushed right behind it can overtake it (the faults test covers that).
    await eventually(async () => emsp.locations.get(`NL/OCS/${locationId}`), arrivesWithinMs, 'the location PUT at the eMSP');
    await rest('PUT', `/locations/${locationId}/evses/${evseUid}`, evseFacts);
    const pushed = await eventually(async () => emsp.tariffs.get('NL/OCS/FLOW-STD'), arrivesWithinMs, 'the tariff PUT at the eMSP');
    expect(pushed).toMatchObject({ id: 'FLOW-STD', currency: 'EUR', elements: tariff.elements });
    const location = await eventually(async () => emsp.locations.get(`NL/OCS/${locationId}`), arrivesWithinMs, 'the location PUT at the eMSP');
    expect(location).toMatchObject({ country_code: 'NL', party_id: 'OCS', id: locationId, country: 'NLD', time_zone: 'Europe/Amsterdam' });
    const evse = await eventually(async () => (emsp.locations.get(`NL/OCS/${locationId}`)?.evses as any[] | undefined)?.find((e) => e.uid === evseUid), arrivesWithinMs, 'the EVSE at the eMSP');
    expect(evse).toMatchObject({ uid: evseUid, evse_id: 'NL*OCS*E1', connectors: [{ id: '1', standard: 'IEC_62196_T2', tariff_ids: ['FLOW-STD'] }] });
  });

  const status = (value: string) => station!.call('StatusNotification', { connectorId: 1, errorCode: 'NoError', status: value, timestamp: new Date().toISOString() });
  const authorize = async (idTag: string) => ((await station!.call('Authorize', { idTag })) as { idTagInfo: { status: string } }).idTagInfo.status;

  it('a station connects and reports its connector (precondition of the rest)', async () => {
    await registerStation(operator(), { stationId, password: stationPassword });
    station = await StationSimulator.connect({
      url: `${serverUrl.replace(/^http/, 'ws')}/ocpp`,
      stationId,
      protocols: ['ocpp1.6'],
      password: stationPassword,
      handlers: { RemoteStartTransaction: () => ({ status: 'Accepted' }), RemoteStopTransaction: () => ({ status: 'Accepted' }) },
    });
    expect(await station.call('BootNotification', { chargePointVendor: 'ACME', chargePointModel: 'OCPI-16' })).toMatchObject({ status: 'Accepted' });
    await status('Available');
  });

  it('token push: the eMSP PUTs a token, reads it back, and the station Authorize accepts it', async () => {
    const token = emspToken(pushedUid);
    const url = `${ours('tokens', 'RECEIVER')}/DE/EMP/${pushedUid}?type=RFID`;
    const put = await emsp.call(url, { method: 'PUT', body: token, data: z.unknown() });
    expect([200, 201]).toContain(put.httpStatus);
    // GET answers from the tokens read model, which follows the PUT within moments.
    const read = await eventually(async () => emsp.call(url, { data: tokenSchema }), arrivesWithinMs, 'the pushed token readable');
    expect(read.data).toMatchObject({ uid: pushedUid, contract_id: token.contract_id, valid: true, whitelist: 'ALLOWED' });
    expect(await eventually(async () => ((await authorize(pushedUid)) === 'Accepted' ? 'Accepted' : undefined), arrivesWithinMs, 'Authorize accepted')).toBe('Accepted');
  });

  it('real-time authorization of unknown tokens: the eMSP allows one and blocks the other', async () => {
    emsp.authorizeAnswers.set('RT-ALLOWED', 'ALLOWED');
    emsp.authorizeAnswers.set('RT-BLOCKED', 'BLOCKED');
    expect(await authorize('RT-ALLOWED')).toBe('Accepted');
    expect(await authorize('RT-BLOCKED')).toBe('Blocked');
    const asked = emsp.requestsTo(/\/tokens\/RT-(ALLOWED|BLOCKED)\/authorize$/, 'POST');
    expect(asked.map((r) => r.path.split('/').at(-2))).toEqual(['RT-ALLOWED', 'RT-BLOCKED']);
    for (const request of asked) expect(request.routing).toEqual({ from: 'NL/OCS', to: 'DE/EMP' });
    // An eMSP answering too slowly does not hold the station: it gets an answer within our timeout, not an acceptance.
    emsp.authorizeAnswers.set('RT-SLOW', 'ALLOWED');
    emsp.authorizeDelayMs = realtimeTimeoutMsDefault + 2_000;
    const before = Date.now();
    try {
      expect(await authorize('RT-SLOW')).not.toBe('Accepted');
      expect(Date.now() - before).toBeLessThan(realtimeTimeoutMsDefault + 1_500);
    } finally {
      emsp.authorizeDelayMs = 0;
    }
  });

  let sessionId: string;
  let transactionId: number;
  let startedAt: string;

  it('remote START_SESSION through the station, with the asynchronous CommandResult', async () => {
    const response = await emsp.call(`${ours('commands', 'RECEIVER')}/START_SESSION`, {
      method: 'POST',
      body: { response_url: emsp.responseUrl('start-1'), token: emspToken(pushedUid), location_id: locationId, evse_uid: evseUid, authorization_reference: startReference },
      data: commandResponseSchema,
    }, undefined, 'correlation-start-1');
    expect(response.data.result).toBe('ACCEPTED');
    const results = await eventually(async () => emsp.commandResults.get('start-1'), arrivesWithinMs, 'the START_SESSION CommandResult');
    expect(results).toEqual([{ result: 'ACCEPTED' }]);
    // The result belongs to the same conversation (spec 4.2: X-Correlation-ID kept along the chain).
    expect(emsp.requestsTo('/commands/results/start-1', 'POST').map((r) => r.correlationId)).toEqual(['correlation-start-1']);
    const remoteStart = station!.callsReceived.find((call) => call.action === 'RemoteStartTransaction');
    expect(remoteStart?.payload).toMatchObject({ idTag: pushedUid, connectorId: 1 });
    // The driver plugs in: the station starts the transaction it was asked for.
    await status('Preparing');
    startedAt = new Date().toISOString();
    const started = (await station!.call('StartTransaction', { connectorId: 1, idTag: pushedUid, meterStart: meterStartWh, timestamp: startedAt })) as { transactionId: number; idTagInfo: { status: string } };
    expect(started.idTagInfo.status).toBe('Accepted');
    transactionId = started.transactionId;
    // Pushes carry the newest state: wait for PENDING to arrive before the session moves on.
    await eventually(async () => [...emsp.sessions.values()].find((s) => s.status === 'PENDING'), arrivesWithinMs, 'a PENDING session at the eMSP');
    await status('Charging');
  });

  it('EVSE status pushes: the connector charging becomes a PATCH of the EVSE at the eMSP', async ({ skip }) => {
    after(skip, transactionId, 'remote start');
    const patched = await eventually(
      async () => emsp.requestsTo(`/locations/NL/OCS/${locationId}/${evseUid}`, 'PATCH').find((r) => (r.body as { status?: string }).status === 'CHARGING'),
      arrivesWithinMs,
      'an EVSE PATCH with status CHARGING',
    );
    expect(patched.body).toMatchObject({ status: 'CHARGING', last_updated: expect.stringMatching(/Z$/) });
    const evse = (emsp.locations.get(`NL/OCS/${locationId}`)?.evses as any[]).find((e) => e.uid === evseUid);
    expect(evse.status).toBe('CHARGING');
  });

  it('remote STOP_SESSION through the station, with the asynchronous CommandResult', async ({ skip }) => {
    after(skip, transactionId, 'remote start');
    await station!.call('MeterValues', {
      connectorId: 1,
      transactionId,
      meterValue: [{ timestamp: new Date().toISOString(), sampledValue: [{ value: String(meterMiddleWh), measurand: 'Energy.Active.Import.Register', unit: 'Wh' }] }],
    });
    const session = await eventually(async () => [...emsp.sessions.values()].find((s) => s.status === 'ACTIVE'), arrivesWithinMs, 'an ACTIVE session at the eMSP');
    sessionId = session.id;
    const response = await emsp.call(`${ours('commands', 'RECEIVER')}/STOP_SESSION`, {
      method: 'POST',
      body: { response_url: emsp.responseUrl('stop-1'), session_id: sessionId },
      data: commandResponseSchema,
    });
    expect(response.data.result).toBe('ACCEPTED');
    expect(await eventually(async () => emsp.commandResults.get('stop-1'), arrivesWithinMs, 'the STOP_SESSION CommandResult')).toEqual([{ result: 'ACCEPTED' }]);
    expect(station!.callsReceived.find((call) => call.action === 'RemoteStopTransaction')?.payload).toEqual({ transactionId });
    await station!.call('StopTransaction', { transactionId, idTag: pushedUid, meterStop: meterStopWh, timestamp: new Date().toISOString(), reason: 'Remote' });
    await status('Finishing');
    await status('Available');
  });

  it('session pushes: pending → active → completed, with energy and the eMSP token', async ({ skip }) => {
    after(skip, sessionId, 'remote stop');
    const session = await eventually(async () => {
      const found = [...emsp.sessions.values()].find((s) => s.id === sessionId);
      return found?.status === 'COMPLETED' ? found : undefined;
    }, arrivesWithinMs, 'the COMPLETED session at the eMSP');
    expect(session).toMatchObject({ country_code: 'NL', party_id: 'OCS', location_id: locationId, evse_uid: evseUid, connector_id: '1', currency: 'EUR' });
    expect(session.cdr_token).toMatchObject({ uid: pushedUid, type: 'RFID', country_code: 'DE', party_id: 'EMP' });
    expect(Number(session.kwh)).toBeCloseTo(14, 4);
    // The statuses in the order the eMSP received them (PUT bodies and PATCHes).
    const statuses = emsp
      .requestsTo(`/sessions/NL/OCS/${sessionId}`)
      .map((r) => (r.body as { status?: string } | undefined)?.status)
      .filter((s): s is string => s !== undefined)
      .filter((s, i, all) => i === 0 || all[i - 1] !== s);
    expect(statuses).toEqual(['PENDING', 'ACTIVE', 'COMPLETED']);
  });

  let cdr: Record<string, any>;

  it('CDR push: POSTed with a Location header, valid against the schema and the spec rules', async ({ skip }) => {
    after(skip, sessionId, 'remote stop');
    cdr = await eventually(async () => [...emsp.cdrs.values()].find((c) => c.session_id === sessionId), arrivesWithinMs, 'the CDR at the eMSP');
    expect(cdrSchema.safeParse(stripLocal(cdr)).success).toBe(true);
    // The party the eMSP learned from our credentials in the handshake.
    expect({ countryCode: cdr.country_code, partyId: cdr.party_id }).toEqual(emsp.ourParty);
    expect(cdr).toMatchObject({
      country_code: 'NL',
      party_id: 'OCS',
      currency: 'EUR',
      cdr_token: { uid: pushedUid, type: 'RFID', contract_id: emspToken(pushedUid).contract_id, country_code: 'DE', party_id: 'EMP' },
      cdr_location: { connector_id: '1', country: 'NLD', connector_standard: 'IEC_62196_T2' },
      tariffs: [{ id: 'FLOW-STD' }],
    });
    // Totals by hand: 1.00 + 14 kWh × 0.25 = 4.50 excl. VAT; × 1.21 = 5.445 → 5.45.
    expect(Number(cdr.total_energy)).toBeCloseTo(14, 4);
    expect(Number(cdr.total_cost.excl_vat)).toBeCloseTo(4.5, 4);
    expect(Number(cdr.total_cost.incl_vat)).toBeCloseTo(5.45, 4);
    expect(Number(cdr.total_fixed_cost.excl_vat) + Number(cdr.total_energy_cost.excl_vat)).toBeCloseTo(4.5, 4);
    expect(Number(cdr.total_time)).toBeGreaterThan(0);
    for (const at of [cdr.start_date_time, cdr.end_date_time, cdr.last_updated, ...cdr.charging_periods.map((p: { start_date_time: string }) => p.start_date_time)]) {
      expect(at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/);
    }
    expect(Date.parse(cdr.start_date_time)).toBe(Date.parse(startedAt));
    expect(Date.parse(cdr.end_date_time)).toBeGreaterThan(Date.parse(cdr.start_date_time));
    expect(emsp.requestsTo('/cdrs', 'POST')).toHaveLength(1);
    // The Location the eMSP answered is its own URL of the CDR: GET there gives it back.
    const fetched = await ocpiRequest(cdr._location, { data: cdrSchema }, { token: emsp.tokenForUs, routing: { from: us, to: { countryCode: 'DE', partyId: 'EMP' } } });
    expect(fetched.data).toEqual(stripLocal(cdr));
    // We keep that Location, to find our CDR in its system later.
    const kept = await eventually(async () => {
      const { rows } = await db.query<{ response_location: string | null }>(
        `SELECT response_location FROM ocpi_outbox.pushes WHERE module = 'cdrs' AND object_key = $1 AND state = 'delivered'`,
        [cdr.id],
      );
      return rows.length > 0 ? rows.map((row) => row.response_location) : undefined;
    }, arrivesWithinMs, 'the CDR push marked delivered');
    expect(kept).toEqual([cdr._location]);
  });

  it('the CDR names the location, EVSE and connector of its session', ({ skip }) => {
    after(skip, cdr, 'CDR push');
    const session = [...emsp.sessions.values()].find((s) => s.id === sessionId)!;
    expect(session).toMatchObject({ location_id: locationId, evse_uid: evseUid });
    expect(pick(cdr.cdr_location, ['id', 'evse_uid', 'evse_id', 'connector_id'])).toEqual({
      id: session.location_id,
      evse_uid: session.evse_uid,
      evse_id: 'NL*OCS*E1',
      connector_id: session.connector_id,
    });
  });

  // 1.6 StartTransaction does not name the RemoteStartTransaction it follows: it claims the remote
  // start recorded for this station and idTag (domain/station/remote-start).
  it('a remote-started session and its CDR say auth_method COMMAND, with the START_SESSION authorization_reference', ({ skip }) => {
    after(skip, cdr, 'CDR push');
    const session = [...emsp.sessions.values()].find((s) => s.id === sessionId)!;
    const expected = { auth_method: 'COMMAND', authorization_reference: startReference };
    expect(pick(session, ['auth_method', 'authorization_reference'])).toEqual(expected);
    expect(pick(cdr, ['auth_method', 'authorization_reference'])).toEqual(expected);
  });

  it('a local start the eMSP authorized in real time: its Session and CDR say AUTH_REQUEST, with the eMSP reference', async ({ skip }) => {
    after(skip, cdr, 'CDR push');
    // The eMSP now answers for its token (whitelist ALLOWED: we ask it first).
    emsp.authorizeAnswers.set(pushedUid, 'ALLOWED');
    await status('Preparing');
    const started = (await station!.call('StartTransaction', { connectorId: 1, idTag: pushedUid, meterStart: meterStopWh, timestamp: new Date().toISOString() })) as { transactionId: number; idTagInfo: { status: string } };
    expect(started.idTagInfo.status).toBe('Accepted');
    await status('Charging');
    await station!.call('StopTransaction', { transactionId: started.transactionId, idTag: pushedUid, meterStop: meterStopWh + 1_000, timestamp: new Date().toISOString(), reason: 'Local' });
    await status('Available');
    const id = String(started.transactionId);
    const session = await eventually(async () => [...emsp.sessions.values()].find((s) => s.id === id && s.status === 'COMPLETED'), arrivesWithinMs, 'the real-time session COMPLETED at the eMSP');
    const issued = await eventually(async () => [...emsp.cdrs.values()].find((c) => c.session_id === id), arrivesWithinMs, 'the real-time session CDR at the eMSP');
    const expected = { auth_method: 'AUTH_REQUEST', authorization_reference: `AUTH-${pushedUid}` };
    expect(pick(session, ['auth_method', 'authorization_reference'])).toEqual(expected);
    expect(pick(issued, ['auth_method', 'authorization_reference'])).toEqual(expected);
  });

  it('a credit CDR is pushed after an operator credits the CDR', async ({ skip }) => {
    after(skip, cdr, 'CDR push');
    const creditId = creditCdrIdFor(cdr.id);
    await send(cdr.id, { type: 'CreditCdr', creditCdrId: creditId, creditedAt: new Date().toISOString(), reason: 'e2e: goodwill' });
    const credit = await eventually(async () => emsp.cdrs.get(creditId), arrivesWithinMs, 'the credit CDR at the eMSP');
    expect(cdrSchema.safeParse(stripLocal(credit)).success).toBe(true);
    expect(credit).toMatchObject({ credit: true, credit_reference_id: cdr.id, currency: 'EUR', session_id: sessionId });
    expect(Number(credit.total_cost.incl_vat)).toBeCloseTo(-5.45, 4);
    expect(Number(credit.total_energy)).toBeCloseTo(-14, 4);
  });

  it('full and delta pulls of locations, tariffs, sessions and CDRs, one object per page', async ({ skip }) => {
    const modules = ['locations', 'tariffs', 'sessions', 'cdrs'] as const;
    // Sessions and CDRs exist only once the charging steps above ran.
    after(skip, cdr, 'CDR push');
    for (const module of modules) {
      const url = ours(module, 'SENDER')!;
      const full = await emsp.getPages(`${url}?limit=1`, z.object({ id: z.string(), last_updated: z.string() }).loose());
      expect(full.items.length, module).toBeGreaterThan(0);
      expect(full.pages.map((page) => page.count), module).toEqual(full.items.map(() => 1));
      for (const page of full.pages) expect(page.total, module).toBe(String(full.items.length));
      expect(new Set(full.items.map((item) => item.id)).size, `${module}: no object twice`).toBe(full.items.length);
      // Oldest first (spec 4.1.4.1 on last_updated), so a delta from the newest gives at least it.
      const times = full.items.map((item) => Date.parse(item.last_updated));
      expect([...times].sort((a, b) => a - b), module).toEqual(times);
      const newest = full.items.at(-1)!;
      const delta = await emsp.getPages(`${url}?limit=1&date_from=${encodeURIComponent(newest.last_updated)}`, z.object({ id: z.string(), last_updated: z.string() }).loose());
      expect(delta.items.map((item) => item.id), module).toEqual(full.items.filter((item) => Date.parse(item.last_updated) >= Date.parse(newest.last_updated)).map((item) => item.id));
      const future = await emsp.getPages(`${url}?limit=1&date_from=2999-01-01T00:00:00Z`, z.unknown());
      expect(future.items, module).toEqual([]);
    }
    const schemas = { locations: locationSchema, tariffs: tariffSchema, sessions: sessionSchema, cdrs: cdrSchema } as const;
    for (const module of modules) {
      const all = await emsp.getPages(ours(module, 'SENDER')!, z.unknown());
      for (const item of all.items) expect(schemas[module].safeParse(item).error, module).toBeUndefined();
    }
  });

  it('unregister: DELETE credentials, after which the eMSP token gets 401', async () => {
    const token = emsp.tokenToUs!;
    await emsp.unregister();
    const after = await fetch(emsp.endpoint('credentials'), { headers: { authorization: `Token ${Buffer.from(token).toString('base64')}` } });
    expect(after.status).toBe(401);
    const refused = await emsp.call(ours('locations', 'SENDER'), { data: z.unknown() }, token).catch((error: unknown) => error);
    expect(refused).toMatchObject({ details: { httpStatus: 401 } });
  });

  it('the eMSP recorded no schema or protocol failure', () => {
    expect(emsp.validationFailures).toEqual([]);
    // A new X-Request-ID for every request we sent it, retries included (spec 4.2).
    const requestIds = emsp.requests.map((r) => r.requestId);
    expect(new Set(requestIds).size).toBe(requestIds.length);
  });
});

