import { setTimeout as delay } from 'node:timers/promises';
import Fastify from 'fastify';
import { metricsPlugin } from '../../api/plugins/metrics.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../adapters/clock/clock.js';
import { enqueuePush, retryPush } from '../../ocpi/push/outbox.js';
import { startOcpiPush } from '../../ocpi/push/index.js';
import { retryDelayMs, pushRetryDelayMaxMs } from '../../ocpi/push/deliver.js';
import { authorizationHeader } from '../../ocpi/transport/auth.js';
import { eventually } from '../support/eventually.js';
import { changeObject, issueCdr, ok, openPushWorld, pushRows, registerPartner, settings, startFakeEmsp, type FakeEmsp, type PushWorld } from './push.fixtures.js';

/**
 * The push outbox end to end: events → producer → outbox rows → worker → a fake eMSP over HTTP,
 * with the real partners read model and a stub locations source.
 */

/** Generous: the test machine is shared and slow; a hanging partner is held three times this. */
const requestTimeoutMs = 1_500;

describe('OCPI push outbox', () => {
  let world: PushWorld;
  let alpha: FakeEmsp;
  let beta: FakeEmsp;
  let push: { stop(): Promise<void> };
  const logged: string[] = [];

  beforeAll(async () => {
    world = await openPushWorld();
    alpha = await startFakeEmsp();
    beta = await startFakeEmsp();
    await registerPartner(world, 'alpha', alpha, 'ALP');
    await registerPartner(world, 'beta', beta, 'BET');
    push = startOcpiPush(
      { eventStore: world.eventStore, db: world.db, tenantId: 'default', settings, clock: systemClock, log: (line) => logged.push(line), sources: [world.source, world.cdrSource], client: { timeoutMs: requestTimeoutMs }, retryDelayBaseMs: 200 },
      { owner: 'test-node', pollMs: 50, producerPollMs: 50 },
    );
  });
  afterAll(async () => {
    await push?.stop();
    await alpha?.app.close();
    await beta?.app.close();
    await world?.close();
  });

  const deliveredTo = (emsp: FakeEmsp, key: string) => emsp.received.filter((request) => request.url.endsWith(`/${key}`));
  const waitForState = (key: string, partner: string, state: string, timeoutMs = 8_000) =>
    eventually(async () => (await pushRows(world.db, `object_key = '${key}' AND partner_id = '${partner}' AND state = '${state}'`))[0], timeoutMs, `${key} ${state} for ${partner}`);

  it('delivers a change to every partner: method, URL, body, routing headers, Authorization, logged', async () => {
    await changeObject(world, 'LOC1', 'object', 1);
    await waitForState('LOC1', 'alpha', 'delivered');
    await waitForState('LOC1', 'beta', 'delivered');
    const [request] = deliveredTo(alpha, 'LOC1');
    expect(request).toMatchObject({ method: 'PUT', url: '/ocpi/2.2.1/locations/NL/CSM/LOC1', body: { id: 'LOC1', version: 1 } });
    expect(request!.headers).toMatchObject({
      authorization: authorizationHeader(alpha.token),
      'ocpi-from-country-code': 'NL',
      'ocpi-from-party-id': 'CSM',
      'ocpi-to-country-code': 'DE',
      'ocpi-to-party-id': 'ALP',
    });
    expect(deliveredTo(beta, 'LOC1')[0]!.headers['ocpi-to-party-id']).toBe('BET');
    const { rows } = await world.db.query<Record<string, unknown>>(
      `SELECT d.attempt, d.method, d.url, d.http_status, d.ocpi_status, d.request_id, d.correlation_id, d.error
         FROM ocpi_outbox.deliveries d JOIN ocpi_outbox.pushes p ON p.id = d.push_id WHERE p.object_key = 'LOC1' AND p.partner_id = 'alpha' AND d.http_status = 200`,
    );
    expect(rows).toEqual([
      {
        attempt: expect.any(Number),
        method: 'PUT',
        url: `${alpha.url}/ocpi/2.2.1/locations/NL/CSM/LOC1`,
        http_status: 200,
        ocpi_status: 1000,
        request_id: request!.headers['x-request-id'],
        correlation_id: request!.headers['x-correlation-id'],
        error: null,
      },
    ]);
  });

  it('a status change is a PATCH; build() null is delivered with a note and sends nothing', async () => {
    await changeObject(world, 'LOC2', 'status', 1);
    await changeObject(world, 'nothing-1', 'object', 1);
    expect(await waitForState('LOC2', 'alpha', 'delivered')).toMatchObject({ change: 'status' });
    expect(deliveredTo(alpha, 'LOC2')[0]!.method).toBe('PATCH');
    expect(await waitForState('nothing-1', 'alpha', 'delivered')).toMatchObject({ note: 'nothing to send', attempts: 0 });
    expect(deliveredTo(alpha, 'nothing-1')).toEqual([]);
  });

  it('retries 500, 429, a timeout and malformed JSON, then delivers', async () => {
    const failures: Record<string, (reply: import('fastify').FastifyReply) => Promise<unknown>> = {
      'R500': async (reply) => reply.code(500).send({ status_code: 3000, timestamp: new Date().toISOString() }),
      'R429': async (reply) => reply.code(429).send('slow down'),
      'RSLOW': async () => delay(requestTimeoutMs * 2).then(() => ok()),
      'RJSON': async (reply) => reply.code(200).header('content-type', 'application/json').send('{"status_code": 10'),
    };
    const seen = new Map<string, number>();
    alpha.behave = async (request, reply) => {
      const key = request.url.split('/').at(-1)!;
      const count = (seen.get(key) ?? 0) + 1;
      seen.set(key, count);
      const fail = failures[key];
      return fail !== undefined && count === 1 ? fail(reply) : ok();
    };
    try {
      for (const key of Object.keys(failures)) await changeObject(world, key, 'object', 1);
      for (const key of Object.keys(failures)) {
        const row = await waitForState(key, 'alpha', 'delivered');
        expect(row).toMatchObject({ attempts: 2, last_error: null });
        expect(seen.get(key)).toBe(2);
      }
      const { rows } = await world.db.query<{ object_key: string; http_status: number | null; error: string }>(
        `SELECT p.object_key, d.http_status, d.error FROM ocpi_outbox.deliveries d JOIN ocpi_outbox.pushes p ON p.id = d.push_id
          WHERE p.partner_id = 'alpha' AND d.attempt = 1 AND p.object_key LIKE 'R%' ORDER BY p.object_key`,
      );
      expect(rows.map((row) => [row.object_key, row.http_status])).toEqual([['R429', 429], ['R500', 500], ['RJSON', 200], ['RSLOW', null]]);
      expect(rows.find((row) => row.object_key === 'RSLOW')!.error).toMatch(/timed out/);
    } finally {
      alpha.behave = async () => ok();
    }
  });

  it('2001 rejects with the message; retry re-queues it and it is delivered', async () => {
    let refuse = true;
    alpha.behave = async (request, reply) =>
      request.url.endsWith('/LOCBAD') && refuse ? reply.code(400).send({ status_code: 2001, status_message: 'Invalid or missing parameters: coordinates', timestamp: new Date().toISOString() }) : ok();
    try {
      await changeObject(world, 'LOCBAD', 'object', 1);
      const rejected = await waitForState('LOCBAD', 'alpha', 'rejected');
      expect(rejected).toMatchObject({ attempts: 1, last_http_status: 400, last_ocpi_status: 2001 });
      expect(rejected.last_error).toMatch(/2001: Invalid or missing parameters: coordinates/);
      await delay(600);
      expect(deliveredTo(alpha, 'LOCBAD')).toHaveLength(1); // rejected is not retried on its own
      refuse = false;
      expect(await retryPush(world.db, 'default', String(rejected.id), new Date())).toBe('requeued');
      expect(await retryPush(world.db, 'default', String(rejected.id), new Date())).toBe('not-rejected');
      expect(await waitForState('LOCBAD', 'alpha', 'delivered')).toMatchObject({ id: rejected.id, attempts: 2 });
    } finally {
      alpha.behave = async () => ok();
    }
  });

  it('a partner that hangs does not delay another partner', async () => {
    alpha.behave = async () => delay(requestTimeoutMs * 3).then(() => ok());
    try {
      const keys = ['SLOW1', 'SLOW2', 'SLOW3', 'SLOW4', 'SLOW5', 'SLOW6'];
      for (const key of keys) await changeObject(world, key, 'object', 1);
      for (const key of keys) await waitForState(key, 'beta', 'delivered');
      // Each reached beta well within one of alpha's request timeouts after it was enqueued.
      const { rows } = await world.db.query<{ object_key: string; enqueued_at: Date }>(
        `SELECT object_key, enqueued_at FROM ocpi_outbox.pushes WHERE partner_id = 'beta' AND object_key LIKE 'SLOW%'`,
      );
      for (const row of rows) expect(deliveredTo(beta, row.object_key)[0]!.at - row.enqueued_at.getTime()).toBeLessThan(requestTimeoutMs);
      // Alpha never has more than its two slots in flight: a third request starts only after one timed out.
      await eventually(async () => keys.flatMap((key) => deliveredTo(alpha, key)).length >= 4, 10_000, 'alpha attempts');
      const alphaStarts = keys.flatMap((key) => deliveredTo(alpha, key)).map((request) => request.at).sort((a, b) => a - b);
      for (let i = 0; i + 2 < alphaStarts.length; i++) expect(alphaStarts[i + 2]! - alphaStarts[i]!).toBeGreaterThanOrEqual(requestTimeoutMs * 0.9);
    } finally {
      alpha.behave = async () => ok();
    }
    for (const key of ['SLOW1', 'SLOW6']) await waitForState(key, 'alpha', 'delivered', 20_000);
  }, 40_000);

  it('several changes while a partner is down become one delivery of the newest state', async () => {
    let down = true;
    const downCalls: string[] = [];
    beta.behave = async (request, reply) => {
      if (down && request.url.includes('/MERGE')) {
        downCalls.push(request.url);
        return reply.code(503).send('down');
      }
      return ok();
    };
    try {
      await changeObject(world, 'MERGE1', 'status', 1);
      await eventually(async () => downCalls.length > 0, 5_000, 'a first failed attempt');
      await changeObject(world, 'MERGE1', 'object', 2);
      await changeObject(world, 'MERGE1', 'status', 3);
      await changeObject(world, 'MERGE1', 'status', 4);
      await eventually(async () => (await pushRows(world.db, `object_key = 'MERGE1' AND partner_id = 'beta'`))[0]?.version === 4, 5_000, 'merged');
      const pending = await pushRows(world.db, `object_key = 'MERGE1' AND partner_id = 'beta'`);
      expect(pending).toHaveLength(1);
      expect(pending[0]).toMatchObject({ state: 'pending', change: 'object' });
      down = false;
      const delivered = await waitForState('MERGE1', 'beta', 'delivered');
      const successes = beta.received.filter((request) => request.url.endsWith('/MERGE1')).slice(downCalls.length);
      expect(successes.map((request) => [request.method, request.body])).toEqual([['PUT', { id: 'MERGE1', version: 4 }]]);
      expect(delivered.id).toBe(pending[0]!.id);
    } finally {
      beta.behave = async () => ok();
    }
  });

  it('POSTs a CDR and keeps the Location the partner answers', async () => {
    beta.behave = async (request, reply) =>
      request.method === 'POST' && request.url === '/ocpi/2.2.1/cdrs' ? reply.header('location', `${beta.url}/ocpi/2.2.1/cdrs/mine-CDR1`).send(ok()) : ok();
    try {
      await issueCdr(world, 'CDR1');
      expect(await waitForState('CDR1', 'beta', 'delivered')).toMatchObject({ module: 'cdrs', response_location: `${beta.url}/ocpi/2.2.1/cdrs/mine-CDR1` });
      expect(beta.received.filter((request) => request.url === '/ocpi/2.2.1/cdrs').map((request) => request.body)).toEqual([{ id: 'CDR1' }]);
    } finally {
      beta.behave = async () => ok();
    }
  });

  it('GET /metrics: delivered, retried and rejected counts, pending gauges, durations, auth denials', async () => {
    const app = Fastify({ logger: false, forceCloseConnections: true });
    await app.register(metricsPlugin, { db: world.db, clock: systemClock });
    // A push waiting for its retry, enqueued a minute ago (in one transaction: the worker never sees it due).
    await world.db.transaction(async (tx) => {
      await enqueuePush(tx, { tenantId: 'default', partnerId: 'ghost', module: 'tariffs', objectKey: 'T9', change: 'delete', source: null, now: new Date(Date.now() - 60_000) });
      await tx.query(`UPDATE ocpi_outbox.pushes SET next_attempt_at = now() + interval '1 hour' WHERE partner_id = 'ghost'`);
    });
    try {
      const response = await app.inject({ method: 'GET', url: '/metrics' });
      expect(response.statusCode).toBe(200);
      expect(response.headers['content-type']).toMatch(/^text\/plain/);
      const text = response.body;
      expect(text).toMatch(/^ocpi_push_delivered_total\{partner="alpha",module="locations"\} [1-9]\d*$/m);
      expect(text).toMatch(/^ocpi_push_retried_total\{partner="alpha",module="locations"\} [1-9]\d*$/m);
      expect(text).toMatch(/^ocpi_push_rejected_total\{partner="alpha",module="locations"\} 1$/m);
      expect(text).toMatch(/^ocpi_push_delivery_duration_seconds_count\{partner="beta",module="cdrs"\} 1$/m);
      expect(text).toMatch(/^ocpi_auth_denials_total\{reason="unknownToken"\} \d+$/m);
      expect(text).toMatch(/^ocpi_push_pending\{partner="ghost",module="tariffs"\} 1$/m);
      const age = Number(/^ocpi_push_oldest_pending_age_seconds\{partner="ghost",module="tariffs"\} ([\d.]+)$/m.exec(text)?.[1]);
      expect(age).toBeGreaterThanOrEqual(60);
      expect(age).toBeLessThan(600);
    } finally {
      await app.close();
    }
  });

  it('backs off exponentially with jitter, capped at 10 minutes', () => {
    expect(retryDelayMs(1, 200, 0)).toBe(100);
    expect(retryDelayMs(1, 200, 1)).toBe(200);
    expect(retryDelayMs(4, 200, 1)).toBe(1_600);
    expect(retryDelayMs(40, 200, 1)).toBe(pushRetryDelayMaxMs);
    expect(retryDelayMs(10_000, 200, 0.5)).toBe(pushRetryDelayMaxMs * 0.75);
  });
});
