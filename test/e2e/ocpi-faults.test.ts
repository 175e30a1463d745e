import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../adapters/clock/clock.js';
import { openPostgresEventStore } from '../../adapters/event-store/postgres.js';
import type { EventStore } from '../../adapters/event-store/port.js';
import type { SqlDatabase } from '../../adapters/sql/port.js';
import { registerOcpiPartner } from '../../api/ocpi-commands.js';
import { buildServer } from '../../api/server.js';
import { createCommandBus, type CommandBus } from '../../commands/index.js';
import { ocpiRequest, OcpiClientError } from '../../ocpi/client/client.js';
import type { OcpiModuleContext, OcpiSettings } from '../../ocpi/plugin.js';
import { startOcpiPush } from '../../ocpi/push/index.js';
import { pullPartnerTokens } from '../../ocpi/tokens/pull.js';
import { migrateProjections, startProjectionRunners } from '../../projections/index.js';
import { EmspPartner, emspToken } from '../support/emsp-partner.js';
import { eventually } from '../support/eventually.js';
import { createTestPgliteDatabase, createTestPostgresDatabase, requirePostgres } from '../support/services.js';

/**
 * What a partner's bad day does to us: the eMSP answers 500, 429 with Retry-After, too slowly, or
 * with broken JSON, and the push outbox retries until every object arrives, in order per object,
 * nothing lost; and a tokens pull through pages of one token receives every token.
 */

const arrivesWithinMs = 30_000;
/** Our push timeout here: the eMSP's slow answers take three times this. */
const pushTimeoutMs = 300;
const us = { countryCode: 'NL', partyId: 'OCS' };

const ocpiSettings: OcpiSettings = {
  publicUrl: null,
  secret: 'faults-secret-'.repeat(3),
  roles: [{ role: 'CPO', country_code: us.countryCode, party_id: us.partyId, business_details: { name: 'Open-CSMS' } }],
};

/** A site's facts as an operator states them; `n` tells versions apart by name. */
const siteFacts = (n: number) => ({
  name: `Site version ${n}`,
  address: 'Teststraat 1',
  city: 'Amsterdam',
  postalCode: null,
  state: null,
  country: 'NLD',
  coordinates: { latitude: '52.37403', longitude: '4.88969' },
  timeZone: 'Europe/Amsterdam',
  parkingType: null,
  facilities: [],
  openingTimes: null,
  chargingWhenClosed: null,
  directions: [],
  operator: null,
  suboperator: null,
  owner: null,
  publish: true,
});
const orderEvse = {
  evseUid: 'EVSE-ORDER',
  evseId: null,
  stationId: 'CP-ORDER',
  stationEvseId: 1,
  capabilities: [],
  physicalReference: null,
  floorLevel: null,
  connectors: [{ connectorId: '1', stationConnectorId: 1, standard: 'IEC_62196_T2', format: 'SOCKET', powerType: 'AC_3_PHASE', maxVoltage: 230, maxAmperage: 16, maxElectricPowerW: null, tariffIds: [] }],
};

const postgres = await requirePostgres();

describe('OCPI against a failing eMSP', () => {
  let drop: (() => Promise<void>) | null = null;
  let db: SqlDatabase;
  let eventStore: EventStore;
  let bus: CommandBus;
  let server: FastifyInstance;
  let serverUrl: string;
  let ocpi: OcpiModuleContext;
  let background: { stop(): Promise<void> }[] = [];
  let emsp: EmspPartner;

  beforeAll(async () => {
    if (postgres) {
      const database = await createTestPostgresDatabase('ocpi_faults');
      db = database.open(8);
      drop = database.drop;
    } else {
      db = await createTestPgliteDatabase();
    }
    eventStore = await openPostgresEventStore(db);
    await migrateProjections({ db, eventStore });
    bus = createCommandBus({ eventStore, clock: systemClock });
    const owner = 'ocpi-faults-test';
    background = [
      startProjectionRunners({ db, eventStore }, { owner }),
      // Short timeout and backoff, so retries happen within the test's time.
      startOcpiPush(
        { db, eventStore, tenantId: 'default', settings: ocpiSettings, clock: systemClock, log: () => {}, client: { timeoutMs: pushTimeoutMs }, retryDelayBaseMs: 50 },
        { owner, pollMs: 20, producerPollMs: 20 },
      ),
    ];
    server = await buildServer({
      db,
      eventStore,
      bus,
      logLevel: 'silent',
      ocpi: ocpiSettings,
      ocpiModules: [(context) => void (ocpi = context)],
    });
    serverUrl = (await server.listen({ host: '127.0.0.1', port: 0 })).replace('localhost', '127.0.0.1');
    emsp = await EmspPartner.start({ tokensPageSize: 1, client: { timeoutMs: 2_000, retryDelayBaseMs: 20 } });
    // This time we register with the eMSP (its token A, given to us out of band).
    await registerOcpiPartner(ocpi.credentials, { partnerId: 'emsp', url: emsp.versionsUrl, token: emsp.tokenA }, `${serverUrl}/ocpi/versions`, 'user:test');
    await eventually(async () => {
      const { rows } = await db.query<{ status: string }>(`SELECT status FROM proj_partners.partners WHERE partner_id = 'emsp'`);
      return rows[0]?.status === 'registered';
    }, arrivesWithinMs, 'the partner registered in the read model');
  }, 60_000);

  afterAll(async () => {
    await emsp?.close();
    await server?.close();
    for (const task of background) await task.stop();
    await eventStore?.close().catch(() => {});
    await db?.close().catch(() => {});
    await drop?.();
  });

  it('the eMSP fails as asked: our client retries 500 and 429, times out on slow answers, refuses broken JSON', async () => {
    emsp.tokens.push(emspToken('FAULT-1'));
    // Generous timeout but for the slow case: PGlite shares this thread and may hold it a few hundred ms.
    const options = { token: emsp.tokenForUs, timeoutMs: 5_000, retryDelayBaseMs: 10, routing: { from: us, to: { countryCode: 'DE', partyId: 'EMP' } } };
    const tokensUrl = `${emsp.url}/ocpi/2.2.1/tokens`;
    emsp.injectFault({ kind: 'http-500', count: 1, path: '/tokens' });
    emsp.injectFault({ kind: 'http-429', count: 1, path: '/tokens', retryAfterSeconds: 0 });
    const answer = await ocpiRequest(tokensUrl, { data: z.array(z.unknown()) }, options);
    expect(answer.data).toHaveLength(1);
    expect(emsp.requestsTo('/tokens', 'GET').map((r) => r.fault)).toEqual(['http-500', 'http-429', null]);

    emsp.injectFault({ kind: 'slow', count: 4, path: '/tokens', delayMs: 1_500 });
    await expect(ocpiRequest(tokensUrl, { data: z.unknown() }, { ...options, timeoutMs: 500 })).rejects.toMatchObject({ kind: 'timeout' });
    emsp.clearFaults();
    emsp.injectFault({ kind: 'malformed-json', count: 1, path: '/tokens' });
    const broken = await ocpiRequest(tokensUrl, { data: z.unknown() }, options).catch((error: unknown) => error);
    expect(broken).toBeInstanceOf(OcpiClientError);
    expect((broken as OcpiClientError).kind).toBe('envelope');
  });

  /** A command as an operator sends it. */
  const send = (aggregateId: string, command: Parameters<CommandBus['send']>[0]['command']) => {
    const id = `test:${command.type}:${aggregateId}:${Date.now()}:${Math.random()}`;
    return bus.send({ commandId: id, tenantId: 'default', aggregateId, actor: 'user:test', correlationId: id, occurredAt: new Date().toISOString(), command });
  };
  /** Version n of tariff `id`: its energy price tells the versions apart (n cents per kWh). */
  const tariffVersion = (id: string, n: number) => ({
    country_code: 'NL',
    party_id: 'OCS',
    id,
    currency: 'EUR',
    elements: [{ price_components: [{ type: 'ENERGY', price: n / 100, vat: 21, step_size: 1 }] }],
    last_updated: new Date(Date.UTC(2025, 0, 1, 0, n)).toISOString().replace('.000Z', 'Z'),
  });
  const versionOf = (body: unknown) => Math.round(((body as any).elements[0].price_components[0].price as number) * 100);

  it('pushes survive 500, 429, a too slow answer and broken JSON: everything arrives, in order per object', async () => {
    const ids = ['FAULT-A', 'FAULT-B', 'FAULT-C'];
    const versions = 3;
    // The first pushes meet every kind of fault, one after another.
    emsp.injectFault({ kind: 'http-500', count: 2, path: '/tariffs/' });
    emsp.injectFault({ kind: 'http-429', count: 2, path: '/tariffs/', retryAfterSeconds: 1 });
    emsp.injectFault({ kind: 'slow', count: 1, path: '/tariffs/', delayMs: pushTimeoutMs * 3 });
    emsp.injectFault({ kind: 'malformed-json', count: 2, path: '/tariffs/' });
    for (const id of ids) await send(id, { type: 'CreateTariff', tariff: tariffVersion(id, 1), createdAt: new Date().toISOString() });
    for (let n = 2; n <= versions; n += 1) {
      for (const id of ids) await send(id, { type: 'VersionTariff', tariff: tariffVersion(id, n), versionedAt: new Date().toISOString() });
    }
    for (const id of ids) {
      await eventually(async () => {
        const pushed = emsp.tariffs.get(`NL/OCS/${id}`);
        return pushed !== undefined && versionOf(pushed) === versions;
      }, arrivesWithinMs, `the newest version of ${id} at the eMSP`);
    }
    const faultsMet = emsp.requestsTo('/tariffs/', 'PUT').map((r) => r.fault).filter((f) => f !== null);
    expect(faultsMet.sort()).toEqual(['http-429', 'http-429', 'http-500', 'http-500', 'malformed-json', 'malformed-json', 'slow']);
    // Nothing given up, and nothing left behind once the retries after the slow answer are done.
    await eventually(async () => {
      const { rows } = await db.query<{ state: string; count: string }>(`SELECT state, count(*)::text AS count FROM ocpi_outbox.pushes GROUP BY state`);
      expect(rows.filter((row) => row.state === 'rejected')).toEqual([]);
      return rows.every((row) => row.state === 'delivered');
    }, arrivesWithinMs, 'every push delivered');
    for (const id of ids) expect(versionOf(emsp.tariffs.get(`NL/OCS/${id}`)), id).toBe(versions);
    // Per object, the versions the eMSP applied (answered or slow) never go back.
    for (const id of ids) {
      const applied = emsp.requestsTo(`/tariffs/NL/OCS/${id}`, 'PUT').filter((r) => r.fault === null || r.fault === 'slow').map((r) => versionOf(r.body));
      expect(applied.length, id).toBeGreaterThan(0);
      expect([...applied].sort((a, b) => a - b), `${id}: ${applied.join(' ')}`).toEqual(applied);
      expect(applied.at(-1), id).toBe(versions);
    }
  });

  it('a deleted tariff arrives as DELETE after faults, after its PUT', async () => {
    emsp.injectFault({ kind: 'http-500', count: 1, path: '/tariffs/NL/OCS/FAULT-A', method: 'DELETE' });
    emsp.injectFault({ kind: 'malformed-json', count: 1, path: '/tariffs/NL/OCS/FAULT-A', method: 'DELETE' });
    await send('FAULT-A', { type: 'DeactivateTariff', deactivatedAt: new Date().toISOString(), reason: 'faults test' });
    await eventually(async () => !emsp.tariffs.has('NL/OCS/FAULT-A'), arrivesWithinMs, 'FAULT-A deleted at the eMSP');
    const methods = emsp.requestsTo('/tariffs/NL/OCS/FAULT-A').filter((r) => r.fault === null || r.fault === 'slow').map((r) => r.method);
    expect(methods.at(-1)).toBe('DELETE');
    expect(emsp.tariffs.has('NL/OCS/FAULT-B')).toBe(true);
  });

  it('location pushes survive the same faults: the newest facts arrive, names never go back', async () => {
    emsp.injectFault({ kind: 'http-500', count: 1, path: '/locations/' });
    emsp.injectFault({ kind: 'slow', count: 1, path: '/locations/', delayMs: pushTimeoutMs * 3 });
    emsp.injectFault({ kind: 'http-429', count: 1, path: '/locations/', retryAfterSeconds: 1 });
    emsp.injectFault({ kind: 'malformed-json', count: 1, path: '/locations/' });
    await send('LOC-FAULT', { type: 'DeclareLocation', locationId: 'LOC-FAULT', facts: siteFacts(1) });
    for (let n = 2; n <= 4; n += 1) await send('LOC-FAULT', { type: 'UpdateLocation', locationId: 'LOC-FAULT', facts: siteFacts(n) });
    await eventually(async () => emsp.locations.get('NL/OCS/LOC-FAULT')?.name === 'Site version 4', arrivesWithinMs, 'the newest location facts at the eMSP');
    await eventually(async () => {
      const { rows } = await db.query<{ state: string }>(`SELECT state FROM ocpi_outbox.pushes WHERE module = 'locations'`);
      expect(rows.filter((row) => row.state === 'rejected')).toEqual([]);
      return rows.every((row) => row.state === 'delivered');
    }, arrivesWithinMs, 'every location push delivered');
    const applied = emsp
      .requestsTo('/locations/NL/OCS/LOC-FAULT')
      .filter((r) => r.fault === null || r.fault === 'slow')
      .map((r) => Number(/(\d+)$/.exec(String((r.body as { name?: string }).name))?.[1]));
    expect([...applied].sort((a, b) => a - b), applied.join(' ')).toEqual(applied);
    expect(emsp.requestsTo('/locations/', 'PUT').filter((r) => r.fault !== null)).toHaveLength(4);
  });

  // The outbox holds an EVSE push (LOC/EVSE) while its location's push is pending (ocpi/push/claims.ts),
  // and retries a 2003 on a child object rather than rejecting it (ocpi/push/deliver.ts).
  it('an EVSE assigned just after its new location never reaches the eMSP before the location does', async () => {
    // The location's PUT fails once: its retry comes after the EVSE's own push would.
    emsp.injectFault({ kind: 'http-500', count: 1, path: /\/locations\/NL\/OCS\/LOC-ORDER$/, method: 'PUT' });
    await send('LOC-ORDER', { type: 'DeclareLocation', locationId: 'LOC-ORDER', facts: siteFacts(1) });
    await send('LOC-ORDER', { type: 'AssignEvse', locationId: 'LOC-ORDER', evse: orderEvse });
    await eventually(async () => (emsp.locations.get('NL/OCS/LOC-ORDER')?.evses as unknown[] | undefined)?.length === 1, arrivesWithinMs, 'the location with its EVSE at the eMSP');
    await eventually(async () => {
      const { rows } = await db.query<{ state: string }>(`SELECT state FROM ocpi_outbox.pushes WHERE object_key LIKE 'LOC-ORDER%' AND state = 'pending'`);
      return rows.length === 0;
    }, arrivesWithinMs, 'no LOC-ORDER push pending');
    // The eMSP answers an EVSE of a location it does not know with 2003 Unknown Location.
    expect(emsp.validationFailures.filter((failure) => failure.path.includes('LOC-ORDER'))).toEqual([]);
  });

  it('a tokens pull through pages of one token, some failing at first, receives every token; a delta pull only the newer', async () => {
    const minute = (n: number) => new Date(Date.UTC(2025, 5, 1, 12, n)).toISOString().replace('.000Z', 'Z');
    const uids = Array.from({ length: 7 }, (_, i) => `PULL-${i + 1}`);
    emsp.clearFaults();
    emsp.tokens.length = 0;
    emsp.requests.length = 0;
    emsp.tokens.push(...uids.map((uid, i) => emspToken(uid, { last_updated: minute(i) })));
    emsp.injectFault({ kind: 'http-500', count: 1, path: '/tokens', method: 'GET' });
    emsp.injectFault({ kind: 'http-429', count: 1, path: '/tokens', method: 'GET', retryAfterSeconds: 0 });
    const deps = { db, bus, clock: systemClock, tenantId: 'default', sealer: ocpi.sealer, us, client: { timeoutMs: 2_000, retryDelayBaseMs: 10 } };
    const pulled = await pullPartnerTokens(deps, 'emsp');
    expect(pulled).toEqual({ received: uids.length, changed: uids.length });
    const pages = emsp.requestsTo('/tokens', 'GET');
    expect(pages.filter((r) => r.fault === null)).toHaveLength(uids.length);
    expect(pages.filter((r) => r.fault !== null)).toHaveLength(2);
    for (const page of pages) expect(page.routing).toEqual({ from: 'NL/OCS', to: 'DE/EMP' });
    const stored = await eventually(async () => {
      const { rows } = await db.query<{ token_id: string }>(`SELECT token_id FROM proj_tokens.tokens WHERE tenant_id = 'default' AND token_id LIKE 'PULL-%' ORDER BY token_id`);
      return rows.length === uids.length ? rows.map((row) => row.token_id) : undefined;
    }, arrivesWithinMs, 'every pulled token in the tokens read model');
    expect(stored).toEqual(uids);

    // Again: nothing changed, nothing appended.
    expect(await pullPartnerTokens(deps, 'emsp')).toEqual({ received: uids.length, changed: 0 });
    // One token changes (blocked at the eMSP): a delta pull from its time receives only it.
    emsp.tokens[6] = emspToken('PULL-7', { valid: false, last_updated: minute(30) });
    emsp.requests.length = 0;
    expect(await pullPartnerTokens(deps, 'emsp', { dateFrom: new Date(minute(20)) })).toEqual({ received: 1, changed: 1 });
    expect(emsp.requestsTo('/tokens', 'GET').map((r) => r.query.date_from)).toEqual([minute(20).replace('Z', '.000Z')]);
  });

  it('the eMSP recorded no schema or protocol failure', () => {
    expect(emsp.validationFailures).toEqual([]);
  });
});
