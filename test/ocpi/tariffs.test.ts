import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixedClock } from '../../adapters/clock/clock.js';
import { openPostgresEventStore } from '../../adapters/event-store/postgres.js';
import type { EventStore, RecordedEvent } from '../../adapters/event-store/port.js';
import type { SqlDatabase } from '../../adapters/sql/port.js';
import { buildServer } from '../../api/server.js';
import { createCommandBus, type Command, type CommandBus } from '../../commands/index.js';
import { element, energy, flat, tariff, time } from '../../domain/tariff/fixtures/index.js';
import { tariffsPushSource } from '../../ocpi/tariffs/push.js';
import { tariffSchema } from '../../ocpi/schemas/index.js';
import { authorizationHeader, credentialsTokenHash, newCredentialsToken } from '../../ocpi/transport/auth.js';
import { routingRequestHeaders } from '../../ocpi/transport/headers.js';
import { nextLink } from '../../ocpi/transport/pagination.js';
import { migrateProjections, startProjectionRunners } from '../../projections/index.js';
import { partnersProjection } from '../../projections/partners.js';
import { tariffsProjection } from '../../projections/tariffs.js';
import { createTestPgliteDatabase } from '../support/services.js';

/**
 * The Tariffs Sender (OCPI 2.2.1 mod_tariffs) on the real server (buildServer on PGlite, tariffs
 * and partners projections running): an eMSP pages through our active tariffs; the push source
 * builds the PUT and DELETE the outbox sends.
 */

const us = { countryCode: 'NL', partyId: 'CSM' };
const emsp = { countryCode: 'DE', partyId: 'EMP' };
const tenantId = 'default';

describe('OCPI tariffs module (Sender)', () => {
  let db: SqlDatabase;
  let eventStore: EventStore;
  let bus: CommandBus;
  let server: FastifyInstance;
  let serverUrl: string;
  let runners: { stop(): Promise<void>; idle(): Promise<void> };
  let token: string;
  const clock = fixedClock('2025-04-01T08:00:00.000Z');
  const times: Record<string, string> = {};
  let sent = 0;

  async function send(aggregateId: string, command: Command): Promise<void> {
    sent += 1;
    const at = clock.now().toISOString();
    await bus.send({ commandId: `test-${sent}`, tenantId, aggregateId, actor: 'user:test', correlationId: `c-${sent}`, occurredAt: at, command });
    await runners.idle();
  }

  /** A registered eMSP as the credentials handshake leaves it: its token C known to us by hash. */
  async function registerPartner(partnerId: string): Promise<string> {
    const tokenC = newCredentialsToken();
    await send(partnerId, { type: 'IssueRegistrationToken', tokenTheyPresent: { token: 'A', tokenHash: credentialsTokenHash(newCredentialsToken()) } });
    await send(partnerId, {
      type: 'RegisterPartner',
      initiatedBy: 'partner',
      connection: { roles: [{ role: 'EMSP', ...emsp, businessDetails: { name: 'Test eMSP' } }], version: '2.2.1', versionsUrl: 'https://emsp.example.com/ocpi/versions', endpoints: [] },
      tokenWePresent: { token: 'B', tokenSealed: 'not-used-here' },
      tokenTheyPresent: { token: 'C', tokenHash: credentialsTokenHash(tokenC) },
    });
    return tokenC;
  }

  const day = tariff('A-DAY', [element([flat(0.5, 21), energy(0.3, 21, 1)])], { country_code: 'NL', party_id: 'CSM', type: 'REGULAR' });
  const fast = tariff('B-FAST', [element([energy(0.59, 21, 1), time(6, 21, 60)])], { country_code: 'NL', party_id: 'CSM', type: 'PROFILE_FAST' });
  const free = tariff('C-FREE', [element([flat(0)])], { country_code: 'NL', party_id: 'CSM', tariff_alt_text: [{ language: 'en', text: 'Free of charge' }] });

  async function createAt(at: string, value: typeof day): Promise<void> {
    clock.set(at);
    times[value.id] = at;
    await send(value.id, { type: 'CreateTariff', tariff: value, createdAt: at });
  }

  beforeAll(async () => {
    db = await createTestPgliteDatabase();
    eventStore = await openPostgresEventStore(db);
    await migrateProjections({ db, eventStore });
    bus = createCommandBus({ eventStore, clock });
    runners = startProjectionRunners({ db, eventStore }, { projections: [partnersProjection, tariffsProjection] });
    server = await buildServer({
      db,
      eventStore,
      bus,
      logLevel: 'silent',
      ocpi: { publicUrl: null, secret: 'x'.repeat(40), roles: [{ role: 'CPO', country_code: us.countryCode, party_id: us.partyId, business_details: { name: 'Open-CSMS test' } }] },
    });
    serverUrl = await server.listen({ host: '127.0.0.1', port: 0 });
    token = await registerPartner('emsp_de');
    await createAt('2025-04-01T08:00:00.000Z', day);
    await createAt('2025-04-01T08:01:00.000Z', fast);
    await createAt('2025-04-01T08:02:00.000Z', free);
  });
  afterAll(async () => {
    await server?.close();
    await runners?.stop();
    await eventStore?.close().catch(() => {});
    await db?.close().catch(() => {});
  });

  const get = (url: string) =>
    fetch(url.startsWith('http') ? url : `${serverUrl}/ocpi${url}`, { headers: { authorization: authorizationHeader(token), ...routingRequestHeaders({ from: emsp, to: us }) } });

  /** Every page from `path` following Link, with each page's headers. */
  async function crawl(path: string) {
    const pages: { url: string; ids: string[]; total: string | null; limit: string | null; link: string | null }[] = [];
    const items: Record<string, unknown>[] = [];
    for (let url: string | null = path; url !== null; ) {
      if (pages.length > 20) throw new Error('too many pages');
      const response = await get(url);
      expect(response.status).toBe(200);
      const body = (await response.json()) as { status_code: number; data: Record<string, unknown>[] };
      expect(body.status_code).toBe(1000);
      items.push(...body.data);
      const link = nextLink(response.headers.get('link'));
      pages.push({ url, ids: body.data.map((t) => String(t.id)), total: response.headers.get('x-total-count'), limit: response.headers.get('x-limit'), link });
      url = link;
    }
    return { pages, items, ids: items.map((t) => String(t.id)) };
  }

  it('lists tariffs as a SENDER in our 2.2.1 version details', async () => {
    const details = (await (await get('/2.2.1')).json()) as { data: { endpoints: { identifier: string; role: string; url: string }[] } };
    expect(details.data.endpoints).toContainEqual({ identifier: 'tariffs', role: 'SENDER', url: `${serverUrl}/ocpi/2.2.1/tariffs` });
  });

  it('pages oldest first with limit=1, following Link, with X-Total-Count and X-Limit; every tariff passes the spec schema', async () => {
    const { pages, items, ids } = await crawl('/2.2.1/tariffs?limit=1');
    expect(ids).toEqual(['A-DAY', 'B-FAST', 'C-FREE']);
    expect(pages.map((page) => page.ids.length)).toEqual([1, 1, 1]);
    expect(pages.every((page) => page.total === '3' && page.limit === '100')).toBe(true);
    expect(pages.at(-1)!.link).toBeNull();
    expect(new URL(pages[1]!.url).searchParams.get('offset')).toBe('1');
    for (const item of items) expect(tariffSchema.safeParse(item).error).toBeUndefined();
    expect(items[0]).toEqual({ ...day, last_updated: times['A-DAY'] });
  });

  it('filters on last_updated: date_from inclusive, date_to exclusive, the Link keeping both', async () => {
    const { pages, ids } = await crawl('/2.2.1/tariffs?date_from=2025-04-01T08:01:00Z&date_to=2025-04-01T08:02:00Z');
    expect(ids).toEqual(['B-FAST']);
    expect(pages[0]!.total).toBe('1');
    const paged = await crawl('/2.2.1/tariffs?date_from=2025-04-01T08:01:00Z&limit=1');
    expect(paged.ids).toEqual(['B-FAST', 'C-FREE']);
    expect(new URL(paged.pages[0]!.link!).searchParams.get('date_from')).toBe('2025-04-01T08:01:00Z');
    expect(paged.pages[0]!.total).toBe('2');
  });

  it('answers 2001 to a malformed date filter', async () => {
    const response = await get('/2.2.1/tariffs?date_from=yesterday');
    // An OCPI-level refusal (transport/status.ts): HTTP 200, status 2001 naming the parameter.
    const body = (await response.json()) as { status_code: number; status_message: string };
    expect(body.status_code).toBe(2001);
    expect(body.status_message).toMatch(/date_from/);
  });

  it('serves a new version at the end of the list; a deactivated tariff disappears', async () => {
    clock.set('2025-04-01T08:03:00.000Z');
    const day2 = { ...day, elements: [element([flat(0.5, 21), energy(0.32, 21, 1)])] };
    await send('A-DAY', { type: 'VersionTariff', tariff: day2, versionedAt: clock.now().toISOString() });
    clock.set('2025-04-01T08:04:00.000Z');
    await send('B-FAST', { type: 'DeactivateTariff', deactivatedAt: clock.now().toISOString(), reason: 'withdrawn' });
    const { items, ids, pages } = await crawl('/2.2.1/tariffs');
    expect(ids).toEqual(['C-FREE', 'A-DAY']);
    expect(pages[0]!.total).toBe('2');
    expect(items[1]).toEqual({ ...day2, last_updated: '2025-04-01T08:03:00.000Z' });
  });

  describe('push source', () => {
    const context = () => ({ db, tenantId, us, partner: { partnerId: 'emsp_de', parties: [emsp] } });
    const event = (type: string, data: Record<string, unknown>) => ({ type, data, streamId: `tariff-${tenantId}-${String(data.tariffId)}` }) as unknown as RecordedEvent;

    it('triggers: created and versioned are object changes, deactivated a delete, others nothing', () => {
      expect(tariffsPushSource.triggers(event('TariffCreated', { tariffId: 'T1' }))).toEqual([{ module: 'tariffs', objectKey: 'T1', change: 'object' }]);
      expect(tariffsPushSource.triggers(event('TariffVersioned', { tariffId: 'T1' }))).toEqual([{ module: 'tariffs', objectKey: 'T1', change: 'object' }]);
      expect(tariffsPushSource.triggers(event('TariffDeactivated', { tariffId: 'T1' }))).toEqual([{ module: 'tariffs', objectKey: 'T1', change: 'delete' }]);
      expect(tariffsPushSource.triggers(event('TariffAttached', { tariffId: 'T1' }))).toEqual([]);
      expect([...tariffsPushSource.eventTypes].sort()).toEqual(['TariffCreated', 'TariffDeactivated', 'TariffVersioned']);
    });

    it('builds a PUT of the whole tariff that passes the spec schema', async () => {
      const request = await tariffsPushSource.build(context(), 'A-DAY', 'object');
      expect(request).toMatchObject({ method: 'PUT', path: '/NL/CSM/A-DAY' });
      const body = tariffSchema.parse(request!.body);
      expect(body.elements[0]!.price_components[1]!.price).toBe(0.32);
      expect(body.last_updated).toBe('2025-04-01T08:03:00.000Z');
    });

    it('builds a DELETE for a deactivated tariff, even from an older object change', async () => {
      expect(await tariffsPushSource.build(context(), 'B-FAST', 'delete')).toEqual({ method: 'DELETE', path: '/NL/CSM/B-FAST' });
      expect(await tariffsPushSource.build(context(), 'B-FAST', 'object')).toEqual({ method: 'DELETE', path: '/NL/CSM/B-FAST' });
      expect(await tariffsPushSource.build(context(), 'NO-SUCH', 'object')).toBeNull();
    });

    it('lists the active tariff keys oldest first, from a cursor, within a limit', async () => {
      const keysContext = { db, tenantId };
      expect(await tariffsPushSource.listKeys({ ...keysContext, us }, null, 10)).toEqual(['C-FREE', 'A-DAY']);
      expect(await tariffsPushSource.listKeys({ ...keysContext, us }, null, 1)).toEqual(['C-FREE']);
      expect(await tariffsPushSource.listKeys({ ...keysContext, us }, 'C-FREE', 10)).toEqual(['A-DAY']);
      expect(await tariffsPushSource.listKeys({ ...keysContext, us }, 'A-DAY', 10)).toEqual([]);
    });
  });
});
