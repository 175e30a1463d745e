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
    } finally {
      await degraded.close();
    }
  });
});
