import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { openPostgresEventStore } from '../../adapters/event-store/postgres.js';
import type { EventStore } from '../../adapters/event-store/port.js';
import type { SqlDatabase } from '../../adapters/sql/port.js';
import { allProjections, migrateProjections } from '../../projections/index.js';
import { buildServer, httpBodyBytesMax } from '../../api/server.js';
import { createTestPgliteDatabase } from '../support/services.js';

describe('HTTP server (embedded database)', () => {
  let db: SqlDatabase;
  let eventStore: EventStore;
  let app: FastifyInstance;

  beforeAll(async () => {
    db = await createTestPgliteDatabase();
    eventStore = await openPostgresEventStore(db);
    await migrateProjections({ db, eventStore });
    app = await buildServer({ db, eventStore, logLevel: 'silent' });
  });
  afterAll(async () => {
    await app?.close();
    await eventStore?.close().catch(() => {});
    await db?.close().catch(() => {});
  });

  it('GET /health answers 200 with the database, event store kind and every projection', async () => {
    const response = await app.inject({ method: 'GET', url: '/health' });
    expect(response.statusCode).toBe(200);
    const body = response.json();
    expect(body).toMatchObject({ status: 'ok', database: 'ok', eventStore: eventStore.kind });
    expect(body.projections.map((p: { name: string }) => p.name).sort()).toEqual(allProjections().map((p) => p.name).sort());
    for (const projection of body.projections) expect(projection).toHaveProperty('lagEvents');
  });

  it('GET /health tells anyone else only whether the node is up', async () => {
    const response = await app.inject({ method: 'GET', url: '/health', remoteAddress: '203.0.113.5' });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ status: 'ok' });
  });

  it('GET /metrics: loopback clients only without a token, with unexpected errors and station authentication counters', async () => {
    expect((await app.inject({ method: 'GET', url: '/metrics', remoteAddress: '203.0.113.5' })).statusCode).toBe(403);
    const response = await app.inject({ method: 'GET', url: '/metrics' });
    expect(response.statusCode).toBe(200);
    expect(response.body).toMatch(/^# TYPE csms_unexpected_errors_total counter$/m);
    expect(response.body).toMatch(/^csms_station_auth_denials_total\{reason="throttled"\} 0$/m);
    expect(response.body).toMatch(/^csms_station_password_verifications_total 0$/m);
    // Billing events the CDR issuer recorded as refused (a CDR not issued or not posted).
    expect(response.body).toMatch(/^# TYPE csms_cdr_issuer_refusals_total counter$/m);
  });

  it('with METRICS_TOKEN / ADMIN_API_TOKEN: either bearer token reads the details, nobody else (loopback included)', async () => {
    const metricsToken = 'metrics-token-0123456789';
    const adminApiToken = 'admin-token-0123456789ab';
    const guarded = await buildServer({ db, eventStore, logLevel: 'silent', adminApiToken, observability: { metricsToken, separateListener: false } });
    try {
      for (const token of [metricsToken, adminApiToken]) {
        const headers = { authorization: `Bearer ${token}` };
        const health = await guarded.inject({ method: 'GET', url: '/health', headers, remoteAddress: '203.0.113.5' });
        expect(health.json()).toMatchObject({ status: 'ok', database: 'ok', eventStore: eventStore.kind });
        expect((await guarded.inject({ method: 'GET', url: '/metrics', headers, remoteAddress: '203.0.113.5' })).statusCode).toBe(200);
      }
      expect((await guarded.inject({ method: 'GET', url: '/health' })).json()).toEqual({ status: 'ok' });
      expect((await guarded.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(401);
      const wrong = await guarded.inject({ method: 'GET', url: '/metrics', headers: { authorization: 'Bearer wrong-token-0123456789' } });
      expect(wrong.statusCode).toBe(401);
    } finally {
      await guarded.close();
    }
  });

  it('METRICS_PORT: a second listener serves /metrics and /health details, open or with METRICS_TOKEN, and closes with the server', async () => {
    for (const metricsToken of [null, 'metrics-token-0123456789']) {
      const server = await buildServer({ db, eventStore, logLevel: 'silent', observability: { metricsToken, separateListener: true } });
      try {
        await server.listen({ host: '127.0.0.1', port: 0 });
        const listener = server.metricsListener!;
        await listener.listen({ host: '127.0.0.1', port: 0 });
        const { port } = listener.server.address() as AddressInfo;
        const headers: Record<string, string> = metricsToken === null ? {} : { authorization: `Bearer ${metricsToken}` };
        const metrics = await fetch(`http://127.0.0.1:${port}/metrics`, { headers });
        expect(metrics.status).toBe(200);
        expect(await metrics.text()).toMatch(/^# TYPE csms_unexpected_errors_total counter$/m);
        const health = await fetch(`http://127.0.0.1:${port}/health`, { headers });
        expect(await health.json()).toMatchObject({ status: 'ok', database: 'ok', projections: expect.any(Array) });
        if (metricsToken !== null) expect((await fetch(`http://127.0.0.1:${port}/metrics`)).status).toBe(401);
      } finally {
        await server.close();
      }
      expect(server.metricsListener!.server.listening).toBe(false);
    }
  });

  it('has a place for each surface not built yet, answering 501', async () => {
    for (const url of ['/graphql']) {
      const response = await app.inject({ method: 'GET', url });
      expect(response.statusCode, url).toBe(501);
    }
  });

  it('serves OCPP only as a WebSocket upgrade: a plain GET gets 426', async () => {
    const response = await app.inject({ method: 'GET', url: '/ocpp/CP-1' });
    expect(response.statusCode).toBe(426);
  });

  it(`refuses a request body over httpBodyBytesMax (${httpBodyBytesMax} bytes) with 413`, async () => {
    const response = await app.inject({
      method: 'POST',
      url: '/api/stations',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({ padding: 'x'.repeat(httpBodyBytesMax) }),
    });
    expect(response.statusCode).toBe(413);
  });

  it('answers 503 when the database does not answer', async () => {
    const broken: SqlDatabase = {
      ...db,
      query: async () => {
        throw new Error('connection refused');
      },
    };
    const degraded = await buildServer({ db: broken, eventStore, logLevel: 'silent' });
    try {
      const response = await degraded.inject({ method: 'GET', url: '/health' });
      expect(response.statusCode).toBe(503);
      expect(response.json()).toMatchObject({ status: 'unavailable', database: 'unavailable' });
      const anonymous = await degraded.inject({ method: 'GET', url: '/health', remoteAddress: '203.0.113.5' });
      expect(anonymous.statusCode).toBe(503);
      expect(anonymous.json()).toEqual({ status: 'unavailable' });
    } finally {
      await degraded.close();
    }
  });
});
