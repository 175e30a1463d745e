import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPostgresEventStore } from '../../adapters/event-store/postgres.js';
import type { EventStore } from '../../adapters/event-store/port.js';
import type { SqlDatabase } from '../../adapters/sql/port.js';
import { createTokenSealer } from '../../ocpi/credentials/seal.js';
import { TtlLru } from '../../ocpi/tokens/cache.js';
import { createRealtimeAuthorizer, realtimePartnersAskedMax } from '../../ocpi/tokens/realtime.js';
import { migrateProjections } from '../../projections/index.js';
import { eventually } from '../support/eventually.js';
import { createTestPgliteDatabase } from '../support/services.js';

/**
 * The real-time authorizer's own rules, against partners in the read model and eMSPs on
 * 127.0.0.1: who is asked, how many, what wins, what is cached and for how long.
 */

type Answer = 'ALLOWED' | 'NOT_ALLOWED' | 'unknown' | 'down' | { allowed: 'ALLOWED'; delayMs: number };

const sealer = createTokenSealer('s'.repeat(40));
const us = { countryCode: 'NL', partyId: 'CSM' };

describe('OCPI real-time authorizer', () => {
  let db: SqlDatabase;
  let eventStore: EventStore;
  let emsps: FastifyInstance;
  let emspUrl: string;
  /** Per partner prefix: its answer; and every POST received, as "partner:uid". */
  const answers = new Map<string, Answer>();
  const asked: string[] = [];
  /** The `type` query parameter of each POST, by uid. */
  const typeAsked = new Map<string, string>();

  async function addPartner(partnerId: string, party: string, options: { tokensSender?: boolean } = {}): Promise<void> {
    const [countryCode, partyId] = party.split('*');
    const endpoints = options.tokensSender === false ? [] : [{ identifier: 'tokens', role: 'SENDER', url: `${emspUrl}/${partnerId}/tokens` }];
    await db.query(
      `INSERT INTO proj_partners.partners (tenant_id, partner_id, status, version, roles, endpoints, token_hash, token_sealed, updated_at)
       VALUES ('default', $1, 'registered', '2.2.1', $2, $3, $4, $5, now())`,
      [partnerId, JSON.stringify([{ role: 'EMSP', countryCode, partyId }]), JSON.stringify(endpoints), `hash-${partnerId}`, sealer.seal(`token-${partnerId}`)],
    );
  }

  beforeAll(async () => {
    db = await createTestPgliteDatabase();
    eventStore = await openPostgresEventStore(db);
    await migrateProjections({ db, eventStore });
    emsps = Fastify({ logger: false, forceCloseConnections: true });
    emsps.post('/:partner/tokens/:uid/authorize', async (request, reply) => {
      const { partner, uid } = request.params as { partner: string; uid: string };
      asked.push(`${partner}:${uid}`);
      typeAsked.set(uid, (request.query as { type: string }).type);
      const answer = answers.get(partner) ?? 'unknown';
      const envelope = (data: unknown, status_code = 1000) => ({ data, status_code, timestamp: new Date().toISOString() });
      if (answer === 'down') return reply.code(503).send('down');
      if (answer === 'unknown') return envelope(undefined, 2004);
      if (typeof answer === 'object') await new Promise((resolve) => setTimeout(resolve, answer.delayMs));
      // Tokens named REF-*: the answer carries an authorization_reference (REF-BAD: one OCPI cannot carry).
      const reference = uid.startsWith('REF-') ? { authorization_reference: uid === 'REF-BAD' ? 'Référence-ü' : `AUTH-${uid}` } : {};
      // Tokens named NAMES-CC-PID: the answer's token names that party (the others name none).
      const [, countryCode, partyId] = uid.startsWith('NAMES-') ? uid.split('-') : [];
      const token = countryCode === undefined ? {} : { country_code: countryCode, party_id: partyId };
      return envelope({ allowed: typeof answer === 'object' ? answer.allowed : answer, token, ...reference });
    });
    emspUrl = (await emsps.listen({ host: '127.0.0.1', port: 0 })).replace('localhost', '127.0.0.1');
    // Seven eMSPs with a tokens Sender interface, one without.
    for (const [index, partnerId] of ['p1', 'p2', 'p3', 'p4', 'p5', 'p6', 'p7'].entries()) await addPartner(partnerId, `DE*E0${index + 1}`);
    await addPartner('p8', 'DE*E08', { tokensSender: false });
  }, 60_000);
  afterAll(async () => {
    await emsps?.close();
    await eventStore?.close().catch(() => {});
    await db?.close().catch(() => {});
  });

  const reset = (partnerAnswers: Record<string, Answer>) => {
    answers.clear();
    for (const [partner, answer] of Object.entries(partnerAnswers)) answers.set(partner, answer);
    asked.length = 0;
  };
  const station = { stationId: 'CP-1' };

  it(`asks an unknown token of at most ${realtimePartnersAskedMax} eMSPs; the first ALLOWED wins without waiting for the slow one`, async () => {
    reset({ p1: { allowed: 'ALLOWED', delayMs: 1_500 }, p2: 'NOT_ALLOWED', p3: 'ALLOWED', p4: 'unknown', p5: 'down', p6: 'ALLOWED', p7: 'ALLOWED' });
    const authorize = createRealtimeAuthorizer({ db, tenantId: 'default', sealer, us, timeoutMs: 3_000 });
    const startedMs = Date.now();
    expect(await authorize('default', { idToken: 'U-1', type: 'ISO14443' }, station)).toEqual({ allowed: 'ALLOWED', authorizingParty: { countryCode: 'DE', partyId: 'E03' } });
    expect(Date.now() - startedMs).toBeLessThan(1_000);
    // The requests still on their way arrive (none to p6/p7 ever does: checked after a settle time).
    await eventually(async () => asked.length >= realtimePartnersAskedMax, 5_000, 'the five requests');
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(asked.sort()).toEqual(['p1:U-1', 'p2:U-1', 'p3:U-1', 'p4:U-1', 'p5:U-1']);
  });

  it('nobody allowing: the first refusal; nobody knowing or answering: unreachable', async () => {
    reset({ p1: 'unknown', p2: 'NOT_ALLOWED', p3: 'down', p4: 'unknown', p5: 'unknown' });
    const authorize = createRealtimeAuthorizer({ db, tenantId: 'default', sealer, us });
    expect(await authorize('default', { idToken: 'U-2', type: 'ISO14443' }, station)).toMatchObject({ allowed: 'NOT_ALLOWED' });
    reset({ p1: 'unknown', p2: 'down', p3: { allowed: 'ALLOWED', delayMs: 1_000 } });
    const hurried = createRealtimeAuthorizer({ db, tenantId: 'default', sealer, us, timeoutMs: 200 });
    expect(await hurried('default', { idToken: 'U-3', type: 'ISO14443' }, station)).toBe('unreachable');
    expect(await hurried('other-tenant', { idToken: 'U-3', type: 'ISO14443' }, station)).toBe('unreachable');
  });

  it('passes the eMSP authorization_reference on; one a Session or CDR could not carry (not CiString(36)) is dropped, the answer kept', async () => {
    reset({ p1: 'ALLOWED' });
    const authorize = createRealtimeAuthorizer({ db, tenantId: 'default', sealer, us });
    expect(await authorize('default', { idToken: 'REF-GOOD', type: 'ISO14443' }, station)).toMatchObject({ allowed: 'ALLOWED', authorizationReference: 'AUTH-REF-GOOD' });
    const dropped = await authorize('default', { idToken: 'REF-BAD', type: 'ISO14443' }, station);
    expect(dropped).toMatchObject({ allowed: 'ALLOWED' });
    expect(dropped).not.toHaveProperty('authorizationReference');
  });

  it("a known token is asked of its own eMSP only, with the token's OCPI type", async () => {
    await db.query(
      `INSERT INTO proj_tokens.tokens (tenant_id, token_id, uid, token_type, contract_id, issuer, whitelist, source, status, updated_at, country_code, party_id)
       VALUES ('default', 'K-1', 'K-1', 'APP_USER', 'C-1', 'E06', 'ALLOWED', 'ocpi', 'valid', now(), 'DE', 'E06')`,
    );
    reset({ p1: 'ALLOWED', p6: 'NOT_ALLOWED' });
    const authorize = createRealtimeAuthorizer({ db, tenantId: 'default', sealer, us });
    expect(await authorize('default', { idToken: 'K-1', type: 'ISO14443' }, station)).toMatchObject({ allowed: 'NOT_ALLOWED' });
    // Only K-1's requests: a straggler of an earlier test may still arrive under load.
    expect(asked.filter((entry) => entry.endsWith(':K-1'))).toEqual(['p6:K-1']);
    expect(typeAsked.get('K-1')).toBe('APP_USER');
    expect(typeAsked.get('U-1')).toBe('RFID');
  });

  it('caches answers per token for the TTL, at most cacheEntriesMax of them; unreachable is never cached', async () => {
    reset({ p1: 'ALLOWED' });
    let nowMs = 1_000_000;
    const authorize = createRealtimeAuthorizer({ db, tenantId: 'default', sealer, us, cacheTtlMs: 60_000, cacheEntriesMax: 2, nowMs: () => nowMs });
    const ask = (uid: string) => authorize('default', { idToken: uid, type: 'ISO14443' }, station);
    const askedOfP1 = (uid: string) => asked.filter((entry) => entry === `p1:${uid}`).length;
    await ask('C-1');
    await ask('C-1');
    expect(askedOfP1('C-1')).toBe(1);
    nowMs += 60_000;
    await ask('C-1');
    expect(askedOfP1('C-1')).toBe(2);
    await ask('C-2');
    await ask('C-3'); // C-1 is the least recently used of three: gone
    await ask('C-1');
    expect(askedOfP1('C-1')).toBe(3);
    reset({ p1: 'down' });
    expect(await ask('C-4')).toBe('unreachable');
    reset({ p1: 'ALLOWED' });
    expect(await ask('C-4')).toMatchObject({ allowed: 'ALLOWED' });
  });

  it('names the eMSP party whose answer it is: the token it answered about when that party is its own, else its one eMSP party, else none', async () => {
    reset({ p1: 'ALLOWED', m1: 'ALLOWED' });
    const single = createRealtimeAuthorizer({ db, tenantId: 'default', sealer, us });
    // A one-party eMSP answering about another party's token: the answer is still its own.
    expect(await single('default', { idToken: 'NAMES-FR-XYZ', type: 'ISO14443' }, station)).toEqual({ allowed: 'ALLOWED', authorizingParty: { countryCode: 'DE', partyId: 'E01' } });
    // A platform of two eMSP parties: the one its answer names; naming none of its own, nobody is guessed.
    await db.query(
      `INSERT INTO proj_partners.partners (tenant_id, partner_id, status, version, roles, endpoints, token_hash, token_sealed, updated_at)
       VALUES ('multi', 'm1', 'registered', '2.2.1', $1, $2, 'hash-m1', $3, now())`,
      [
        JSON.stringify([{ role: 'EMSP', countryCode: 'DE', partyId: 'E11' }, { role: 'EMSP', countryCode: 'DE', partyId: 'E12' }]),
        JSON.stringify([{ identifier: 'tokens', role: 'SENDER', url: `${emspUrl}/m1/tokens` }]),
        sealer.seal('token-m1'),
      ],
    );
    const platform = createRealtimeAuthorizer({ db, tenantId: 'multi', sealer, us });
    expect(await platform('multi', { idToken: 'NAMES-de-e12', type: 'ISO14443' }, station)).toEqual({ allowed: 'ALLOWED', authorizingParty: { countryCode: 'DE', partyId: 'E12' } });
    expect(await platform('multi', { idToken: 'NAMES-FR-XYZ', type: 'ISO14443' }, station)).toEqual({ allowed: 'ALLOWED' });
    expect(await platform('multi', { idToken: 'M-1', type: 'ISO14443' }, station)).toEqual({ allowed: 'ALLOWED' });
  });

  it('a failing read model is "unreachable", never an exception toward the station', async () => {
    const errors: unknown[] = [];
    const broken = { query: async () => Promise.reject(new Error('relation does not exist')) } as unknown as SqlDatabase;
    const authorize = createRealtimeAuthorizer({ db: broken, tenantId: 'default', sealer, us, onError: (error) => errors.push(error) });
    expect(await authorize('default', { idToken: 'X', type: 'ISO14443' }, station)).toBe('unreachable');
    expect(errors).toHaveLength(1);
  });
});

describe('TtlLru', () => {
  it('drops the least recently used beyond its bound and entries older than the TTL', () => {
    let nowMs = 0;
    const cache = new TtlLru<number>(2, 100, () => nowMs);
    cache.set('a', 1);
    cache.set('b', 2);
    expect(cache.get('a')).toBe(1); // a is now the most recent
    cache.set('c', 3);
    expect([cache.get('a'), cache.get('b'), cache.get('c')]).toEqual([1, undefined, 3]);
    nowMs = 100;
    expect(cache.get('a')).toBeUndefined();
    expect(() => new TtlLru(0, 1)).toThrow(/entriesMax/);
  });
});
