import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../adapters/clock/clock.js';
import { openPostgresEventStore, type PostgresEventStore } from '../../adapters/event-store/postgres.js';
import type { SqlDatabase } from '../../adapters/sql/port.js';
import { statusTable } from '../../api/cli/projections.js';
import { claimNode, nodeInstance, settleStations } from '../../api/settle-node.js';
import { createCommandBus } from '../../commands/index.js';
import { allProjections, migrateProjections, projectionStatus, startProjectionRunners } from '../../projections/index.js';
import { tryAcquireLease } from '../../projections/lease.js';
import { eventually } from '../support/eventually.js';
import { startServe, type ServeProcess } from '../support/serve-process.js';
import { createTestPostgresDatabase, requirePostgres } from '../support/services.js';
import { StationSimulator } from '../support/station-simulator.js';

/**
 * Issue 9, point 10: after a SIGKILL the stations a node held stayed "online" forever and
 * `projections status` showed the dead process as a live lease owner. A node restarting with the
 * same NODE_ID must record that those connections ended (nodeRestarted), take its leases back at
 * once, and touch nothing another node holds.
 */

const available = await requirePostgres();
const nodeId = 'node-restart-a';
/** Read models follow within a second or two; generous for a loaded machine. */
const readModelWaitMs = 15_000;

describe.skipIf(!available)('a node restarted after SIGKILL settles what it held', () => {
  let database: Awaited<ReturnType<typeof createTestPostgresDatabase>>;
  let db: SqlDatabase;
  let store: PostgresEventStore;
  const servers: ServeProcess[] = [];
  const simulators: StationSimulator[] = [];
  let env: Record<string, string>;

  beforeAll(async () => {
    database = await createTestPostgresDatabase('node-restart');
    db = database.open(2);
    env = { DATABASE_URL: database.url, NODE_ID: nodeId, OCPP_UNKNOWN_STATIONS: 'accept' };
  });
  afterAll(async () => {
    for (const simulator of simulators) simulator.terminate();
    for (const server of servers) await server.kill().catch(() => {});
    await store?.close();
    await database?.drop();
  });

  const stationRow = async (stationId: string) => {
    const { rows } = await db.query<{ online: boolean; node_id: string | null; disconnect_reason: string | null }>(
      `SELECT online, node_id, disconnect_reason FROM proj_stations.stations WHERE station_id = $1`,
      [stationId],
    );
    return rows[0];
  };
  const connect = async (server: ServeProcess, stationId: string) => {
    const simulator = await StationSimulator.connect({ url: server.ocppUrl, stationId, protocols: ['ocpp1.6'] });
    simulators.push(simulator);
    return simulator;
  };

  it('records nodeRestarted for its stations only, hands its leases to the new process, and lets stations come back', async () => {
    const first = await startServe(env);
    servers.push(first);
    await Promise.all(['CP-A', 'CP-B'].map((stationId) => connect(first, stationId)));
    store = await openPostgresEventStore(db);
    // A station another node holds: this node's restart must leave it alone.
    await createCommandBus({ eventStore: store, clock: systemClock }).send({
      commandId: 'other-connect', tenantId: 'default', aggregateId: 'CP-OTHER', actor: 'station:CP-OTHER', correlationId: 'other',
      occurredAt: new Date().toISOString(),
      command: { type: 'ConnectStation', connectionId: 'conn-other', ocppVersion: '1.6', connectedAt: new Date().toISOString(), nodeId: 'node-restart-b' },
    });
    for (const stationId of ['CP-A', 'CP-B']) {
      await eventually(async () => (await stationRow(stationId))?.node_id === nodeId, readModelWaitMs, `${stationId} online on ${nodeId}`);
    }
    await eventually(async () => (await stationRow('CP-OTHER'))?.online, readModelWaitMs, 'CP-OTHER online');

    await first.kill();
    const second = await startServe(env);
    servers.push(second);

    // Its earlier process's leases were released before the new one listened: none is shown as a live owner.
    const firstOwner = `${nodeId}:${first.pid}:`;
    for (const { name, lease } of await projectionStatus({ eventStore: store, db })) {
      expect([name, lease !== null && lease.owner.startsWith(firstOwner) && lease.state !== 'expired']).toEqual([name, false]);
    }

    // Settlement runs before the server listens: the facts are in the streams by now.
    for (const stationId of ['CP-A', 'CP-B']) {
      const last = (await store.readStream(`station-default-${stationId}`)).at(-1)!;
      expect([last.type, last.data.reason, last.metadata.actor]).toEqual(['StationDisconnected', 'nodeRestarted', `node:${nodeId}`]);
      await eventually(async () => (await stationRow(stationId))?.online === false, readModelWaitMs, `${stationId} offline`);
      expect(await stationRow(stationId)).toEqual({ online: false, node_id: null, disconnect_reason: 'nodeRestarted' });
    }
    expect((await store.readStream('station-default-CP-OTHER')).map((event) => event.type)).toEqual(['StationConnected']);
    expect(await stationRow('CP-OTHER')).toMatchObject({ online: true, node_id: 'node-restart-b' });

    // So the new process holds them all now, not once they expire (leaseDurationMs after the kill).
    const newOwner = `${nodeId}:${second.pid}:`;
    await eventually(
      async () => (await projectionStatus({ eventStore: store, db })).every((status) => status.leaseOwner?.startsWith(newOwner)),
      readModelWaitMs,
      'every lease held by the new process',
    );
    // What `csms projections status` prints (api/cli/projections.ts; the command itself: cli-postgres.test.ts).
    const rows = statusTable(await projectionStatus({ eventStore: store, db })).slice(1);
    expect(rows).toHaveLength(allProjections().length);
    for (const row of rows) expect(row).toMatch(new RegExp(`\\s${newOwner}\\d+\\s+no$`));
    expect(rows.join('\n')).not.toContain(firstOwner);

    // A station that reconnects is online again, on this node.
    await connect(second, 'CP-A');
    await eventually(async () => (await stationRow('CP-A'))?.online, readModelWaitMs, 'CP-A online again');
    expect(await stationRow('CP-A')).toEqual({ online: true, node_id: nodeId, disconnect_reason: null });
    await second.stop();
  });

  it('settling twice over the same read model (a crash during settlement, redone) records each end once', async () => {
    store ??= await openPostgresEventStore(db); // when run alone
    await migrateProjections({ eventStore: store, db });
    const runners = startProjectionRunners({ eventStore: store, db }, { owner: 'test-runners' });
    try {
      const bus = createCommandBus({ eventStore: store, clock: systemClock });
      const at = new Date().toISOString();
      await bus.send({
        commandId: 'c-connect', tenantId: 'default', aggregateId: 'CP-C', actor: 'station:CP-C', correlationId: 'c',
        occurredAt: at, command: { type: 'ConnectStation', connectionId: 'conn-c', ocppVersion: '2.0.1', connectedAt: at, nodeId },
      });
      await eventually(async () => (await stationRow('CP-C'))?.online, readModelWaitMs, 'CP-C online');
      const settle = () => settleStations({ db, eventStore: store, bus, clock: systemClock, log: () => {} }, nodeInstance(nodeId));
      // Both read CP-C online before either's disconnect is projected, as a restart after a crash mid-settlement does.
      const results = await Promise.all([settle(), settle()]);
      expect(results.map((result) => result.failed)).toEqual([0, 0]);
      const ends = (await store.readStream('station-default-CP-C')).filter((event) => event.type === 'StationDisconnected');
      expect(ends.map((event) => event.data.reason)).toEqual(['nodeRestarted']);
      await eventually(async () => (await stationRow('CP-C'))?.disconnect_reason === 'nodeRestarted', readModelWaitMs, 'CP-C offline');
      expect((await settle()).settled).toBe(0);
    } finally {
      await runners.stop();
    }
  });

  it('projections status shows a holder that stopped renewing as stale, never as a live owner', async () => {
    store ??= await openPostgresEventStore(db); // when run alone
    await migrateProjections({ eventStore: store, db });
    // As a SIGKILLed holder leaves it with no restart: renewed 10 s ago, expiring in 5 s.
    await db.query(
      `INSERT INTO projection_control.leases (projection, owner, expires_at) VALUES ('stations', 'dead-node:1:1', now() + interval '5 seconds')
         ON CONFLICT (projection) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at`,
    );
    const stations = (await projectionStatus({ eventStore: store, db })).find((status) => status.name === 'stations')!;
    expect(stations).toMatchObject({ stale: true, lease: { owner: 'dead-node:1:1', state: 'overdue' } });
    const line = statusTable([stations])[1]!;
    expect(line).toMatch(/dead-node:1:1 \(not renewed for (9|10|11) s\)\s+yes$/);
    await db.query(`UPDATE projection_control.leases SET expires_at = now() WHERE projection = 'stations'`);
    const expired = (await projectionStatus({ eventStore: store, db })).find((status) => status.name === 'stations')!;
    expect([expired.leaseOwner, expired.stale, statusTable([expired])[1]]).toEqual([null, false, expect.stringMatching(/\s-\s+no$/)]);
  });

  it('refuses to start when a running process renews leases under the same NODE_ID, and takes over from a dead one', async () => {
    const log = () => {};
    // A "running" earlier instance: its pid exists (our parent) and it renews its node lease.
    const running = await claimNode({ db, log }, nodeInstance('shared-node', process.ppid), { renewMs: 100 });
    await expect(claimNode({ db, log }, nodeInstance('shared-node'), { livenessWatchMs: 600 })).rejects.toThrow(
      /NODE_ID shared-node is in use by the running process shared-node:\d+:\d+, which still renews its leases/,
    );
    await running.stop();
    // An earlier instance whose pid is ours cannot be running (a restarted container reuses pids): released at once.
    const earlier = await claimNode({ db, log }, nodeInstance('pid-reuse', process.pid, 1), { renewMs: 60_000 });
    expect(await tryAcquireLease(db, 'some-projection', earlier.instance.instanceId)).toBe(true);
    const later = nodeInstance('pid-reuse', process.pid, 2);
    const claim = await claimNode({ db, log }, later, { livenessWatchMs: 60_000 });
    expect(claim.released).toEqual(['node:pid-reuse', 'some-projection']);
    expect(await tryAcquireLease(db, 'some-projection', later.instanceId)).toBe(true); // now, not leaseDurationMs later
    await Promise.all([claim.stop(), earlier.stop()]);
  });
});
