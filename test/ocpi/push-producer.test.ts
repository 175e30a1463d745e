import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../adapters/clock/clock.js';
import { createTokenSealer } from '../../ocpi/credentials/seal.js';
import { migrateOutbox, resetProducerCheckpoint, loadProducerCheckpoint, mergeChange } from '../../ocpi/push/outbox.js';
import { catchUpProducer, type ProducerDeps } from '../../ocpi/push/producer.js';
import { enqueueSync, SyncRefusedError } from '../../ocpi/push/sync.js';
import { startProjectionRunners } from '../../projections/index.js';
import { partnersProjection } from '../../projections/partners.js';
import { changeObject, openPushWorld, pushRows, registerPartner, secret, startFakeEmsp, type FakeEmsp, type PushWorld } from './push.fixtures.js';

/** The producer on its own (no worker): what it enqueues, merges, skips on replay, and waits for. */

describe('OCPI push producer', () => {
  let world: PushWorld;
  let emsp: FakeEmsp;
  let deps: ProducerDeps;

  beforeAll(async () => {
    world = await openPushWorld();
    emsp = await startFakeEmsp();
    await migrateOutbox(world.db);
    await registerPartner(world, 'alpha', emsp);
    deps = { eventStore: world.eventStore, db: world.db, tenantId: 'default', sealer: createTokenSealer(secret), sources: [world.source], clock: systemClock };
  });
  afterAll(async () => {
    await emsp?.app.close();
    await world?.close();
  });

  const pending = async () => (await pushRows(world.db, `state = 'pending'`)).map((row) => [row.partner_id, row.object_key, row.change]);

  it('merges changes: status never weakens object or delete; object or delete replace', () => {
    expect(mergeChange('object', 'status')).toBe('object');
    expect(mergeChange('status', 'object')).toBe('object');
    expect(mergeChange('object', 'delete')).toBe('delete');
    expect(mergeChange('delete', 'status')).toBe('delete');
    expect(mergeChange('delete', 'object')).toBe('object');
  });

  it('enqueues one pending push per object and partner, merging later changes', async () => {
    await changeObject(world, 'K1', 'object', 1);
    await changeObject(world, 'K2', 'status', 1);
    await changeObject(world, 'K1', 'status', 2);
    await world.runners.idle();
    const result = await catchUpProducer(deps, null, 2); // small pages: the checkpoint moves page by page
    expect(result.waitingForProjections).toBe(false);
    expect(await pending()).toEqual([
      ['alpha', 'K1', 'object'],
      ['alpha', 'K2', 'status'],
    ]);
    expect((await pushRows(world.db, `object_key = 'K1'`))[0]).toMatchObject({ version: 2 });
  });

  it('replaying $all from an old checkpoint enqueues nothing twice, delivered or not', async () => {
    const before = await pushRows(world.db);
    await world.db.query(`UPDATE ocpi_outbox.pushes SET state = 'delivered' WHERE object_key = 'K2'`);
    const head = await loadProducerCheckpoint(world.db);
    await resetProducerCheckpoint(world.db, null);
    await catchUpProducer(deps, null);
    expect(await loadProducerCheckpoint(world.db)).toEqual(head);
    const after = await pushRows(world.db);
    expect(after).toHaveLength(before.length);
    expect(after.map((row) => [row.object_key, row.version])).toEqual(before.map((row) => [row.object_key, row.version]));
    expect(await pending()).toEqual([['alpha', 'K1', 'object']]);
  });

  it('a partner registered later gets new events only; its history comes from sync', async () => {
    const late = await startFakeEmsp();
    try {
      await registerPartner(world, 'late', late);
      await catchUpProducer(deps, null);
      expect((await pending()).filter(([partner]) => partner === 'late')).toEqual([]);
      await changeObject(world, 'K3', 'object', 1);
      await world.runners.idle();
      await catchUpProducer(deps, null);
      expect((await pending()).filter(([, key]) => key === 'K3')).toEqual([
        ['alpha', 'K3', 'object'],
        ['late', 'K3', 'object'],
      ]);
      const queued = await enqueueSync({ ...deps, us: { countryCode: 'NL', partyId: 'CSM' } }, 'late', world.source);
      expect(queued).toBe(3);
      expect((await pending()).filter(([partner]) => partner === 'late')).toEqual([
        ['late', 'K3', 'object'],
        ['late', 'K1', 'object'],
        ['late', 'K2', 'object'],
      ]);
      await expect(enqueueSync({ ...deps, us: { countryCode: 'NL', partyId: 'CSM' } }, 'nobody', world.source)).rejects.toThrow(SyncRefusedError);
    } finally {
      await late.app.close();
    }
  });

  it('waits until the source read models have passed an event before enqueueing it', async () => {
    await world.runners.stop();
    await changeObject(world, 'K4', 'object', 1);
    const waiting = await catchUpProducer(deps, null);
    expect(waiting.waitingForProjections).toBe(true);
    expect((await pending()).filter(([, key]) => key === 'K4')).toEqual([]);
    const runners = startProjectionRunners({ db: world.db, eventStore: world.eventStore }, { projections: [partnersProjection] });
    try {
      await runners.idle();
      expect((await catchUpProducer(deps, null)).waitingForProjections).toBe(false);
      expect((await pending()).filter(([, key]) => key === 'K4')).toEqual([
        ['alpha', 'K4', 'object'],
        ['late', 'K4', 'object'],
      ]);
    } finally {
      await runners.stop();
    }
  });
});
