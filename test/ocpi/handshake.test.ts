import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPostgresEventStore } from '../../adapters/event-store/postgres.js';
import type { EventStore } from '../../adapters/event-store/port.js';
import type { SqlDatabase } from '../../adapters/sql/port.js';
import { buildServer } from '../../api/server.js';
import { createCommandBus, type CommandBus } from '../../commands/index.js';
import { systemClock } from '../../adapters/clock/clock.js';
import type { OcpiModuleContext } from '../../ocpi/plugin.js';
import { registerWithPartner } from '../../ocpi/credentials/service.js';
import { authorizationHeader, credentialsTokenCandidates, credentialsTokenHash, newCredentialsToken } from '../../ocpi/transport/auth.js';
import { z } from 'zod';
import { cliCredentialsDeps, registerOcpiPartner } from '../../api/ocpi-commands.js';
import { sampleCdr } from '../../domain/cdr/fixtures.js';
import { element, energy, flat, tariff } from '../../domain/tariff/fixtures/index.js';
import { cdrSchema, locationSchema, sessionSchema, tokenSchema } from '../../ocpi/schemas/index.js';
import { cdrsProjection } from '../../projections/cdrs.js';
import { migrateProjections, startProjectionRunners } from '../../projections/index.js';
import { partnersProjection } from '../../projections/partners.js';
import { EmspPartner, emspParty, emspToken } from '../support/emsp-partner.js';
import { createTestPgliteDatabase } from '../support/services.js';

/**
 * The credentials handshake both ways (spec chapter 7) between our real server (buildServer on
 * PGlite, partners projection running) and a small eMSP of our own on 127.0.0.1.
 */

interface TestEmsp {
  app: FastifyInstance;
  url: string;
  /** Token A the eMSP gave us out of band (we register with them). */
  tokenA: string;
  /** The token the eMSP presents to us (its B when it registers with us). */
  tokenB: string;
  /** What it received from us. */
  received: { credentialsToken?: string; versionsCalledWith: string[] };
  versions: string[];
}

async function startEmsp(versions: string[] = ['2.1.1', '2.2.1']): Promise<TestEmsp> {
  const app = Fastify({ logger: false, forceCloseConnections: true });
  const emsp: TestEmsp = { app, url: '', tokenA: newCredentialsToken(), tokenB: newCredentialsToken(), received: { versionsCalledWith: [] }, versions };
  const known = () => [emsp.tokenA, emsp.tokenB, ...(emsp.received.credentialsToken ? [emsp.received.credentialsToken] : [])];
  const envelope = (data: unknown) => ({ data, status_code: 1000, timestamp: new Date().toISOString() });
  app.addHook('onRequest', async (request, reply) => {
    const token = credentialsTokenCandidates(request.headers.authorization)[0];
    if (token === undefined || !known().includes(token)) return reply.code(401).send({ status_code: 2000, timestamp: new Date().toISOString() });
    emsp.received.versionsCalledWith.push(token);
  });
  app.get('/ocpi/versions', async () => envelope(emsp.versions.map((version) => ({ version, url: `${emsp.url}/ocpi/${version}` }))));
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
    const body = request.body as { token: string; url: string };
    // As the Receiver it reads our versions with the token we just sent (spec 7.1.1).
    const ours = await fetch(body.url, { headers: { authorization: authorizationHeader(body.token) } });
    if (ours.status !== 200) return { status_code: 3001, status_message: `our versions answered ${ours.status}`, timestamp: new Date().toISOString() };
    emsp.received.credentialsToken = body.token;
    return envelope({ token: emsp.tokenB, url: `${emsp.url}/ocpi/versions`, roles: [{ role: 'EMSP', country_code: 'DE', party_id: 'EMP', business_details: { name: 'Test eMSP' } }] });
  });
  emsp.url = (await app.listen({ host: '127.0.0.1', port: 0 })).replace('localhost', '127.0.0.1');
  return emsp;
}

describe('OCPI credentials handshake', () => {
  let db: SqlDatabase;
  let eventStore: EventStore;
  let bus: CommandBus;
  let server: FastifyInstance;
  let serverUrl: string;
  let ocpi: OcpiModuleContext;
  let runners: { stop(): Promise<void>; idle(): Promise<void> };
  let emsp: TestEmsp;
  const ocpiSettings = { publicUrl: null, secret: 'x'.repeat(40), roles: [{ role: 'CPO' as const, country_code: 'NL', party_id: 'CSM', business_details: { name: 'Open-CSMS test' } }] };
  const startRunners = () => startProjectionRunners({ db, eventStore }, { projections: [partnersProjection, cdrsProjection] });

  beforeAll(async () => {
    db = await createTestPgliteDatabase();
    eventStore = await openPostgresEventStore(db);
    await migrateProjections({ db, eventStore });
    bus = createCommandBus({ eventStore, clock: systemClock });
    runners = startRunners();
    server = await buildServer({
      db,
      eventStore,
      bus,
      logLevel: 'silent',
      ocpi: ocpiSettings,
      ocpiModules: [(context) => void (ocpi = context)],
    });
    serverUrl = await server.listen({ host: '127.0.0.1', port: 0 });
    emsp = await startEmsp();
  });
  afterAll(async () => {
    await emsp?.app.close();
    await server?.close();
    await runners?.stop();
    await eventStore?.close().catch(() => {});
    await db?.close().catch(() => {});
  });

  /** An operator's invitation: token A, recorded by hash only. */
  async function invite(partnerId: string): Promise<string> {
    const token = newCredentialsToken();
    await bus.send({
      commandId: `test:${partnerId}:${token}`,
      tenantId: 'default',
      aggregateId: partnerId,
      actor: 'user:test',
      correlationId: token,
      occurredAt: new Date().toISOString(),
      command: { type: 'IssueRegistrationToken', tokenTheyPresent: { token: 'A', tokenHash: credentialsTokenHash(token) } },
    });
    await runners.idle(); // the invitation reaches us through the read model, as on another node
    return token;
  }
  // Envelopes are checked field by field below, so the body is left untyped.
  type JsonResponse = Omit<Response, 'json'> & { json(): Promise<any> };
  const call = (method: string, path: string, token: string, body?: unknown): Promise<JsonResponse> =>
    fetch(`${serverUrl}/ocpi${path}`, {
      method,
      headers: { authorization: authorizationHeader(token), ...(body ? { 'content-type': 'application/json' } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
  const emspCredentials = (url = `${emsp.url}/ocpi/versions`) => ({ token: emsp.tokenB, url, roles: [{ role: 'EMSP', country_code: 'DE', party_id: 'EMP', business_details: { name: 'Test eMSP' } }] });

  it('lists versions and the credentials module (SENDER and RECEIVER) to a token A', async () => {
    const tokenA = await invite('emsp_list');
    const versions = await (await call('GET', '/versions', tokenA)).json();
    expect(versions.data).toEqual([{ version: '2.2.1', url: `${serverUrl}/ocpi/2.2.1` }]);
    const details = await (await call('GET', '/2.2.1', tokenA)).json();
    const endpoint = (identifier: string, role: string) => ({ identifier, role, url: `${serverUrl}/ocpi/2.2.1/${identifier}` });
    // CPO role: Sender of our data, Receiver of the eMSP's tokens and commands; hubclientinfo for hubs.
    const expected = [
      endpoint('credentials', 'SENDER'),
      endpoint('credentials', 'RECEIVER'),
      ...['locations', 'sessions', 'cdrs', 'tariffs'].map((module) => endpoint(module, 'SENDER')),
      ...['tokens', 'commands', 'chargingprofiles', 'hubclientinfo'].map((module) => endpoint(module, 'RECEIVER')),
    ];
    expect(details.data.endpoints).toHaveLength(expected.length);
    expect(details.data.endpoints).toEqual(expect.arrayContaining(expected));
    expect((await call('GET', '/2.1.1', tokenA)).status).toBe(404);
  });

  it('a partner registers with us: POST with A → C; A is void; POST again 405; PUT → new C; DELETE revokes', async () => {
    const tokenA = await invite('emsp_in');
    const post = await call('POST', '/2.2.1/credentials', tokenA, emspCredentials());
    expect(post.status).toBe(200);
    const registered = await post.json();
    expect(registered).toMatchObject({ status_code: 1000, data: { url: `${serverUrl}/ocpi/versions`, roles: [{ role: 'CPO', country_code: 'NL', party_id: 'CSM' }] } });
    const tokenC: string = registered.data.token;
    expect(tokenC).not.toBe(tokenA);
    // We fetched their versions with their token B.
    expect(emsp.received.versionsCalledWith).toContain(emsp.tokenB);

    expect((await call('GET', '/2.2.1/credentials', tokenA)).status).toBe(401);
    const mine = await (await call('GET', '/2.2.1/credentials', tokenC)).json();
    expect(mine.data.token).toBe(tokenC);
    expect((await call('POST', '/2.2.1/credentials', tokenC, emspCredentials())).status).toBe(405);

    const put = await (await call('PUT', '/2.2.1/credentials', tokenC, emspCredentials())).json();
    const tokenC2: string = put.data.token;
    expect(tokenC2).not.toBe(tokenC);
    expect((await call('GET', '/2.2.1/credentials', tokenC)).status).toBe(401);
    expect((await call('GET', '/2.2.1/credentials', tokenC2)).status).toBe(200);

    await runners.idle();
    const { rows } = await db.query<{ status: string; token_hash: string; token_sealed: string; roles: string }>(
      `SELECT status, token_hash, token_sealed, roles FROM proj_partners.partners WHERE tenant_id = 'default' AND partner_id = 'emsp_in'`,
    );
    expect(rows[0]).toMatchObject({ status: 'registered', token_hash: credentialsTokenHash(tokenC2) });
    // The token we present (their B) is sealed, not stored as-is.
    expect(rows[0]!.token_sealed).toMatch(/^v1\./);
    expect(rows[0]!.token_sealed).not.toContain(emsp.tokenB);
    expect(ocpi.credentials.sealer.open(rows[0]!.token_sealed)).toBe(emsp.tokenB);

    const deleted = await call('DELETE', '/2.2.1/credentials', tokenC2);
    expect(deleted.status).toBe(200);
    expect((await deleted.json()).status_code).toBe(1000);
    expect((await call('GET', '/2.2.1/credentials', tokenC2)).status).toBe(401);
    await runners.idle();
    const after = await db.query(`SELECT status, token_hash, token_sealed FROM proj_partners.partners WHERE partner_id = 'emsp_in'`);
    expect(after.rows[0]).toEqual({ status: 'unregistered', token_hash: null, token_sealed: null });
  });

  it('PUT and DELETE before registration answer 405', async () => {
    const tokenA = await invite('emsp_early');
    expect((await call('PUT', '/2.2.1/credentials', tokenA, emspCredentials())).status).toBe(405);
    expect((await call('DELETE', '/2.2.1/credentials', tokenA)).status).toBe(405);
  });

  it('3001 when their versions cannot be reached, 3003 without a mutual version, 2001 on a bad body', async () => {
    const tokenA = await invite('emsp_bad');
    const unreachable = await (await call('POST', '/2.2.1/credentials', tokenA, emspCredentials('http://127.0.0.1:1/ocpi/versions'))).json();
    expect(unreachable.status_code).toBe(3001);
    const old = await startEmsp(['2.1.1']);
    try {
      const response = await call('POST', '/2.2.1/credentials', tokenA, { ...emspCredentials(`${old.url}/ocpi/versions`), token: old.tokenB });
      expect(response.status).toBe(200);
      expect((await response.json()).status_code).toBe(3003);
    } finally {
      await old.app.close();
    }
    const bad = await (await call('POST', '/2.2.1/credentials', tokenA, { token: 'x', roles: [] })).json();
    expect(bad.status_code).toBe(2001);
    // Still not registered: token A still works for a correct attempt.
    expect((await call('POST', '/2.2.1/credentials', tokenA, emspCredentials())).status).toBe(200);
  });

  it('we register with a partner: their A → our B → their C, kept sealed; they can call us with B', async () => {
    const outcome = await registerWithPartner(ocpi.credentials, {
      partnerId: 'emsp_out',
      versionsUrl: `${emsp.url}/ocpi/versions`,
      tokenA: emsp.tokenA,
      ourVersionsUrl: `${serverUrl}/ocpi/versions`,
      actor: 'user:test',
    });
    expect(outcome).toMatchObject({ partnerId: 'emsp_out', version: '2.2.1', endpoints: 2 });
    const tokenB = emsp.received.credentialsToken!;
    expect((await call('GET', '/2.2.1/credentials', tokenB)).status).toBe(200);
    await runners.idle();
    const { rows } = await db.query<{ status: string; initiated_by: string; token_hash: string; token_sealed: string }>(
      `SELECT status, initiated_by, token_hash, token_sealed FROM proj_partners.partners WHERE partner_id = 'emsp_out'`,
    );
    expect(rows[0]).toMatchObject({ status: 'registered', initiated_by: 'us', token_hash: credentialsTokenHash(tokenB) });
    expect(ocpi.credentials.sealer.open(rows[0]!.token_sealed)).toBe(emsp.tokenB);
  });

  describe('right after the handshake, with an eMSP of the shared test support', () => {
    const us = { countryCode: 'NL', partyId: 'CSM' };
    const standard = tariff('T-STD', [element([flat(1, 21), energy(0.3, 21, 1)])], { country_code: us.countryCode, party_id: us.partyId });
    const partners: EmspPartner[] = [];
    const start = async (options: { routingHeaders?: boolean } = {}) => {
      const partner = await EmspPartner.start({ ...options, client: { timeoutMs: 5_000 } });
      partners.push(partner);
      return partner;
    };
    /** Its CDRs (one of DE*EMP, one of another eMSP): what its list must show, and not show. */
    beforeAll(async () => {
      for (const [id, party] of [['CDR-DE', emspParty], ['CDR-FR', { countryCode: 'FR', partyId: 'OTH' }]] as const) {
        const cdr = sampleCdr({ id, country_code: us.countryCode, party_id: us.partyId, session_id: id, tariffs: [standard], cdr_token: { country_code: party.countryCode, party_id: party.partyId, uid: `UID-${id}`, type: 'RFID', contract_id: `${party.countryCode}-${party.partyId}-C1` } });
        await bus.send({ commandId: `test:${id}`, tenantId: 'default', aggregateId: id, actor: 'user:test', correlationId: id, occurredAt: new Date().toISOString(), command: { type: 'IssueCdr', cdr, transactionId: `tx-${id}`, tenantId: 'default', tariffVersionId: 'T-STD@1' } });
      }
      await runners.idle();
    });
    afterAll(async () => {
      for (const partner of partners) await partner.close();
    });

    it('a direct eMSP without routing headers calls tokens, locations and sessions', async () => {
      const partner = await start({ routingHeaders: false });
      await partner.registerWith(`${serverUrl}/ocpi/versions`, await invite('direct'));
      const token = emspToken('DIRECT-1');
      const put = await partner.call(`${partner.endpoint('tokens')}/DE/EMP/DIRECT-1`, { method: 'PUT', body: token, data: z.unknown() });
      expect(put.httpStatus).toBe(201);
      // Our answer names both parties all the same (transport_and_format, Direct response).
      expect([put.headers.get('ocpi-from-party-id'), put.headers.get('ocpi-to-party-id')]).toEqual(['CSM', 'EMP']);
      expect((await partner.call(`${partner.endpoint('tokens')}/DE/EMP/DIRECT-1`, { data: tokenSchema })).data).toMatchObject({ uid: 'DIRECT-1' });
      await partner.getPages(partner.endpoint('locations'), locationSchema);
      await partner.getPages(partner.endpoint('sessions'), sessionSchema);
      expect(partner.validationFailures).toEqual([]);
    });

    it('they register with us: at once their list shows their own party\'s CDRs, however far the read models lag', async () => {
      const partner = await start();
      const tokenA = await invite('emsp_at_once');
      await runners.stop();
      try {
        await partner.registerWith(`${serverUrl}/ocpi/versions`, tokenA);
        const { items, pages } = await partner.getPages(partner.endpoint('cdrs'), cdrSchema);
        expect(items.map((cdr) => cdr.id)).toEqual(['CDR-DE']);
        expect(pages[0]!.total).toBe('1');
      } finally {
        runners = startRunners();
      }
    });

    it('registered by another process (csms ocpi register on the database): the partner reaches us with B at once, and lists its CDRs', async () => {
      const partner = await start();
      // The CLI's own bus and partner directory: nothing of it is in this server's memory.
      const cli = cliCredentialsDeps({ db, bus: createCommandBus({ eventStore, clock: systemClock }), clock: systemClock, tenantId: 'default', settings: ocpiSettings });
      const outcome = await registerOcpiPartner(cli, { partnerId: 'emsp_cli', url: partner.versionsUrl, token: partner.tokenA }, `${serverUrl}/ocpi/versions`, 'user:test');
      expect(outcome).toMatchObject({ partnerId: 'emsp_cli', version: '2.2.1' });
      const { items, pages } = await partner.getPages(partner.endpoint('cdrs'), cdrSchema);
      expect(items.map((cdr) => cdr.id)).toEqual(['CDR-DE']);
      expect(pages[0]!.total).toBe('1');
    });
  });
});
