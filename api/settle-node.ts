import type { Clock } from '../adapters/clock/clock.js';
import { sleepUnlessAborted } from '../adapters/clock/sleep.js';
import { comparePositions, type EventStore } from '../adapters/event-store/port.js';
import { quoteIdentifier, type SqlDatabase } from '../adapters/sql/port.js';
import { lineFaultLog } from '../adapters/observability/background.js';
import { reportUnexpectedError } from '../adapters/observability/unexpected-errors.js';
import type { CommandBus } from '../commands/index.js';
import { invariant } from '../domain/shared/assert.js';
import { nodeRestartedReason } from '../domain/station/commands.js';
import {
  checkLease,
  leaseRenewIntervalMs,
  leasesOfNode,
  migrateLeases,
  releaseLease,
  releaseLeasesOf,
  tryAcquireLease,
} from '../projections/lease.js';
import { liveSchemaName, readState } from '../projections/schema.js';
import { stationsProjection } from '../projections/stations.js';
import { CliError, ExitCode } from './cli/run.js';

/**
 * After a SIGKILL (or a crash, or a power cut) nothing recorded that the node's stations lost their
 * sockets, and its leases stay with a process that no longer exists. On start, before it accepts
 * connections, a node settles what its earlier process held (issue 9, point 10):
 *
 * 1. `claimNode`: the node's identity is NODE_ID (stable across restarts); each process is an
 *    instance `<nodeId>:<pid>:<startedAtMs>`, the owner of every lease it takes. It claims the
 *    lease `node:<nodeId>` and releases the leases of earlier instances of the same node id, so its
 *    runners take them at once instead of waiting up to leaseDurationMs each. An earlier instance
 *    that might still be running (a second process started with the same NODE_ID) is watched for
 *    one renewal period first; if it renews, start is refused: it would settle a live node's stations.
 * 2. `settleStations`: every station the stations read model shows online on this node gets a
 *    `DisconnectStation` with reason `nodeRestarted` — a fact, the socket is gone — through the
 *    command bus, so the read models, OCPI EVSE statuses and partners follow as for any disconnect.
 *
 * Why the read model and not the streams: it finds the candidates with one indexed query instead of
 * folding every station stream. It may lag, so we first wait until it has applied everything up to
 * the head read at this start: the dead process can append nothing more, so that includes every
 * connection it recorded. A row that is stale anyway (the station reconnected to another node since)
 * is harmless: the decider compares the connection id with the stream's current one and records
 * nothing. Node B never settles node A's stations: only rows whose node_id is ours are read.
 *
 * The command id is the one the gateway uses for the close of that socket
 * (`<station>:disconnect:<connection>`), so a connection ends once, whoever records it first, and a
 * crash during settlement is redone safely at the next start.
 */

/** How long start waits for the stations read model to reach the head before settling what it shows. */
export const settlementCatchUpTimeoutMs = 30_000;
const settlementCatchUpPollMs = 100;
/** Stations read per query while settling (keyset pages): bounded memory for a node of any size. */
export const settlementPageSize = 500;
/** Disconnects in flight at once: well under the bus's commandsInFlightMax, so live traffic is not starved. */
export const settlementConcurrency = 32;
/** An earlier instance whose process may still exist is watched this long for a renewal (holders renew every leaseRenewIntervalMs). */
export const nodeLivenessWatchMs = leaseRenewIntervalMs + 1_000;
/** The node lease is renewed this often: twice per renewal interval, so a watcher always sees it move. */
export const nodeLeaseRenewMs = leaseRenewIntervalMs / 2;

export const nodeLeaseName = (nodeId: string): string => `node:${nodeId}`;

export interface NodeInstance {
  readonly nodeId: string;
  /** `<nodeId>:<pid>:<startedAtMs>`: unique per process, led by the node id so a restart finds its leases. */
  readonly instanceId: string;
}

export function nodeInstance(nodeId: string, pid: number = process.pid, startedAtMs: number = Date.now()): NodeInstance {
  invariant(!nodeId.includes(':'), 'a node id contains no ":" (api/config.ts nodeIdPattern)');
  return { nodeId, instanceId: `${nodeId}:${pid}:${startedAtMs}` };
}

/** The pid in a lease owner of this node (`<nodeId>:<pid>[:<start>]`, also the older `<host>:<pid>`); null if none. */
export function ownerPid(owner: string, nodeId: string): number | null {
  const pid = Number(owner.slice(nodeId.length + 1).split(':')[0]);
  return Number.isSafeInteger(pid) && pid > 0 ? pid : null;
}

function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0); // signal 0: only asks whether the process exists
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'; // exists, owned by another user
  }
}

export interface NodeClaim {
  readonly instance: NodeInstance;
  /** Leases of earlier instances released at start, by projection (or process) name. */
  readonly released: readonly string[];
  stop(): Promise<void>;
}

type Log = (message: string) => void;

/**
 * Claims this node's identity for this process and releases what earlier processes of the node
 * still hold. Throws a CliError when another live process uses the same NODE_ID.
 */
export async function claimNode(
  deps: { readonly db: SqlDatabase; readonly log: Log },
  instance: NodeInstance,
  options: { readonly renewMs?: number; readonly livenessWatchMs?: number } = {},
): Promise<NodeClaim> {
  const { db, log } = deps;
  const renewMs = options.renewMs ?? nodeLeaseRenewMs;
  await migrateLeases(db);
  const earlier = await earlierInstancesKnownDead(db, instance, options.livenessWatchMs ?? nodeLivenessWatchMs);
  const released = await releaseLeasesOf(db, earlier);
  if (released.length > 0) log(`node ${instance.nodeId}: released leases of ${earlier.join(', ')} (no longer running): ${released.join(', ')}`);
  const lease = nodeLeaseName(instance.nodeId);
  if (!(await tryAcquireLease(db, lease, instance.instanceId))) {
    // Someone took it between the check and now: a second process with our NODE_ID starting at once.
    throw nodeIdInUse(instance.nodeId, 'another process');
  }
  const stopping = new AbortController();
  const renewals = (async () => {
    while (!stopping.signal.aborted) {
      await sleepUnlessAborted(renewMs, stopping.signal);
      if (stopping.signal.aborted) break;
      try {
        const held = await db.transaction((tx) => checkLease(tx, lease, instance.instanceId));
        if (held !== 'held' && !(await tryAcquireLease(db, lease, instance.instanceId))) {
          log(`node ${instance.nodeId}: the node lease is held by another process: is NODE_ID shared by two running nodes?`);
        }
      } catch (error) {
        log(`node ${instance.nodeId}: renewing the node lease failed, retrying: ${String(error)}`);
      }
    }
  })();
  return {
    instance,
    released,
    async stop() {
      stopping.abort();
      await renewals;
      await releaseLease(db, lease, instance.instanceId).catch(() => {});
    },
  };
}

function nodeIdInUse(nodeId: string, holder: string): CliError {
  return new CliError(
    `NODE_ID ${nodeId} is in use by ${holder}, which still renews its leases: give each node its own NODE_ID ` +
      `(it defaults to the host name, so two nodes on one host must set it)`,
    ExitCode.usage,
  );
}

/**
 * Owners of unexpired leases that are earlier instances of this node and no longer run. An owner
 * whose pid is ours, or whose pid no longer exists, is dead (a node id names one host or pod).
 * Otherwise the pid may have been reused, or the process lives: watch one renewal period.
 */
async function earlierInstancesKnownDead(db: SqlDatabase, instance: NodeInstance, watchMs: number): Promise<string[]> {
  const before = await leasesOfNode(db, instance.nodeId, instance.instanceId);
  const owners = [...new Set(before.map((lease) => lease.owner))];
  const maybeAlive = owners.filter((owner) => {
    const pid = ownerPid(owner, instance.nodeId);
    return pid !== null && pid !== process.pid && processExists(pid);
  });
  if (maybeAlive.length > 0) {
    await new Promise((resolve) => setTimeout(resolve, watchMs));
    const after = await leasesOfNode(db, instance.nodeId, instance.instanceId);
    for (const owner of maybeAlive) {
      const renewed = after.some(
        (lease) =>
          lease.owner === owner && before.every((old) => old.projection !== lease.projection || old.expiresAt.getTime() < lease.expiresAt.getTime()),
      );
      if (renewed) throw nodeIdInUse(instance.nodeId, `the running process ${owner}`);
    }
  }
  return owners;
}

export interface SettlementDeps {
  readonly db: SqlDatabase;
  readonly eventStore: EventStore;
  readonly bus: CommandBus;
  readonly clock: Clock;
  readonly log: Log;
}

export interface SettlementResult {
  /** Stations whose connection was recorded as ended (nodeRestarted). */
  readonly settled: number;
  /** Stations whose disconnect could not be recorded (logged; settled at the next start). */
  readonly failed: number;
  /** False when the read model did not reach the head in time: stations it had not shown yet stay online. */
  readonly caughtUp: boolean;
}

/** Records the end of every connection the stations read model shows held by `nodeId`. Call before listening. */
export async function settleStations(deps: SettlementDeps, instance: NodeInstance): Promise<SettlementResult> {
  const schema = liveSchemaName(stationsProjection.name);
  const state = await readState(deps.db, schema);
  if (state.version !== stationsProjection.version) {
    // The live schema is from older code (being rebuilt now), which recorded no node ids: nothing is ours.
    deps.log(`node ${instance.nodeId}: stations read model is version ${state.version}, not ${stationsProjection.version}: no connections to settle`);
    return { settled: 0, failed: 0, caughtUp: false };
  }
  const caughtUp = await stationsReadModelAtHead(deps, schema);
  if (!caughtUp) deps.log(`node ${instance.nodeId}: stations read model not caught up within ${settlementCatchUpTimeoutMs} ms: settling what it shows`);
  let settled = 0;
  let failed = 0;
  let after: { tenantId: string; stationId: string } | null = null;
  for (;;) {
    const page = await onlineStationsOfNode(deps.db, schema, instance.nodeId, after);
    for (let start = 0; start < page.length; start += settlementConcurrency) {
      const outcomes = await Promise.all(page.slice(start, start + settlementConcurrency).map((station) => disconnect(deps, instance, station)));
      settled += outcomes.filter(Boolean).length;
      failed += outcomes.filter((ok) => !ok).length;
    }
    if (page.length < settlementPageSize) break;
    after = page.at(-1)!;
  }
  if (settled + failed > 0) deps.log(`node ${instance.nodeId}: ${settled} station connection(s) held before the restart recorded as ended (nodeRestarted)`);
  return { settled, failed, caughtUp };
}

async function stationsReadModelAtHead(deps: SettlementDeps, schema: string): Promise<boolean> {
  const head = await deps.eventStore.headPosition();
  if (head === null) return true;
  const deadline = Date.now() + settlementCatchUpTimeoutMs;
  for (;;) {
    const { checkpoint } = await readState(deps.db, schema);
    if (checkpoint !== null && comparePositions(checkpoint, head) >= 0) return true;
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, settlementCatchUpPollMs));
  }
}

interface HeldStation {
  readonly tenantId: string;
  readonly stationId: string;
  readonly connectionId: string;
}

async function onlineStationsOfNode(
  db: SqlDatabase,
  schema: string,
  nodeId: string,
  after: { tenantId: string; stationId: string } | null,
): Promise<HeldStation[]> {
  const { rows } = await db.query<{ tenant_id: string; station_id: string; connection_id: string }>(
    `SELECT tenant_id, station_id, connection_id FROM ${quoteIdentifier(schema)}.stations
      WHERE online AND node_id = $1 AND connection_id IS NOT NULL AND ($2::text IS NULL OR (tenant_id, station_id) > ($2, $3))
      ORDER BY tenant_id, station_id LIMIT ${settlementPageSize}`,
    [nodeId, after?.tenantId ?? null, after?.stationId ?? null],
  );
  return rows.map((row) => ({ tenantId: row.tenant_id, stationId: row.station_id, connectionId: row.connection_id }));
}

/** True when recorded (or already recorded); false when it failed, which is logged and counted. */
async function disconnect(deps: SettlementDeps, instance: NodeInstance, station: HeldStation): Promise<boolean> {
  const now = deps.clock.now().toISOString();
  try {
    await deps.bus.send({
      // The gateway's id for the close of this socket: one disconnect per connection, whoever records it.
      commandId: `${station.stationId}:disconnect:${station.connectionId}`,
      tenantId: station.tenantId,
      aggregateId: station.stationId,
      actor: `node:${instance.nodeId}`,
      correlationId: station.connectionId,
      occurredAt: now,
      command: { type: 'DisconnectStation', connectionId: station.connectionId, reason: nodeRestartedReason, disconnectedAt: now },
    });
    return true;
  } catch (error) {
    reportUnexpectedError(lineFaultLog(deps.log), 'node-settlement', error, { tenantId: station.tenantId, stationId: station.stationId });
    return false;
  }
}
