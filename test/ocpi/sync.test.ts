import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../adapters/clock/clock.js';
import { pushWorkerDeps } from '../../ocpi/push/index.js';
import { deliverSyncNow, enqueueSync } from '../../ocpi/push/sync.js';
import { ok, openPushWorld, registerPartner, sealer, settings, startFakeEmsp, type FakeEmsp, type PushWorld } from './push.fixtures.js';

/** `csms ocpi sync --module locations --now`: everything queued for one partner, delivered in-process. */

describe('OCPI sync of a Sender module', () => {
  let world: PushWorld;
  let emsp: FakeEmsp;

  beforeAll(async () => {
    world = await openPushWorld();
    emsp = await startFakeEmsp();
    await registerPartner(world, 'alpha', emsp);
  });
  afterAll(async () => {
    await emsp?.app.close();
    await world?.close();
  });

  const deps = () =>
    pushWorkerDeps({ eventStore: world.eventStore, db: world.db, tenantId: 'default', settings, clock: systemClock, log: () => {}, sources: [world.source], client: { timeoutMs: 2_000 }, retryDelayBaseMs: 50 });
  const syncDeps = () => ({ db: world.db, tenantId: 'default', us: { countryCode: 'NL', partyId: 'CSM' }, sealer, clock: systemClock });

  it('PUTs every object to the partner and reports progress', async () => {
    for (const [key, version] of [['S1', 1], ['S2', 5], ['S3', 2]] as const) world.objects.set(key, { version });
    expect(await enqueueSync(syncDeps(), 'alpha', world.source)).toBe(3);
    const progress: [number, number][] = [];
    const counts = await deliverSyncNow(deps(), { partnerId: 'alpha', module: 'locations' }, (done, total) => progress.push([done, total]), { owner: 'test', pollMs: 50 });
    expect(counts).toEqual({ pending: 0, delivered: 3, rejected: 0 });
    expect(emsp.received.map((request) => [request.method, request.url, request.body]).sort()).toEqual([
      ['PUT', '/ocpi/2.2.1/locations/NL/CSM/S1', { id: 'S1', version: 1 }],
      ['PUT', '/ocpi/2.2.1/locations/NL/CSM/S2', { id: 'S2', version: 5 }],
      ['PUT', '/ocpi/2.2.1/locations/NL/CSM/S3', { id: 'S3', version: 2 }],
    ]);
    expect(progress[0]).toEqual([0, 3]);
    expect(progress.at(-1)).toEqual([3, 3]);
  });

  it('stops waiting on a partner that keeps failing, leaving its pushes queued for the server', async () => {
    emsp.behave = async (_request, reply) => reply.code(503).send('maintenance');
    try {
      world.objects.set('S4', { version: 1 });
      expect(await enqueueSync(syncDeps(), 'alpha', world.source)).toBe(4);
      const counts = await deliverSyncNow(deps(), { partnerId: 'alpha', module: 'locations' }, () => {}, { owner: 'test', pollMs: 50, attemptsMax: 2 });
      expect(counts.pending).toBe(4);
      const { rows } = await world.db.query<{ attempts: number }>(`SELECT attempts FROM ocpi_outbox.pushes WHERE state = 'pending'`);
      expect(Math.max(...rows.map((row) => row.attempts))).toBeGreaterThanOrEqual(2);
    } finally {
      emsp.behave = async () => ok();
    }
  });
});
