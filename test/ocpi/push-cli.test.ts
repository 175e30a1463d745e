import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../api/config.js';
import { openServices } from '../../api/composition.js';
import { migrateOutbox, enqueuePush } from '../../ocpi/push/outbox.js';
import { migrateProjections, startProjectionRunners } from '../../projections/index.js';
import { partnersProjection } from '../../projections/partners.js';
import { runCliInProcess, tempDataDirInitialized } from '../support/cli-in-process.js';
import { registerPartner, secret, startFakeEmsp, type FakeEmsp, type PushWorld } from './push.fixtures.js';

/**
 * `csms ocpi outbox`, `outbox retry` and `sync` as an operator runs them, on an embedded database.
 * In-process (test/support/cli-in-process.ts): the commands, not the process boundary, are tested.
 */

describe('csms ocpi outbox | sync', () => {
  let data: { dir: string; remove(): Promise<void> };
  let env: Record<string, string>;
  let emsp: FakeEmsp;
  let rejectedId: string;

  beforeAll(async () => {
    data = await tempDataDirInitialized('push-cli');
    env = { DATA_DIR: data.dir, OCPI_SECRET: secret };
    emsp = await startFakeEmsp();
    const services = await openServices(loadConfig(env), { command: 'test' });
    try {
      await migrateProjections({ db: services.db, eventStore: services.eventStore });
      const runners = startProjectionRunners({ db: services.db, eventStore: services.eventStore }, { projections: [partnersProjection] });
      await registerPartner({ bus: services.bus, runners } as unknown as PushWorld, 'alpha', emsp);
      await runners.stop();
      await migrateOutbox(services.db);
      const now = new Date('2026-01-01T00:00:00Z');
      await services.db.transaction(async (tx) => {
        for (const [objectKey, change] of [['LOC1', 'object'], ['LOC1/EVSE-1', 'status'], ['LOC2', 'object']] as const) {
          await enqueuePush(tx, { tenantId: 'default', partnerId: 'alpha', module: 'locations', objectKey, change, source: null, now });
        }
        await enqueuePush(tx, { tenantId: 'default', partnerId: 'beta', module: 'tariffs', objectKey: 'T1', change: 'delete', source: null, now });
      });
      const { rows } = await services.db.query<{ id: string }>(
        `UPDATE ocpi_outbox.pushes SET state = 'rejected', attempts = 1, last_error = 'OCPI 2001: Invalid or missing parameters' WHERE object_key = 'LOC2' RETURNING id::text`,
      );
      rejectedId = rows[0]!.id;
      await services.db.query(`UPDATE ocpi_outbox.pushes SET state = 'delivered', attempts = 1 WHERE object_key = 'LOC1'`);
    } finally {
      await services.close();
    }
  });
  afterAll(async () => {
    await emsp?.app.close();
    await data?.remove();
  });

  it('lists pushes newest first with counts per partner, module and state', async () => {
    const result = await runCliInProcess(['ocpi', 'outbox'], { env });
    expect(result.stderr).toBe('');
    expect(result.exitCode).toBe(0);
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^ID\s+PARTNER\s+MODULE\s+OBJECT\s+CHANGE\s+STATE\s+ATTEMPTS\s+NEXT ATTEMPT\s+LAST ERROR$/);
    expect(lines.slice(1, 5).map((line) => line.split(/\s+/).slice(1, 6))).toEqual([
      ['beta', 'tariffs', 'T1', 'delete', 'pending'],
      ['alpha', 'locations', 'LOC2', 'object', 'rejected'],
      ['alpha', 'locations', 'LOC1/EVSE-1', 'status', 'pending'],
      ['alpha', 'locations', 'LOC1', 'object', 'delivered'],
    ]);
    expect(lines[1]).toContain('2026-01-01T00:00:00.000Z');
    expect(lines[2]).toContain('OCPI 2001: Invalid or missing parameters');
    expect(lines.slice(6).map((line) => line.split(/\s+/))).toEqual([
      ['PARTNER', 'MODULE', 'STATE', 'COUNT'],
      ['alpha', 'locations', 'delivered', '1'],
      ['alpha', 'locations', 'pending', '1'],
      ['alpha', 'locations', 'rejected', '1'],
      ['beta', 'tariffs', 'pending', '1'],
    ]);
    const filtered = await runCliInProcess(['ocpi', 'outbox', '--partner', 'alpha', '--state', 'rejected'], { env });
    expect(filtered.stdout.split('\n').filter((line) => line.includes('LOC'))).toHaveLength(1);
    const bad = await runCliInProcess(['ocpi', 'outbox', '--state', 'lost'], { env });
    expect(bad.exitCode).toBe(2);
  });

  it('retry re-queues a rejected push, and refuses one that is not rejected', async () => {
    const retried = await runCliInProcess(['ocpi', 'outbox', 'retry', rejectedId], { env });
    expect(retried.stdout).toContain(`push ${rejectedId} queued again`);
    expect(retried.exitCode).toBe(0);
    const again = await runCliInProcess(['ocpi', 'outbox', 'retry', rejectedId], { env });
    expect(again.exitCode).toBe(2);
    expect(again.stderr).toMatch(/is not rejected/);
    const listed = await runCliInProcess(['ocpi', 'outbox', '--state', 'rejected'], { env });
    expect(listed.stdout.trim()).toBe('no pushes');
  });

  it('sync queues every object for a registered partner, and refuses an unknown one', async () => {
    const synced = await runCliInProcess(['ocpi', 'sync', '--partner', 'alpha', '--module', 'locations'], { env });
    expect(synced.stderr).toMatch(/^csms: wrote to the embedded database in [^\n]*\n$/); // the only line: README "Which database"
    expect(synced.stdout).toMatch(/^\d+ locations objects queued for alpha\n.*push worker delivers them/);
    const unknown = await runCliInProcess(['ocpi', 'sync', '--partner', 'nobody', '--module', 'locations'], { env });
    expect(unknown.exitCode).toBe(2);
    expect(unknown.stderr).toMatch(/partner nobody is not registered/);
  });
});
