import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { OcpiClientError, ocpiGetAll, ocpiRequest } from '../../ocpi/client/client.js';
import { credentialsTokenCandidates } from '../../ocpi/transport/auth.js';

/** The OCPI client against a partner server of our own: ids, retries, envelope checks, Link paging. */

let app: FastifyInstance;
let base: string;
const seen: Array<{ url: string; requestId: string; correlationId: string; token: string | undefined }> = [];
let flakyFailuresLeft = 0;
const ok = (data: unknown) => ({ data, status_code: 1000, timestamp: new Date().toISOString() });

beforeAll(async () => {
  app = Fastify({ logger: false, forceCloseConnections: true });
  app.addHook('onRequest', async (request) => {
    seen.push({
      url: request.url,
      requestId: String(request.headers['x-request-id']),
      correlationId: String(request.headers['x-correlation-id']),
      token: credentialsTokenCandidates(request.headers.authorization)[0],
    });
  });
  app.get('/flaky', async (_request, reply) => (flakyFailuresLeft-- > 0 ? reply.code(503).send('busy') : ok('fine')));
  app.get('/always-busy', async (_request, reply) => reply.code(503).send('busy'));
  app.get('/refused', async () => ({ status_code: 2001, status_message: 'nope', timestamp: new Date().toISOString() }));
  app.get('/slow', async () => new Promise((resolve) => setTimeout(() => resolve(ok(1)), 500)));
  app.get('/items', async (request, reply) => {
    const offset = Number((request.query as { offset?: string }).offset ?? 0);
    if (offset + 2 < 5) reply.header('Link', `<${base}/items?offset=${offset + 2}&limit=2>; rel="next"`);
    return ok([offset, offset + 1].filter((n) => n < 5));
  });
  base = (await app.listen({ host: '127.0.0.1', port: 0 })).replace('localhost', '127.0.0.1');
});
afterAll(async () => app?.close());

const options = { token: 'secret-token', retryDelayBaseMs: 5, timeoutMs: 2_000 };

describe('OCPI client', () => {
  it('retries a 503 with a new X-Request-ID and the same X-Correlation-ID, sending the token', async () => {
    seen.length = 0;
    flakyFailuresLeft = 2;
    const response = await ocpiRequest(`${base}/flaky`, { data: z.string() }, options);
    expect(response.data).toBe('fine');
    expect(seen).toHaveLength(3);
    expect(new Set(seen.map((s) => s.requestId)).size).toBe(3);
    expect(new Set(seen.map((s) => s.correlationId)).size).toBe(1);
    expect(seen.every((s) => s.token === 'secret-token')).toBe(true);
  });

  it('gives up after a bounded number of attempts', async () => {
    seen.length = 0;
    await expect(ocpiRequest(`${base}/always-busy`, { data: z.unknown() }, { ...options, attemptsMax: 3 })).rejects.toMatchObject({ kind: 'http', details: { httpStatus: 503 } });
    expect(seen).toHaveLength(3);
  });

  it('reports an OCPI error status without retrying', async () => {
    seen.length = 0;
    const failure = await ocpiRequest(`${base}/refused`, { data: z.unknown() }, options).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(OcpiClientError);
    expect(failure).toMatchObject({ kind: 'status', details: { statusCode: 2001 } });
    expect(seen).toHaveLength(1);
  });

  it('times out', async () => {
    await expect(ocpiRequest(`${base}/slow`, { data: z.unknown() }, { ...options, timeoutMs: 50, attemptsMax: 1 })).rejects.toMatchObject({ kind: 'timeout' });
  });

  it('follows Link rel="next" and stops at pagesMax', async () => {
    expect(await ocpiGetAll(`${base}/items`, z.number(), options)).toEqual([0, 1, 2, 3, 4]);
    await expect(ocpiGetAll(`${base}/items`, z.number(), { ...options, pagesMax: 2 })).rejects.toMatchObject({ kind: 'too-many-pages' });
  });
});
