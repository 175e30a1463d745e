import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixedClock } from '../../adapters/clock/clock.js';
import { openPostgresEventStore } from '../../adapters/event-store/postgres.js';
import type { EventStore, RecordedEvent } from '../../adapters/event-store/port.js';
import type { SqlDatabase } from '../../adapters/sql/port.js';
import { buildServer } from '../../api/server.js';
import { createCommandBus, type Command, type CommandBus } from '../../commands/index.js';
import { creditCdrFrom, type OcpiCdr } from '../../domain/cdr/index.js';
import { sampleCdr } from '../../domain/cdr/fixtures.js';
import { element, energy, flat, tariff } from '../../domain/tariff/fixtures/index.js';
import { cdrsPushSource } from '../../ocpi/cdrs/push.js';
import { cdrSchema } from '../../ocpi/schemas/index.js';
import { authorizationHeader, credentialsTokenHash, newCredentialsToken } from '../../ocpi/transport/auth.js';
import { routingRequestHeaders, type OcpiParty } from '../../ocpi/transport/headers.js';
import { nextLink } from '../../ocpi/transport/pagination.js';
import { cdrsProjection } from '../../projections/cdrs.js';
import { migrateProjections, startProjectionRunners } from '../../projections/index.js';
import { partnersProjection } from '../../projections/partners.js';
import { createTestPgliteDatabase } from '../support/services.js';

/**
 * The CDRs Sender (OCPI 2.2.1 mod_cdrs) on the real server (buildServer on PGlite, cdrs and
 * partners projections running): each eMSP pages through the CDRs of its own tokens, a hub
 * through all; a credit CDR is listed like any other; the push source builds the POST.
 */

const us: OcpiParty = { countryCode: 'NL', partyId: 'CSM' };
const germanEmsp: OcpiParty = { countryCode: 'DE', partyId: 'EMP' };
const frenchEmsp: OcpiParty = { countryCode: 'FR', partyId: 'OTH' };
const hub: OcpiParty = { countryCode: 'NL', partyId: 'HUB' };
const tenantId = 'default';

/** The tariff snapshot as the CDR issuer records it: the whole OCPI tariff in force. */
const standard = tariff('T-STD', [element([flat(1, 21), energy(0.3, 21, 1)])], { country_code: us.countryCode, party_id: us.partyId });

const cdr = (id: string, lastUpdated: string, token: OcpiParty = germanEmsp): OcpiCdr =>
  sampleCdr({
    id,
    country_code: us.countryCode,
    party_id: us.partyId,
    session_id: id,
    tariffs: [standard],
    cdr_token: { country_code: token.countryCode, party_id: token.partyId, uid: `UID-${id}`, type: 'RFID', contract_id: `${token.countryCode}-${token.partyId}-C${id}` },
    last_updated: lastUpdated,
  });

describe('OCPI cdrs module (Sender)', () => {
  let db: SqlDatabase;
  let eventStore: EventStore;
  let bus: CommandBus;
  let server: FastifyInstance;
  let serverUrl: string;
  let runners: { stop(): Promise<void>; idle(): Promise<void> };
  const tokens: Record<string, string> = {};
  const clock = fixedClock('2025-03-02T00:00:00.000Z');
  let sent = 0;

  async function send(aggregateId: string, command: Command): Promise<void> {
    sent += 1;
    await bus.send({ commandId: `test-${sent}`, tenantId, aggregateId, actor: 'user:test', correlationId: `c-${sent}`, occurredAt: clock.now().toISOString(), command });
  }

  /** A registered partner as the credentials handshake leaves it: its token C known to us by hash. */
  async function registerPartner(partnerId: string, role: 'EMSP' | 'HUB', party: OcpiParty): Promise<void> {
    const tokenC = newCredentialsToken();
    await send(partnerId, { type: 'IssueRegistrationToken', tokenTheyPresent: { token: 'A', tokenHash: credentialsTokenHash(newCredentialsToken()) } });
    await send(partnerId, {
      type: 'RegisterPartner',
      initiatedBy: 'partner',
      connection: { roles: [{ role, ...party, businessDetails: { name: partnerId } }], version: '2.2.1', versionsUrl: `https://${partnerId}.example.com/ocpi/versions`, endpoints: [] },
      tokenWePresent: { token: 'B', tokenSealed: 'not-used-here' },
      tokenTheyPresent: { token: 'C', tokenHash: credentialsTokenHash(tokenC) },
    });
    tokens[partnerId] = tokenC;
  }

  async function issue(value: OcpiCdr): Promise<void> {
    await send(value.id, { type: 'IssueCdr', cdr: value, transactionId: `tx-${value.id}`, tenantId, tariffVersionId: 'T-STD@1' });
  }

  beforeAll(async () => {
    db = await createTestPgliteDatabase();
    eventStore = await openPostgresEventStore(db);
    await migrateProjections({ db, eventStore });
    bus = createCommandBus({ eventStore, clock });
    runners = startProjectionRunners({ db, eventStore }, { projections: [partnersProjection, cdrsProjection] });
    server = await buildServer({
      db,
      eventStore,
      bus,
      logLevel: 'silent',
      ocpi: { publicUrl: null, secret: 'x'.repeat(40), roles: [{ role: 'CPO', country_code: us.countryCode, party_id: us.partyId, business_details: { name: 'Open-CSMS test' } }] },
    });
    serverUrl = await server.listen({ host: '127.0.0.1', port: 0 });
    await registerPartner('emsp_de', 'EMSP', germanEmsp);
    await registerPartner('emsp_fr', 'EMSP', frenchEmsp);
    await registerPartner('hub_nl', 'HUB', hub);
    await issue(cdr('CDR-1', '2025-03-01T11:05:00Z'));
    await issue(cdr('CDR-2', '2025-03-01T11:06:00Z', frenchEmsp));
    await issue(cdr('CDR-3', '2025-03-01T12:05:00Z'));
    // The credit as the billing process does it: CreditCdr on the original, the credit CDR on its own stream.
    const creditedAt = '2025-03-02T09:00:00.000Z';
    await send('CDR-1', { type: 'CreditCdr', creditCdrId: 'CDR-1-CR', creditedAt, reason: 'wrong tariff' });
    const original = { cdr: cdr('CDR-1', '2025-03-01T11:05:00Z'), transactionId: 'tx-CDR-1', tenantId, tariffVersionId: 'T-STD@1', replacesCdrId: null };
    const credit = creditCdrFrom(original, 'CDR-1-CR', creditedAt);
    await send('CDR-1-CR', { type: 'IssueCdr', ...credit });
    await runners.idle();
  });
  afterAll(async () => {
    await server?.close();
    await runners?.stop();
    await eventStore?.close().catch(() => {});
    await db?.close().catch(() => {});
  });

  const get = (partnerId: string, url: string, party: OcpiParty) =>
    fetch(url.startsWith('http') ? url : `${serverUrl}/ocpi${url}`, {
      headers: { authorization: authorizationHeader(tokens[partnerId]!), ...routingRequestHeaders({ from: party, to: us }) },
    });

  /** Every page from `path` following Link, with each page's headers. */
  async function crawl(partnerId: string, path: string, party: OcpiParty) {
    const pages: { url: string; count: number; total: string | null; limit: string | null }[] = [];
    const items: Record<string, any>[] = [];
    for (let url: string | null = path; url !== null; ) {
      if (pages.length > 20) throw new Error('too many pages');
      const response = await get(partnerId, url, party);
      const body = (await response.json()) as { status_code: number; status_message?: string; data: Record<string, any>[] };
      expect(body.status_code, body.status_message).toBe(1000);
      items.push(...body.data);
      pages.push({ url, count: body.data.length, total: response.headers.get('x-total-count'), limit: response.headers.get('x-limit') });
      url = nextLink(response.headers.get('link'));
    }
    return { pages, items, ids: items.map((item) => String(item.id)) };
  }

  it('lists cdrs as a SENDER in our 2.2.1 version details', async () => {
    const details = (await (await get('emsp_de', '/2.2.1', germanEmsp)).json()) as { data: { endpoints: unknown[] } };
    expect(details.data.endpoints).toContainEqual({ identifier: 'cdrs', role: 'SENDER', url: `${serverUrl}/ocpi/2.2.1/cdrs` });
  });

  it("gives an eMSP only its own tokens' CDRs, oldest first, page by page, the credit CDR among them", async () => {
    const { pages, items, ids } = await crawl('emsp_de', '/2.2.1/cdrs?limit=1', germanEmsp);
    expect(ids).toEqual(['CDR-1', 'CDR-3', 'CDR-1-CR']);
    expect(pages.map((page) => [page.count, page.total, page.limit])).toEqual([
      [1, '3', '100'],
      [1, '3', '100'],
      [1, '3', '100'],
    ]);
    for (const item of items) expect(cdrSchema.safeParse(item).error).toBeUndefined();
    const credit = items[2]!;
    expect(credit).toMatchObject({ credit: true, credit_reference_id: 'CDR-1', total_cost: { excl_vat: -7, incl_vat: -8.47 }, total_energy: -20, last_updated: '2025-03-02T09:00:00.000Z' });
  });

  it('sends money and volumes as JSON numbers with the digits as issued', async () => {
    const { items } = await crawl('emsp_de', '/2.2.1/cdrs?limit=1', germanEmsp);
    expect(items[0]).toMatchObject({
      id: 'CDR-1',
      total_cost: { excl_vat: 7, incl_vat: 8.47 },
      total_energy_cost: { excl_vat: 6, incl_vat: 7.26 },
      total_energy: 20,
      total_time: 1,
      charging_periods: [{ dimensions: [{ type: 'ENERGY', volume: 20 }] }],
      tariffs: [{ ...standard }],
    });
  });

  it('gives another eMSP only its CDR, and a hub every CDR', async () => {
    expect((await crawl('emsp_fr', '/2.2.1/cdrs', frenchEmsp)).ids).toEqual(['CDR-2']);
    const all = await crawl('hub_nl', '/2.2.1/cdrs', hub);
    expect(all.ids).toEqual(['CDR-1', 'CDR-2', 'CDR-3', 'CDR-1-CR']);
    expect(all.pages[0]!.total).toBe('4');
  });

  it('filters on last_updated: date_from inclusive, date_to exclusive', async () => {
    const { ids, pages } = await crawl('emsp_de', '/2.2.1/cdrs?date_from=2025-03-01T11:05:00Z&date_to=2025-03-02T09:00:00Z', germanEmsp);
    expect(ids).toEqual(['CDR-1', 'CDR-3']);
    expect(pages[0]!.total).toBe('2');
    expect((await crawl('emsp_de', '/2.2.1/cdrs?date_from=2025-03-02T09:00:00Z', germanEmsp)).ids).toEqual(['CDR-1-CR']);
  });

  describe('push source', () => {
    const contextFor = (partnerId: string, parties: OcpiParty[]) => ({ db, tenantId, us, partner: { partnerId, parties } });
    const event = (type: string, data: Record<string, unknown>) => ({ type, data, streamId: `cdr-${tenantId}-X` }) as unknown as RecordedEvent;

    it('triggers once per CDR, on its own CdrIssued: the credit and the corrected CDR have theirs', () => {
      expect(cdrsPushSource.triggers(event('CdrIssued', { cdr: { id: 'CDR-9' } }))).toEqual([{ module: 'cdrs', objectKey: 'CDR-9', change: 'object' }]);
      expect(cdrsPushSource.triggers(event('CdrIssued', { cdr: { id: 'CDR-9-CR', credit: true, credit_reference_id: 'CDR-9' } }))).toEqual([
        { module: 'cdrs', objectKey: 'CDR-9-CR', change: 'object' },
      ]);
      // On the original's stream: the CDRs they name are pushed from their own CdrIssued, never twice.
      expect(cdrsPushSource.triggers(event('CdrCredited', { cdrId: 'CDR-9', creditCdrId: 'CDR-9-CR' }))).toEqual([]);
      expect(cdrsPushSource.triggers(event('CdrReissued', { cdrId: 'CDR-9', replacementCdrId: 'CDR-10' }))).toEqual([]);
      expect([...cdrsPushSource.eventTypes]).toEqual(['CdrIssued']);
    });

    it('every CDR event of the test history triggers its CDR exactly once', async () => {
      const events = (await eventStore.readAll({ limit: 1000 })).filter((e) => cdrsPushSource.eventTypes.has(e.type));
      const keys = events.flatMap((e) => cdrsPushSource.triggers(e)).map((t) => t.objectKey);
      expect(keys.sort()).toEqual(['CDR-1', 'CDR-1-CR', 'CDR-2', 'CDR-3']);
    });

    it('builds a POST to the endpoint itself with the CDR, for its own eMSP only', async () => {
      const request = await cdrsPushSource.build(contextFor('emsp_de', [germanEmsp]), 'CDR-1-CR', 'object');
      expect(request).toMatchObject({ method: 'POST', path: '' });
      expect(cdrSchema.parse(request!.body)).toMatchObject({ id: 'CDR-1-CR', credit: true, credit_reference_id: 'CDR-1' });
      expect(await cdrsPushSource.build(contextFor('emsp_de', [germanEmsp]), 'CDR-2', 'object')).toBeNull();
      expect(await cdrsPushSource.build(contextFor('emsp_fr', [frenchEmsp]), 'CDR-2', 'object')).toMatchObject({ method: 'POST', path: '' });
      expect(await cdrsPushSource.build(contextFor('emsp_de', [germanEmsp]), 'NO-SUCH', 'object')).toBeNull();
      expect(await cdrsPushSource.build(contextFor('emsp_de', [germanEmsp]), 'CDR-1', 'delete')).toBeNull();
    });

    it('lists CDR keys oldest first from a cursor', async () => {
      expect(await cdrsPushSource.listKeys({ db, tenantId, us }, null, 10)).toEqual(['CDR-1', 'CDR-2', 'CDR-3', 'CDR-1-CR']);
      expect(await cdrsPushSource.listKeys({ db, tenantId, us }, 'CDR-2', 1)).toEqual(['CDR-3']);
    });
  });
});
