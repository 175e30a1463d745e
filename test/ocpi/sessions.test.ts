import { randomUUID } from 'node:crypto';
import { Decimal } from 'decimal.js';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixedClock, systemClock } from '../../adapters/clock/clock.js';
import { openPostgresEventStore } from '../../adapters/event-store/postgres.js';
import type { EventStore } from '../../adapters/event-store/port.js';
import type { SqlDatabase } from '../../adapters/sql/port.js';
import { buildServer } from '../../api/server.js';
import { createCommandBus, type CommandBus } from '../../commands/index.js';
import { ocpiSessionsSkipped } from '../../ocpi/sessions/read.js';
import { sessionsPushSource } from '../../ocpi/sessions/push.js';
import { chargingPreferencesResponseSchema, sessionPatchSchema, sessionSchema, type Session } from '../../ocpi/schemas/index.js';
import { authorizationHeader, credentialsTokenHash, newCredentialsToken } from '../../ocpi/transport/auth.js';
import { nextLink } from '../../ocpi/transport/pagination.js';
import { migrateProjections, startProjectionRunners } from '../../projections/index.js';
import { locationsProjection } from '../../projections/locations.js';
import { ocpiSessionsProjection } from '../../projections/ocpi-sessions.js';
import { partnersProjection } from '../../projections/partners.js';
import { createTestPgliteDatabase } from '../support/services.js';

/**
 * The Sessions Sender interface of our real server (PGlite, projections running): an eMSP (DE/EMP)
 * sees the sessions of its own tokens, a HUB sees all; charging preferences reach the transaction.
 * The location is declared with the location commands, as an operator would.
 */

const us = { countryCode: 'NL', partyId: 'CSM' };
const at = (minute: number) => new Date(Date.UTC(2025, 2, 1, 10, minute)).toISOString();
const site = {
  name: 'Depot', address: 'Stationsplein 1', city: 'Utrecht', postalCode: '3511', state: null, country: 'NLD',
  coordinates: { latitude: '52.08920', longitude: '5.11040' }, timeZone: 'Europe/Amsterdam', parkingType: 'PARKING_LOT',
  facilities: [], openingTimes: null, chargingWhenClosed: null, directions: [], operator: null, suboperator: null, owner: null, publish: true,
};
const evse = {
  evseUid: 'EVSE-1', evseId: 'NL*CSM*E1', stationId: 'CP-1', stationEvseId: 1, capabilities: [], physicalReference: null, floorLevel: null,
  connectors: [{ connectorId: 'C1', stationConnectorId: 1, standard: 'IEC_62196_T2', format: 'SOCKET', powerType: 'AC_3_PHASE', maxVoltage: 230, maxAmperage: 16, maxElectricPowerW: 11_000, tariffIds: [] }],
};

describe('OCPI sessions (Sender)', () => {
  let db: SqlDatabase;
  let eventStore: EventStore;
  let bus: CommandBus;
  let server: FastifyInstance;
  let serverUrl: string;
  let runners: { stop(): Promise<void>; idle(): Promise<void> };
  const emspToken = newCredentialsToken();
  const hubToken = newCredentialsToken();
  let unlocatedBefore = 0;

  const send = (aggregateId: string, command: Parameters<CommandBus['send']>[0]['command']) =>
    bus.send({ commandId: randomUUID(), tenantId: 'default', aggregateId, actor: 'user:test', correlationId: randomUUID(), occurredAt: new Date().toISOString(), command });
  const register = async (partnerId: string, role: 'EMSP' | 'HUB', party: { countryCode: string; partyId: string }, token: string) => {
    await send(partnerId, { type: 'IssueRegistrationToken', tokenTheyPresent: { token: 'A', tokenHash: credentialsTokenHash(newCredentialsToken()) } });
    return send(partnerId, {
      type: 'RegisterPartner', initiatedBy: 'partner',
      connection: { roles: [{ role, ...party, businessDetails: { name: partnerId } }], version: '2.2.1', versionsUrl: 'http://127.0.0.1:1/ocpi/versions', endpoints: [] },
      tokenWePresent: { token: 'B', tokenSealed: newCredentialsToken() },
      tokenTheyPresent: { token: 'C', tokenHash: credentialsTokenHash(token) },
    });
  };
  const issueToken = (uid: string, countryCode: string, partyId: string) =>
    send(`${countryCode}-${partyId}-${uid}`, { type: 'IssueToken', uid, tokenType: 'RFID', contractId: `${countryCode}-${partyId}-C${uid}`, issuer: partyId, whitelist: 'ALLOWED', source: 'ocpi', countryCode, partyId });
  const start = (id: string, uid: string | null, stationId = 'CP-1') =>
    send(id, {
      type: 'StartTransaction', transactionId: id, stationId, evseId: 1, connectorId: 1, startedAt: at(0), meterStartWh: new Decimal('1000.5'),
      idToken: uid === null ? null : { idToken: uid, type: 'ISO14443' },
    });
  /** Gives the next event a later recordedAt, so last_updated orders the sessions as the test writes them. */
  const tick = () => new Promise((resolve) => setTimeout(resolve, 20));

  beforeAll(async () => {
    db = await createTestPgliteDatabase();
    eventStore = await openPostgresEventStore(db);
    await migrateProjections({ db, eventStore });
    bus = createCommandBus({ eventStore, clock: systemClock });
    runners = startProjectionRunners({ db, eventStore }, { projections: [partnersProjection, locationsProjection, ocpiSessionsProjection] });
    server = await buildServer({
      // The server's "now" closes an active session's last charging period.
      db, eventStore, bus, logLevel: 'silent', clock: fixedClock(at(25)),
      ocpi: { publicUrl: null, secret: null, roles: [{ role: 'CPO', country_code: 'NL', party_id: 'CSM', business_details: { name: 'Open-CSMS test' } }] },
    });
    serverUrl = await server.listen({ host: '127.0.0.1', port: 0 });
    await register('emsp', 'EMSP', { countryCode: 'DE', partyId: 'EMP' }, emspToken);
    await register('hub', 'HUB', { countryCode: 'NL', partyId: 'HUB' }, hubToken);
    await send('LOC-A', { type: 'DeclareLocation', locationId: 'LOC-A', facts: site });
    await send('LOC-A', { type: 'AssignEvse', locationId: 'LOC-A', evse });
    await issueToken('CARD-EMP', 'DE', 'EMP');
    await issueToken('CARD-OTH', 'FR', 'OTH');
    await runners.idle();

    // Oldest first: an active session, a finished one, one at a station in no location, another party's, a local one.
    await start('tx-emp-1', 'CARD-EMP');
    await send('tx-emp-1', { type: 'RecordChargingState', stationId: 'CP-1', state: 'Charging', changedAt: at(1) });
    await send('tx-emp-1', { type: 'RecordMeterReading', stationId: 'CP-1', sampledAt: at(10), registerWh: new Decimal('1500.6') });
    await tick();
    await start('tx-emp-2', 'CARD-EMP');
    await send('tx-emp-2', { type: 'EndTransaction', stationId: 'CP-1', endedAt: at(20), meterStopWh: new Decimal('3000'), reason: 'Local' });
    await tick();
    await start('tx-nowhere', 'CARD-EMP', 'CP-9');
    await tick();
    await start('tx-oth', 'CARD-OTH');
    await tick();
    await start('tx-local', null);
    await runners.idle();
    unlocatedBefore = ocpiSessionsSkipped.unlocated;
  });
  afterAll(async () => {
    await server?.close();
    await runners?.stop();
    await eventStore?.close().catch(() => {});
    await db?.close().catch(() => {});
  });

  type JsonResponse = Omit<Response, 'json'> & { json(): Promise<any> };
  const call = (url: string, token: string, method = 'GET', body?: unknown): Promise<JsonResponse> =>
    fetch(url.startsWith('http') ? url : `${serverUrl}/ocpi/2.2.1/sessions${url}`, {
      method,
      headers: {
        authorization: authorizationHeader(token), 'x-correlation-id': `corr-${method}-${url}`.slice(0, 200).replace(/[^\x21-\x7e]/g, '_'),
        'OCPI-from-country-code': 'DE', 'OCPI-from-party-id': 'EMP', 'OCPI-to-country-code': 'NL', 'OCPI-to-party-id': 'CSM',
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  /** Every page following Link; each session checked against the OCPI schema. */
  async function crawl(first: string, token: string): Promise<{ sessions: Session[]; pages: number; totals: string[] }> {
    const sessions: Session[] = [];
    const totals: string[] = [];
    let pages = 0;
    for (let next: string | null = first; next !== null; pages += 1) {
      if (pages > 20) throw new Error('too many pages');
      const response = await call(next, token);
      expect(response.status).toBe(200);
      const body = await response.json();
      for (const item of body.data) sessions.push(sessionSchema.parse(item));
      totals.push(response.headers.get('x-total-count')!);
      next = nextLink(response.headers.get('link'));
    }
    return { sessions, pages, totals };
  }

  it('lists the eMSP its own sessions, one per page following Link, oldest first; a session in no location is skipped and counted', async () => {
    const { sessions, pages, totals } = await crawl('?limit=1', emspToken);
    expect(sessions.map((s) => s.id)).toEqual(['tx-emp-1', 'tx-emp-2']);
    // tx-nowhere matches the filters (so the total counts it) but cannot be expressed in OCPI.
    expect(pages).toBe(3);
    expect(totals).toEqual(['3', '3', '3']);
    expect(ocpiSessionsSkipped.unlocated).toBeGreaterThan(unlocatedBefore);

    const [active, completed] = sessions as [Session, Session];
    expect(active).toMatchObject({
      country_code: 'NL', party_id: 'CSM', status: 'ACTIVE', kwh: 0.5001, location_id: 'LOC-A', evse_uid: 'EVSE-1', connector_id: 'C1', currency: 'EUR',
      auth_method: 'WHITELIST', cdr_token: { country_code: 'DE', party_id: 'EMP', uid: 'CARD-EMP', type: 'RFID', contract_id: 'DE-EMP-CCARD-EMP' },
    });
    expect(active.charging_periods?.map((p) => [p.start_date_time, p.dimensions])).toEqual([
      ['2025-03-01T10:00:00Z', [{ type: 'ENERGY', volume: 0 }, { type: 'PARKING_TIME', volume: 0.0167 }]],
      ['2025-03-01T10:01:00Z', [{ type: 'ENERGY', volume: 0.5001 }, { type: 'TIME', volume: 0.4 }]],
    ]);
    expect(completed).toMatchObject({ status: 'COMPLETED', kwh: 1.9995, end_date_time: '2025-03-01T10:20:00Z' });
  });

  it('filters on last_updated: date_from inclusive, date_to exclusive', async () => {
    const all = (await crawl('', hubToken)).sessions;
    const second = all.find((s) => s.id === 'tx-emp-2')!;
    const from = (await crawl(`?date_from=${second.last_updated}`, emspToken)).sessions.map((s) => s.id);
    expect(from).toEqual(['tx-emp-2']);
    const to = (await crawl(`?date_to=${second.last_updated}`, emspToken)).sessions.map((s) => s.id);
    expect(to).toEqual(['tx-emp-1']);
  });

  it('a HUB sees every session, of any party and our own', async () => {
    const ids = (await crawl('', hubToken)).sessions.map((s) => s.id);
    expect(ids).toEqual(['tx-emp-1', 'tx-emp-2', 'tx-oth', 'tx-local']);
    const local = (await crawl('', hubToken)).sessions.find((s) => s.id === 'tx-local')!;
    expect(local.cdr_token).toMatchObject({ country_code: 'NL', party_id: 'CSM', uid: 'UNKNOWN', type: 'OTHER' });
  });

  it('charging preferences: ACCEPTED and recorded for an active session, NOT_POSSIBLE once ended, 2003 for unknown or other parties', async () => {
    const preferences = { profile_type: 'FAST', departure_time: '2025-03-01T18:00:00Z', energy_need: 12.3, discharge_allowed: false };
    const accepted = await call('/tx-emp-1/charging_preferences', emspToken, 'PUT', preferences);
    expect(accepted.status).toBe(200);
    expect(chargingPreferencesResponseSchema.parse((await accepted.json()).data)).toBe('ACCEPTED');
    const stream = await eventStore.readStream('transaction-default-tx-emp-1');
    const recorded = stream.find((e) => e.type === 'ChargingPreferencesSet')!;
    expect(recorded.data).toMatchObject({ profileType: 'FAST', departureTime: '2025-03-01T18:00:00.000Z', energyNeedKwh: '12.3', dischargeAllowed: false });
    expect(recorded.metadata).toMatchObject({ actor: 'partner:emsp', correlationId: 'corr-PUT-/tx-emp-1/charging_preferences' });

    const ended = await call('/tx-emp-2/charging_preferences', emspToken, 'PUT', preferences);
    expect((await ended.json()).data).toBe('NOT_POSSIBLE');
    for (const id of ['tx-unknown', 'tx-oth']) {
      const refused = await call(`/${id}/charging_preferences`, emspToken, 'PUT', preferences);
      expect(refused.status).toBe(404);
      expect((await refused.json()).status_code).toBe(2003);
    }
    const invalid = await call('/tx-emp-1/charging_preferences', emspToken, 'PUT', { profile_type: 'SLOW' });
    expect((await invalid.json()).status_code).toBe(2001);
  });

  it('push: PUT of the whole session, PATCH without periods, nothing for another party', async () => {
    const context = { db, tenantId: 'default', us, partner: { partnerId: 'emsp', parties: [{ countryCode: 'DE', partyId: 'EMP' }] } };
    const put = await sessionsPushSource.build(context, 'tx-emp-1', 'object');
    expect(put).toMatchObject({ method: 'PUT', path: '/NL/CSM/tx-emp-1' });
    expect(sessionSchema.parse(put!.body).charging_periods).toHaveLength(2);
    const patch = await sessionsPushSource.build(context, 'tx-emp-1', 'status');
    expect(patch?.method).toBe('PATCH');
    expect(sessionPatchSchema.parse(patch!.body)).toEqual({ kwh: 0.5001, status: 'ACTIVE', last_updated: expect.any(String) });
    const ended = await sessionsPushSource.build(context, 'tx-emp-2', 'object');
    expect(sessionSchema.parse(ended!.body).status).toBe('COMPLETED');
    expect(await sessionsPushSource.build(context, 'tx-oth', 'object')).toBeNull();
    expect(await sessionsPushSource.build(context, 'tx-nowhere', 'object')).toBeNull();
    expect(await sessionsPushSource.listKeys(context, null, 10)).toEqual(['tx-emp-1', 'tx-emp-2', 'tx-nowhere', 'tx-oth', 'tx-local']);
    expect(await sessionsPushSource.listKeys(context, 'tx-nowhere', 10)).toEqual(['tx-oth', 'tx-local']);
    const changeOf = (type: string) => sessionsPushSource.triggers({ type, streamId: 'transaction-default-tx-emp-1' } as never).map((t) => t.change);
    expect(['TransactionStarted', 'MeterReadingRecorded', 'ChargingStateChanged', 'TransactionEnded', 'ChargingPreferencesSet'].map(changeOf)).toEqual([
      ['object'], ['status'], ['object'], ['object'], [],
    ]);
  });

  it('charging periods partition the session: a state sent with the start or the end is no extra period, no energy goes into parking', async () => {
    // As a 2.0.1 station reports it: Started with chargingState EVConnected, Updated messages whose
    // state change and reading share a timestamp, Ended with chargingState Idle.
    await start('tx-periods', 'CARD-EMP');
    const state = (changedAt: string, value: 'EVConnected' | 'Charging' | 'Idle') => send('tx-periods', { type: 'RecordChargingState', stationId: 'CP-1', state: value, changedAt });
    const reading = (sampledAt: string, wh: string) => send('tx-periods', { type: 'RecordMeterReading', stationId: 'CP-1', sampledAt, registerWh: new Decimal(wh) });
    await state(at(0), 'EVConnected');
    await state(at(2), 'Charging');
    await reading(at(10), '1500.5');
    await state(at(20), 'EVConnected');
    await reading(at(20), '2000.5');
    await reading(at(25), '2000.5');
    await state(at(30), 'Idle');
    await send('tx-periods', { type: 'EndTransaction', stationId: 'CP-1', endedAt: at(30), meterStopWh: new Decimal('2000.5'), reason: 'Local' });
    await runners.idle();
    const session = (await crawl('', hubToken)).sessions.find((s) => s.id === 'tx-periods')!;
    expect(session.charging_periods?.map((p) => [p.start_date_time, p.dimensions])).toEqual([
      ['2025-03-01T10:00:00Z', [{ type: 'ENERGY', volume: 0 }, { type: 'PARKING_TIME', volume: 0.0333 }]],
      ['2025-03-01T10:02:00Z', [{ type: 'ENERGY', volume: 1 }, { type: 'TIME', volume: 0.3 }]],
      ['2025-03-01T10:20:00Z', [{ type: 'ENERGY', volume: 0 }, { type: 'PARKING_TIME', volume: 0.1667 }]],
    ]);
    expect(session).toMatchObject({ status: 'COMPLETED', kwh: 1, end_date_time: '2025-03-01T10:30:00Z' });
  });
});
