import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { fixedClock } from '../../adapters/clock/clock.js';
import { authorizationHeader, credentialsTokenCandidates } from '../../ocpi/transport/auth.js';
import { nextLink, ocpiPageLimitMax, paginateInMemory, parsePageRequest, setPageHeaders } from '../../ocpi/transport/pagination.js';
import { installOcpiTransport, ocpiRoute, type OcpiCaller, type OcpiTransport } from '../../ocpi/transport/route.js';
import { OcpiError, OcpiStatus } from '../../ocpi/transport/status.js';
import { checkUrlMatchesBody, parseOcpi } from '../../ocpi/transport/validate.js';

/** Transport rules of OCPI 2.2.1 chapters 4 and 5, on a tiny app using the same route helper as the modules. */

const clock = fixedClock('2024-05-01T12:00:00Z');
const tokens: Record<string, OcpiCaller> = {
  'token-c': { partnerId: 'emsp1', registered: true, token: 'token-c', roles: [{ role: 'EMSP', countryCode: 'DE', partyId: 'ABC' }] },
  'token-a': { partnerId: 'emsp2', registered: false, token: 'token-a', roles: [] },
  // A platform serving two eMSP parties, and a hub: both must say who sends (routing headers).
  'token-platform': { partnerId: 'platform', registered: true, token: 'token-platform', roles: [{ role: 'EMSP', countryCode: 'DE', partyId: 'ABC' }, { role: 'EMSP', countryCode: 'DE', partyId: 'XYZ' }] },
  'token-hub': { partnerId: 'hub', registered: true, token: 'token-hub', roles: [{ role: 'HUB', countryCode: 'NL', partyId: 'HUB' }] },
};
const transport: OcpiTransport = {
  clock,
  authenticator: { authenticate: async (candidates) => candidates.map((c) => tokens[c]).find((caller) => caller !== undefined) ?? null },
  us: [{ countryCode: 'NL', partyId: 'CSM' }],
};
const objects = Array.from({ length: 7 }, (_, i) => ({ id: `obj-${i}`, last_updated: new Date(Date.UTC(2024, 0, 7 - i)).toISOString() }));
const auth = { authorization: authorizationHeader('token-c') };
const routing = { 'ocpi-from-country-code': 'de', 'ocpi-from-party-id': 'ABC', 'ocpi-to-country-code': 'NL', 'ocpi-to-party-id': 'CSM' };

let app: FastifyInstance;
beforeAll(async () => {
  app = Fastify({ logger: false, forceCloseConnections: true });
  await app.register(
    async (ocpi) => {
      installOcpiTransport(ocpi, transport);
      ocpiRoute(ocpi, transport, { method: 'GET', url: '/versions', module: 'versions', handler: async (_r, _p, context) => ({ data: { partner: context.caller.partnerId, routing: context.routing } }) });
      ocpiRoute(ocpi, transport, {
        method: 'GET',
        url: '/2.2.1/things',
        module: 'things',
        handler: async (request, reply) => {
          const page = parsePageRequest(request.query, 3);
          const result = paginateInMemory(objects, (o) => o.last_updated, (o) => o.id, page);
          setPageHeaders(request, reply, page, result, 'https://csms.example.com');
          return { data: result.items };
        },
      });
      ocpiRoute(ocpi, transport, {
        method: 'PUT',
        url: '/2.2.1/things/:id',
        module: 'things',
        handler: async (request) => {
          const body = parseOcpi(z.object({ id: z.string().max(36), name: z.string() }), request.body, 'thing');
          checkUrlMatchesBody([{ name: 'id', url: (request.params as { id: string }).id, body: body.id }]);
          return { data: body, httpStatus: 201 };
        },
      });
      ocpiRoute(ocpi, transport, { method: 'GET', url: '/2.2.1/boom', module: 'things', handler: async () => Promise.reject(new Error('bug')) });
      ocpiRoute(ocpi, transport, { method: 'GET', url: '/2.2.1/sender', module: 'things', handler: async (_r, _p, context) => ({ data: context.routing }) });
    },
    { prefix: '/ocpi' },
  );
});
afterAll(async () => app?.close());

describe('Authorization header (spec 4.1.2)', () => {
  it('decodes Base64 and also accepts the raw token of 2.1.1-style clients', () => {
    expect(credentialsTokenCandidates(authorizationHeader('example-token'))).toEqual(['example-token', 'ZXhhbXBsZS10b2tlbg==']);
    expect(credentialsTokenCandidates('Token example-token')).toEqual(['example-token']);
    // The spec's own example encodes a trailing newline.
    expect(credentialsTokenCandidates('Token ZXhhbXBsZS10b2tlbgo=')[0]).toBe('example-token');
    expect(credentialsTokenCandidates('Bearer x')).toEqual([]);
    expect(credentialsTokenCandidates(undefined)).toEqual([]);
  });

  it('answers 401 with an envelope to a missing or unknown token', async () => {
    for (const headers of [{}, { authorization: authorizationHeader('nobody') }]) {
      const response = await app.inject({ method: 'GET', url: '/ocpi/versions', headers });
      expect(response.statusCode).toBe(401);
      expect(response.json()).toMatchObject({ status_code: 2000, timestamp: '2024-05-01T12:00:00.000Z' });
      expect(response.json()).not.toHaveProperty('data');
    }
  });

  it('accepts the raw token too', async () => {
    const response = await app.inject({ method: 'GET', url: '/ocpi/versions', headers: { authorization: 'Token token-c' } });
    expect(response.json()).toMatchObject({ status_code: 1000, data: { partner: 'emsp1' } });
  });

  it('lets a registration token (A) call versions and credentials only: 401 elsewhere', async () => {
    const headers = { authorization: authorizationHeader('token-a'), ...routing };
    expect((await app.inject({ method: 'GET', url: '/ocpi/versions', headers })).statusCode).toBe(200);
    expect((await app.inject({ method: 'GET', url: '/ocpi/2.2.1/things', headers })).statusCode).toBe(401);
  });
});

describe('envelope and message ids (spec 4.1.7, 4.2)', () => {
  it('wraps data as {data, status_code 1000, status_message, timestamp}', async () => {
    const response = await app.inject({ method: 'GET', url: '/ocpi/versions', headers: auth });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ data: { partner: 'emsp1', routing: null }, status_code: 1000, status_message: 'Success', timestamp: '2024-05-01T12:00:00.000Z' });
  });

  it('echoes X-Request-ID and X-Correlation-ID, and generates them when missing, even on errors', async () => {
    const echoed = await app.inject({ method: 'GET', url: '/ocpi/versions', headers: { ...auth, 'x-request-id': 'req-1', 'x-correlation-id': 'corr-1' } });
    expect(echoed.headers['x-request-id']).toBe('req-1');
    expect(echoed.headers['x-correlation-id']).toBe('corr-1');
    for (const response of [await app.inject({ method: 'GET', url: '/ocpi/versions' }), await app.inject({ method: 'GET', url: '/ocpi/nowhere/at/all', headers: auth })]) {
      expect(response.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
      expect(response.headers['x-correlation-id']).toMatch(/^[0-9a-f-]{36}$/);
    }
  });

  it('maps OcpiError to its HTTP status: 2xxx/3xxx reached the OCPI layer, so HTTP 200', () => {
    expect(new OcpiError(OcpiStatus.unableToUseClientApi).httpStatus).toBe(200);
    expect(new OcpiError(OcpiStatus.clientError, 'x', { httpStatus: 405 }).httpStatus).toBe(405);
  });

  it('answers an unexpected failure with HTTP 500 and status 3000', async () => {
    const response = await app.inject({ method: 'GET', url: '/ocpi/2.2.1/boom', headers: { ...auth, ...routing } });
    expect(response.statusCode).toBe(500);
    expect(response.json()).toMatchObject({ status_code: 3000 });
  });

  it('answers unreadable JSON with HTTP 400 (spec 5)', async () => {
    const response = await app.inject({ method: 'PUT', url: '/ocpi/2.2.1/things/1', headers: { ...auth, ...routing, 'content-type': 'application/json' }, payload: '{not json' });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({ status_code: 2001 });
  });
});

describe('routing headers (spec 4.1.8)', () => {
  const withToken = (token: string, headers: Record<string, string> = {}) => ({ authorization: authorizationHeader(token), ...headers });
  const sender = (headers: Record<string, string>) => app.inject({ method: 'GET', url: '/ocpi/2.2.1/sender', headers });

  it('may be left out on a direct link (one party each side): the sender is the party of the credentials', async () => {
    const response = await sender(withToken('token-c'));
    expect(response.json()).toMatchObject({ status_code: 1000, data: { from: { countryCode: 'DE', partyId: 'ABC' }, to: { countryCode: 'NL', partyId: 'CSM' } } });
    // The response still names both parties, as a Direct response does.
    expect(response.headers['ocpi-to-party-id']).toBe('ABC');
    expect(response.headers['ocpi-from-party-id']).toBe('CSM');
  });

  it('are required from a platform with several parties and from a hub: 2001 saying why', async () => {
    const platform = (await sender(withToken('token-platform'))).json();
    expect(platform.status_code).toBe(2001);
    expect(platform.status_message).toMatch(/routing headers required: your credentials hold 2 parties \(DE\*ABC, DE\*XYZ\)/);
    const hub = (await sender(withToken('token-hub'))).json();
    expect(hub.status_code).toBe(2001);
    expect(hub.status_message).toMatch(/routing headers required: you connect as a HUB/);
    // With them, the platform's second party is the sender.
    const second = (await sender(withToken('token-platform', { ...routing, 'ocpi-from-country-code': 'DE', 'ocpi-from-party-id': 'xyz' }))).json();
    expect(second).toMatchObject({ status_code: 1000, data: { from: { countryCode: 'DE', partyId: 'XYZ' } } });
  });

  it('OCPI-from must be a party of the caller\'s credentials; a hub forwards for any party', async () => {
    const other = (await sender(withToken('token-c', { ...routing, 'ocpi-from-party-id': 'XYZ' }))).json();
    expect(other.status_code).toBe(2001);
    expect(other.status_message).toMatch(/OCPI-from DE\*XYZ is not a party of your credentials \(DE\*ABC\)/);
    const viaHub = (await sender(withToken('token-hub', { ...routing, 'ocpi-from-country-code': 'FR', 'ocpi-from-party-id': 'ANY' }))).json();
    expect(viaHub).toMatchObject({ status_code: 1000, data: { from: { countryCode: 'FR', partyId: 'ANY' } } });
  });

  it('OCPI-to must be us', async () => {
    const elsewhere = (await sender(withToken('token-c', { ...routing, 'ocpi-to-party-id': 'OTH' }))).json();
    expect(elsewhere.status_code).toBe(2001);
    expect(elsewhere.status_message).toMatch(/OCPI-to NL\*OTH is not us \(NL\*CSM\)/);
  });

  it('when some are sent, all four must be, well formed: 2001 naming the missing ones', async () => {
    const response = await app.inject({ method: 'GET', url: '/ocpi/2.2.1/things', headers: { ...auth, 'ocpi-from-country-code': 'DE' } });
    expect(response.json().status_code).toBe(2001);
    expect(response.json().status_message).toMatch(/ocpi-from-party-id is missing/);
    expect(response.json().status_message).toMatch(/ocpi-to-country-code is missing/);
    const malformed = (await sender(withToken('token-c', { ...routing, 'ocpi-from-country-code': 'DEU' }))).json();
    expect(malformed.status_code).toBe(2001);
    expect(malformed.status_message).toMatch(/ocpi-from-country-code must be 2 letters/);
  });

  it('are not required on configuration modules', async () => {
    expect((await app.inject({ method: 'GET', url: '/ocpi/versions', headers: auth })).json().status_code).toBe(1000);
  });

  it('come back swapped on the response', async () => {
    const response = await app.inject({ method: 'GET', url: '/ocpi/2.2.1/things', headers: { ...auth, ...routing } });
    expect(response.headers['ocpi-to-country-code']).toBe('DE');
    expect(response.headers['ocpi-to-party-id']).toBe('ABC');
    expect(response.headers['ocpi-from-country-code']).toBe('NL');
    expect(response.headers['ocpi-from-party-id']).toBe('CSM');
  });
});

describe('validation (2001)', () => {
  it('refuses a body that fails its schema with the field named', async () => {
    const response = await app.inject({ method: 'PUT', url: '/ocpi/2.2.1/things/1', headers: { ...auth, ...routing }, payload: { id: '1' } });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ status_code: 2001 });
    expect(response.json().status_message).toMatch(/name/);
  });

  it('refuses an id in the URL that differs from the id in the body', async () => {
    const response = await app.inject({ method: 'PUT', url: '/ocpi/2.2.1/things/1', headers: { ...auth, ...routing }, payload: { id: '2', name: 'x' } });
    expect(response.json()).toMatchObject({ status_code: 2001 });
    expect(response.json().status_message).toMatch(/id in the URL \(1\) differs/);
    const ok = await app.inject({ method: 'PUT', url: '/ocpi/2.2.1/things/1', headers: { ...auth, ...routing }, payload: { id: '1', name: 'x' } });
    expect(ok.statusCode).toBe(201);
  });
});

describe('pagination (spec 4.1.4.1)', () => {
  const get = (query: string) => app.inject({ method: 'GET', url: `/ocpi/2.2.1/things${query}`, headers: { ...auth, ...routing } });

  it('returns oldest first, caps limit at the server max, sets X-Total-Count, X-Limit and a next Link', async () => {
    const response = await get('?limit=50');
    expect(response.json().data.map((o: { id: string }) => o.id)).toEqual(['obj-6', 'obj-5', 'obj-4']);
    expect(response.headers['x-total-count']).toBe('7');
    expect(response.headers['x-limit']).toBe('3');
    expect(nextLink(response.headers.link as string)).toBe('https://csms.example.com/ocpi/2.2.1/things?limit=3&offset=3');
  });

  it('keeps the filters in the Link; date_from inclusive, date_to exclusive', async () => {
    const response = await get('?date_from=2024-01-02T00:00:00Z&date_to=2024-01-06T00:00:00Z&limit=2');
    expect(response.json().data.map((o: { id: string }) => o.id)).toEqual(['obj-5', 'obj-4']);
    expect(response.headers['x-total-count']).toBe('4');
    const next = new URL(nextLink(response.headers.link as string)!);
    expect(Object.fromEntries(next.searchParams)).toEqual({ date_from: '2024-01-02T00:00:00Z', date_to: '2024-01-06T00:00:00Z', offset: '2', limit: '2' });
    const last = await get(`?${next.searchParams}`);
    expect(last.json().data.map((o: { id: string }) => o.id)).toEqual(['obj-3', 'obj-2']);
    expect(last.headers.link).toBeUndefined();
  });

  it('refuses malformed parameters with 2001', async () => {
    for (const query of ['?offset=-1', '?limit=abc', '?date_from=yesterday']) {
      expect((await get(query)).json().status_code, query).toBe(2001);
    }
  });

  it(`defaults: offset 0, limit ocpiPageLimitMax (${ocpiPageLimitMax})`, () => {
    expect(parsePageRequest({})).toMatchObject({ offset: 0, limit: ocpiPageLimitMax, dateFrom: null, dateTo: null });
  });
});
