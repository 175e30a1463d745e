import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../adapters/clock/clock.js';
import { openPostgresEventStore } from '../../adapters/event-store/postgres.js';
import type { EventStore } from '../../adapters/event-store/port.js';
import type { SqlDatabase } from '../../adapters/sql/port.js';
import { buildServer } from '../../api/server.js';
import { createCommandBus, type CommandBus } from '../../commands/index.js';
import { registerWithPartner } from '../../ocpi/credentials/service.js';
import type { OcpiModuleContext } from '../../ocpi/plugin.js';
import { ocpiTokensDenials } from '../../ocpi/tokens/module.js';
import { pullPartnerTokens } from '../../ocpi/tokens/pull.js';
import { authorizationHeader, newCredentialsToken } from '../../ocpi/transport/auth.js';
import { migrateProjections, startProjectionRunners } from '../../projections/index.js';
import { partnersProjection } from '../../projections/partners.js';
import { tokensProjection } from '../../projections/tokens.js';
import { eventually } from '../support/eventually.js';
import { createTestPgliteDatabase } from '../support/services.js';
import { StationSimulator } from '../support/station-simulator.js';

/**
 * The tokens module against our real server (buildServer on PGlite, projections running) and a
 * small eMSP of our own: its tokens pushed to us (PUT/PATCH/GET), pulled from it, and asked in
 * real time when a station (the simulator, OCPP 1.6) presents a card.
 */

type Behaviour = 'ALLOWED' | 'BLOCKED' | 'slow' | 'down' | 'unknown';

interface TestEmsp {
  app: FastifyInstance;
  url: string;
  tokenA: string;
  tokenC: string;
  /** What the eMSP's authorize answers, per uid; absent: 2004 unknown. */
  behaviour: Map<string, Behaviour>;
  authorizeCalls: { uid: string; type: string; body: unknown }[];
  /** Its tokens, served one per page. */
  tokens: Record<string, unknown>[];
  pagesServed: number;
  /** The token we gave them in our POST credentials: the one they call us with. */
  ourTokenForThem: string;
}

const ocpiToken = (uid: string, overrides: Record<string, unknown> = {}) => ({
  country_code: 'DE',
  party_id: 'EMP',
  uid,
  type: 'RFID',
  contract_id: `DE-EMP-C${uid}`,
  issuer: 'Test eMSP',
  valid: true,
  whitelist: 'ALLOWED',
  last_updated: '2026-11-01T10:00:00Z',
  ...overrides,
});

async function startEmsp(): Promise<TestEmsp> {
  const app = Fastify({ logger: false, forceCloseConnections: true });
  const emsp: TestEmsp = { app, url: '', tokenA: newCredentialsToken(), tokenC: newCredentialsToken(), behaviour: new Map(), authorizeCalls: [], tokens: [], pagesServed: 0, ourTokenForThem: '' };
  const envelope = (data: unknown, status_code = 1000) => ({ data, status_code, timestamp: new Date().toISOString() });
  app.get('/ocpi/versions', async () => envelope([{ version: '2.2.1', url: `${emsp.url}/ocpi/2.2.1` }]));
  app.get('/ocpi/2.2.1', async () =>
    envelope({
      version: '2.2.1',
      endpoints: [
        { identifier: 'credentials', role: 'SENDER', url: `${emsp.url}/ocpi/2.2.1/credentials` },
        { identifier: 'tokens', role: 'SENDER', url: `${emsp.url}/ocpi/2.2.1/tokens` },
      ],
    }),
  );
  app.post('/ocpi/2.2.1/credentials', async (request) => {
    emsp.ourTokenForThem = (request.body as { token: string }).token;
    return envelope({ token: emsp.tokenC, url: `${emsp.url}/ocpi/versions`, roles: [{ role: 'EMSP', country_code: 'DE', party_id: 'EMP', business_details: { name: 'Test eMSP' } }] });
  });
  app.get('/ocpi/2.2.1/tokens', async (request, reply) => {
    emsp.pagesServed += 1;
    const offset = Number((request.query as { offset?: string }).offset ?? 0);
    if (offset + 1 < emsp.tokens.length) reply.header('link', `<${emsp.url}/ocpi/2.2.1/tokens?offset=${offset + 1}&limit=1>; rel="next"`);
    return envelope(emsp.tokens.slice(offset, offset + 1));
  });
  app.post('/ocpi/2.2.1/tokens/:uid/authorize', async (request, reply) => {
    const { uid } = request.params as { uid: string };
    emsp.authorizeCalls.push({ uid, type: (request.query as { type: string }).type, body: request.body ?? null });
    const behaviour = emsp.behaviour.get(uid) ?? 'unknown';
    if (behaviour === 'slow') await new Promise((resolve) => setTimeout(resolve, 2_000));
    if (behaviour === 'down') return reply.code(503).send('down for maintenance');
    if (behaviour === 'unknown') return envelope(undefined, 2004);
    return envelope({ allowed: behaviour === 'slow' ? 'ALLOWED' : behaviour, token: ocpiToken(uid), authorization_reference: `ref-${uid}` });
  });
  emsp.url = (await app.listen({ host: '127.0.0.1', port: 0 })).replace('localhost', '127.0.0.1');
  return emsp;
}

describe('OCPI tokens (Receiver), pull and real-time authorization', () => {
  let db: SqlDatabase;
  let eventStore: EventStore;
  let bus: CommandBus;
  let server: FastifyInstance;
  let serverUrl: string;
  let ocpi: OcpiModuleContext;
  let runners: { stop(): Promise<void>; idle(): Promise<void> };
  let emsp: TestEmsp;
  /** The token the eMSP presents to us. */
  let theirToken: string;
  const realtimeTimeoutMs = 400;

  beforeAll(async () => {
    db = await createTestPgliteDatabase();
    eventStore = await openPostgresEventStore(db);
    await migrateProjections({ db, eventStore });
    bus = createCommandBus({ eventStore, clock: systemClock });
    runners = startProjectionRunners({ db, eventStore }, { projections: [partnersProjection, tokensProjection] });
    server = await buildServer({
      db,
      eventStore,
      bus,
      logLevel: 'silent',
      ocpp: { unknownStations: 'accept', unknownTokens: 'reject', heartbeatIntervalSeconds: 300, pingIntervalSeconds: 60, allowUnsecured: true },
      ocpi: { publicUrl: null, secret: 'x'.repeat(40), roles: [{ role: 'CPO', country_code: 'NL', party_id: 'CSM', business_details: { name: 'Open-CSMS test' } }] },
      ocpiModules: [(context) => void (ocpi = context)],
      ocpiRealtimeTimeoutMs: realtimeTimeoutMs,
    });
    serverUrl = await server.listen({ host: '127.0.0.1', port: 0 });
    emsp = await startEmsp();
    await registerWithPartner(ocpi.credentials, {
      partnerId: 'emsp',
      versionsUrl: `${emsp.url}/ocpi/versions`,
      tokenA: emsp.tokenA,
      ourVersionsUrl: `${serverUrl}/ocpi/versions`,
      actor: 'user:test',
    });
    await runners.idle();
    const { rows } = await db.query<{ status: string }>(`SELECT status FROM proj_partners.partners WHERE partner_id = 'emsp'`);
    expect(rows[0]?.status).toBe('registered');
    theirToken = emsp.ourTokenForThem;
  }, 60_000);
  afterAll(async () => {
    await emsp?.app.close();
    await server?.close();
    await runners?.stop();
    await eventStore?.close().catch(() => {});
    await db?.close().catch(() => {});
  });

  type JsonResponse = Omit<Response, 'json'> & { json(): Promise<any> };
  const routing = { 'ocpi-from-country-code': 'DE', 'ocpi-from-party-id': 'EMP', 'ocpi-to-country-code': 'NL', 'ocpi-to-party-id': 'CSM' };
  /** `routed: false`: as a direct eMSP that leaves the routing headers out. */
  const call = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}, routed = true): Promise<JsonResponse> =>
    fetch(`${serverUrl}/ocpi/2.2.1/tokens${path}`, {
      method,
      headers: { authorization: authorizationHeader(theirToken), ...(routed ? routing : {}), ...(body ? { 'content-type': 'application/json' } : {}), ...headers },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
  const readModel = async (uid: string) =>
    (await db.query<{ status: string; whitelist: string; country_code: string; group_id: string | null }>(`SELECT status, whitelist, country_code, group_id FROM proj_tokens.tokens WHERE token_id = $1`, [uid])).rows[0];
  const tokenEvents = async (uid: string) => (await eventStore.readStream(`token-default-${uid}`)).map((event) => event.type);

  describe('Receiver: PUT, PATCH, GET', () => {
    it('PUT creates (201), the same PUT again changes nothing (200), GET answers our copy from the read model', async () => {
      const put = await call('PUT', '/DE/EMP/CARD-1', ocpiToken('CARD-1', { group_id: 'G-1', language: 'de' }), { 'x-correlation-id': 'corr-put-1' });
      expect(put.status).toBe(201);
      expect((await put.json()).status_code).toBe(1000);
      const again = await call('PUT', '/DE/EMP/CARD-1', ocpiToken('CARD-1', { group_id: 'G-1', language: 'de' }));
      expect(again.status).toBe(200);
      expect(await tokenEvents('CARD-1')).toEqual(['TokenIssued']);
      const [issued] = await eventStore.readStream('token-default-CARD-1');
      expect(issued?.metadata).toMatchObject({ actor: 'partner:emsp', correlationId: 'corr-put-1' });
      expect(issued?.data).toMatchObject({ countryCode: 'DE', partyId: 'EMP', source: 'ocpi', whitelist: 'ALLOWED' });
      await eventually(() => readModel('CARD-1'), 5_000, 'token in the read model');
      const get = await call('GET', '/DE/EMP/CARD-1?type=RFID');
      expect(get.status).toBe(200);
      expect((await get.json()).data).toEqual({ ...ocpiToken('CARD-1', { group_id: 'G-1', language: 'de' }), last_updated: '2026-11-01T10:00:00.000Z' });
    });

    it('what a PUT or PATCH answered is what a GET answers at once, however far the read models lag', async () => {
      // Read models stopped: as far behind as they can be (a lag of 30 ms made the GET answer 2004).
      await runners.stop();
      try {
        expect((await call('PUT', '/DE/EMP/RYW-1', ocpiToken('RYW-1', { visual_number: 'V-1' }))).status).toBe(201);
        const got = await call('GET', '/DE/EMP/RYW-1');
        expect(got.status).toBe(200);
        expect((await got.json()).data).toEqual({ ...ocpiToken('RYW-1', { visual_number: 'V-1' }), last_updated: '2026-11-01T10:00:00.000Z' });
        const patch = await call('PATCH', '/DE/EMP/RYW-1', { valid: false, whitelist: 'NEVER', last_updated: '2026-11-04T10:00:00Z' });
        expect((await patch.json()).status_code).toBe(1000);
        const patched = (await (await call('GET', '/DE/EMP/RYW-1')).json()).data;
        expect(patched).toMatchObject({ uid: 'RYW-1', valid: false, whitelist: 'NEVER', visual_number: 'V-1', last_updated: '2026-11-04T10:00:00.000Z' });
        expect(await readModel('RYW-1')).toBeUndefined();
      } finally {
        runners = startProjectionRunners({ db, eventStore }, { projections: [partnersProjection, tokensProjection] });
      }
    });

    it('a direct eMSP may leave the routing headers out: it writes and reads as the party of its credentials', async () => {
      const put = await call('PUT', '/DE/EMP/DIRECT-1', ocpiToken('DIRECT-1'), {}, false);
      expect(put.status).toBe(201);
      expect(put.headers.get('ocpi-to-party-id')).toBe('EMP');
      expect(put.headers.get('ocpi-from-party-id')).toBe('CSM');
      expect((await (await call('GET', '/DE/EMP/DIRECT-1', undefined, {}, false)).json()).data).toMatchObject({ uid: 'DIRECT-1', valid: true });
      const other = await call('PUT', '/NL/OTH/DIRECT-2', ocpiToken('DIRECT-2', { country_code: 'NL', party_id: 'OTH' }), {}, false);
      expect((await other.json()).status_code).toBe(2001);
      expect(await tokenEvents('DIRECT-2')).toEqual([]);
    });

    it('GET of a token we do not have: HTTP 404 with 2004', async () => {
      const get = await call('GET', '/DE/EMP/NOBODY');
      expect(get.status).toBe(404);
      expect((await get.json()).status_code).toBe(2004);
      expect((await call('GET', '/DE/EMP/CARD-1?type=APP_USER')).status).toBe(404);
    });

    it('2001 when the URL and the body disagree, or the body is no Token', async () => {
      for (const [path, body] of [
        ['/DE/EMP/CARD-2', ocpiToken('CARD-X')],
        ['/DE/EMP/CARD-2', ocpiToken('CARD-2', { party_id: 'OTH' })],
        ['/DE/EMP/CARD-2', ocpiToken('CARD-2', { whitelist: 'SOMETIMES' })],
      ] as const) {
        const answer = await call('PUT', path, body);
        expect(answer.status).toBe(200);
        expect((await answer.json()).status_code).toBe(2001);
      }
      expect(await tokenEvents('CARD-2')).toEqual([]);
    });

    it('a partner may only write and read tokens of its own parties', async () => {
      const deniedBefore = ocpiTokensDenials.otherParty;
      const put = await call('PUT', '/NL/OTH/CARD-3', ocpiToken('CARD-3', { country_code: 'NL', party_id: 'OTH' }));
      expect((await put.json()).status_code).toBe(2001);
      expect(await tokenEvents('CARD-3')).toEqual([]);
      expect((await (await call('GET', '/NL/OTH/CARD-1')).json()).status_code).toBe(2001);
      expect(ocpiTokensDenials.otherParty - deniedBefore).toBe(2);
    });

    it('valid: false blocks the token; valid: true lifts that block; PATCH changes only what it names', async () => {
      await call('PUT', '/DE/EMP/CARD-4', ocpiToken('CARD-4'));
      const invalid = await call('PUT', '/DE/EMP/CARD-4', ocpiToken('CARD-4', { valid: false, last_updated: '2026-11-02T10:00:00Z' }));
      expect(invalid.status).toBe(200);
      expect(await tokenEvents('CARD-4')).toEqual(['TokenIssued', 'TokenBlocked']);
      await eventually(async () => (await readModel('CARD-4'))?.status === 'blocked', 5_000, 'blocked in the read model');
      expect((await (await call('GET', '/DE/EMP/CARD-4')).json()).data).toMatchObject({ valid: false });

      const patch = await call('PATCH', '/DE/EMP/CARD-4', { valid: true, whitelist: 'NEVER', last_updated: '2026-11-03T10:00:00Z' });
      expect((await patch.json()).status_code).toBe(1000);
      expect(await tokenEvents('CARD-4')).toEqual(['TokenIssued', 'TokenBlocked', 'TokenUpdated', 'TokenUnblocked']);
      await eventually(async () => (await readModel('CARD-4'))?.status === 'valid', 5_000, 'unblocked in the read model');
      const got = (await (await call('GET', '/DE/EMP/CARD-4')).json()).data;
      expect(got).toMatchObject({ valid: true, whitelist: 'NEVER', contract_id: 'DE-EMP-CCARD-4', last_updated: '2026-11-03T10:00:00.000Z' });

      const withoutDate = await call('PATCH', '/DE/EMP/CARD-4', { whitelist: 'ALWAYS' });
      expect((await withoutDate.json()).status_code).toBe(2001);
      const unknown = await call('PATCH', '/DE/EMP/NOBODY', { whitelist: 'ALWAYS', last_updated: '2026-11-03T10:00:00Z' });
      expect(unknown.status).toBe(404);
    });
  });

  it('pull: every token of the eMSP through pages of one, issued once; a second pull changes nothing', async () => {
    emsp.tokens = [ocpiToken('PULL-1'), ocpiToken('PULL-2', { whitelist: 'NEVER' }), ocpiToken('PULL-3', { valid: false }), ocpiToken('PULL-4', { party_id: 'OTH' })];
    const deps = { db, bus, clock: systemClock, tenantId: 'default', sealer: ocpi.sealer, us: ocpi.us, client: {} };
    expect(await pullPartnerTokens(deps, 'emsp')).toEqual({ received: 4, changed: 3 });
    expect(emsp.pagesServed).toBe(4);
    expect(await tokenEvents('PULL-3')).toEqual(['TokenIssued', 'TokenBlocked']);
    expect(await tokenEvents('PULL-4')).toEqual([]); // not a party of this partner
    expect(await pullPartnerTokens(deps, 'emsp')).toEqual({ received: 4, changed: 0 });
    expect(await tokenEvents('PULL-1')).toEqual(['TokenIssued']);
    await expect(pullPartnerTokens(deps, 'nobody')).rejects.toThrow(/not registered/);
  });

  describe('real-time authorization from a station', () => {
    let station: StationSimulator;
    beforeAll(async () => {
      station = await StationSimulator.connect({ url: `${serverUrl.replace('http', 'ws')}/ocpp`, stationId: 'CP-RT', protocols: ['ocpp1.6'] });
      await station.call('BootNotification', { chargePointVendor: 'Test', chargePointModel: 'RT' });
    });
    afterAll(async () => {
      await station?.close();
    });
    const authorize = async (idTag: string) => ((await station.call('Authorize', { idTag })) as { idTagInfo: { status: string } }).idTagInfo.status;
    const recordedBasis = async (idTag: string) => {
      const events = await eventStore.readAll({ limit: 10_000 });
      const authorized = events.filter((event) => event.type === 'TransactionAuthorized' && (event.data as { idToken: { idToken: string } }).idToken.idToken === idTag);
      return authorized.map((event) => (event.data as { basis: string; result: string }).basis);
    };

    it('an unknown token the eMSP allows is Accepted (basis realtime), and asked once within the cache time', async () => {
      emsp.behaviour.set('RT-OK', 'ALLOWED');
      expect(await authorize('RT-OK')).toBe('Accepted');
      expect(await authorize('RT-OK')).toBe('Accepted');
      expect(emsp.authorizeCalls.filter((call) => call.uid === 'RT-OK')).toEqual([{ uid: 'RT-OK', type: 'RFID', body: null }]);
      expect(await recordedBasis('RT-OK')).toEqual(['realtime', 'realtime']);
    });

    it('BLOCKED by the eMSP is Blocked', async () => {
      emsp.behaviour.set('RT-BLOCKED', 'BLOCKED');
      expect(await authorize('RT-BLOCKED')).toBe('Blocked');
      expect(await recordedBasis('RT-BLOCKED')).toEqual(['realtime']);
    });

    it('an eMSP too slow: the unknown-token policy (reject) decides within the deadline', async () => {
      emsp.behaviour.set('RT-SLOW', 'slow');
      const startedMs = Date.now();
      expect(await authorize('RT-SLOW')).toBe('Invalid');
      expect(Date.now() - startedMs).toBeLessThan(1_500);
      expect(await recordedBasis('RT-SLOW')).toEqual(['unknownTokenPolicy']);
    });

    it('an ALLOWED_OFFLINE token with the eMSP down is Accepted (offline whitelist); ALWAYS is never asked', async () => {
      await call('PUT', '/DE/EMP/RT-OFFLINE', ocpiToken('RT-OFFLINE', { whitelist: 'ALLOWED_OFFLINE' }));
      await call('PUT', '/DE/EMP/RT-NEVER', ocpiToken('RT-NEVER', { whitelist: 'NEVER' }));
      await call('PUT', '/DE/EMP/RT-ALWAYS', ocpiToken('RT-ALWAYS', { whitelist: 'ALWAYS' }));
      await eventually(() => readModel('RT-ALWAYS'), 5_000, 'tokens in the read model');
      emsp.behaviour.set('RT-OFFLINE', 'down');
      emsp.behaviour.set('RT-NEVER', 'down');
      expect(await authorize('RT-OFFLINE')).toBe('Accepted');
      expect(await recordedBasis('RT-OFFLINE')).toEqual(['offlineWhitelist']);
      expect(await authorize('RT-NEVER')).toBe('Invalid');
      expect(await authorize('RT-ALWAYS')).toBe('Accepted');
      expect(emsp.authorizeCalls.map((call) => call.uid)).toEqual(expect.arrayContaining(['RT-OFFLINE', 'RT-NEVER']));
      expect(emsp.authorizeCalls.map((call) => call.uid)).not.toContain('RT-ALWAYS');
    });
  });
});
