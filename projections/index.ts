import { randomUUID } from 'node:crypto';
import { positionToString, type EventStore } from '../adapters/event-store/port.js';
import type { SqlDatabase } from '../adapters/sql/port.js';
import { countEventsBetween } from './lag.js';
import { migrateLeases, readLease, type LeaseView } from './lease.js';
import type { Projection } from './projection.js';
import { rebuild, verify } from './rebuild.js';
import { ProjectionRunner, runnerBatchSizeDefault } from './runner.js';
import { liveSchemaName, migrateProjectionSchema, readState, schemaExists } from './schema.js';
import { cdrsProjection } from './cdrs.js';
import { ledgerProjection } from './ledger.js';
import { locationsProjection } from './locations.js';
import { ocpiSessionsProjection } from './ocpi-sessions.js';
import { partnersProjection } from './partners.js';
import { sessionsProjection } from './sessions.js';
import { stationsProjection } from './stations.js';
import { tariffsProjection } from './tariffs.js';
import { tokensProjection } from './tokens.js';

export type { Projection, ChecksumTable } from './projection.js';
export type { StationsReadModel, StationsTable, ConnectorsTable } from './stations.js';
export type { SessionsReadModel, TransactionsTable } from './sessions.js';
export type { TokensReadModel, TokensTable } from './tokens.js';
export type { CdrsReadModel, CdrsTable } from './cdrs.js';
export type { LedgerReadModel, LedgerAccountsTable, JournalLinesTable } from './ledger.js';
export type { PartnersReadModel, PartnersTable } from './partners.js';
export type { LocationsReadModel, LocationsTable, LocationEvsesTable, LocationConnectorsTable } from './locations.js';
export type { TariffsReadModel, TariffsTable } from './tariffs.js';
export type { OcpiSessionsReadModel, OcpiSessionsTable, OcpiChargingPeriodsTable } from './ocpi-sessions.js';
export { liveSchemaName } from './schema.js';
export { runnerBatchSizeDefault } from './runner.js';
export { leaseDurationMs, type LeaseView } from './lease.js';

export interface ProjectionDeps {
  eventStore: EventStore;
  db: SqlDatabase;
  log?: (message: string) => void;
  /** Schema of the Postgres event store's table, for the exact lag count (default 'eventstore'). */
  eventStoreSchema?: string;
}

export function allProjections(): Projection[] {
  return [stationsProjection, sessionsProjection, tokensProjection, cdrsProjection, ledgerProjection, partnersProjection, locationsProjection, tariffsProjection, ocpiSessionsProjection];
}

function find(name: string): Projection {
  const projection = allProjections().find((candidate) => candidate.name === name);
  if (!projection) throw new Error(`unknown projection ${name}; known: ${allProjections().map((p) => p.name).join(', ')}`);
  return projection;
}

const quiet = () => {};

/**
 * Creates the lease table and every live schema that is missing, and applies new migration files.
 * `projections`: only these (a CLI read migrates just the read models it reads).
 */
export async function migrateProjections(deps: ProjectionDeps, projections: readonly Projection[] = allProjections()): Promise<void> {
  await migrateLeases(deps.db);
  for (const projection of projections) await migrateProjectionSchema(deps.db, projection, liveSchemaName(projection.name));
}

/**
 * One runner per projection (each takes its lease; on other nodes they stand by). A live schema
 * whose version differs from the code's (stale) is rebuilt by the runner that gets the lease,
 * before it applies anything: old-version code keeps no lease while it runs, so readers are served
 * the old schema until the swap. Call migrateProjections first.
 */
export function startProjectionRunners(
  deps: ProjectionDeps,
  options: { owner?: string; batchSize?: number; projections?: Projection[] } = {},
): { stop(): Promise<void>; idle(): Promise<void> } {
  const owner = options.owner ?? `node:${randomUUID()}`;
  const log = deps.log ?? quiet;
  const runners = (options.projections ?? allProjections()).map((projection) => {
    const runner: ProjectionRunner = new ProjectionRunner(deps.eventStore, deps.db, projection, {
      owner,
      batchSize: options.batchSize ?? runnerBatchSizeDefault,
      log,
      rebuildStale: async () => {
        await rebuild({ store: deps.eventStore, db: deps.db, log }, projection, { owner, leaseHeld: true });
      },
    });
    runner.start();
    return runner;
  });
  return {
    async stop() {
      await Promise.all(runners.map((runner) => runner.stop()));
    },
    async idle() {
      const head = await deps.eventStore.headPosition();
      await Promise.all(runners.map((runner) => runner.caughtUpTo(head)));
    },
  };
}

export interface ProjectionStatus {
  name: string;
  version: number;
  checkpoint: string | null;
  headPosition: string | null;
  /** Events between checkpoint and head; null when unknown (see lag.ts). */
  lagEvents: number | null;
  /** Owner of the unexpired lease (see `lease` for whether it still renews it). */
  leaseOwner: string | null;
  lease: LeaseView | null;
  /** Live schema version != code version (or no live schema yet), or the lease holder stopped renewing it. */
  stale: boolean;
}

export async function projectionStatus(deps: ProjectionDeps): Promise<ProjectionStatus[]> {
  const head = await deps.eventStore.headPosition();
  const statuses: ProjectionStatus[] = [];
  for (const projection of allProjections()) {
    const schema = liveSchemaName(projection.name);
    const exists = await schemaExists(deps.db, schema);
    const state = exists ? await readState(deps.db, schema) : null;
    const checkpoint = state?.checkpoint ?? null;
    const lease = (await schemaExists(deps.db, 'projection_control')) ? await readLease(deps.db, projection.name) : null;
    statuses.push({
      name: projection.name,
      version: projection.version,
      checkpoint: checkpoint === null ? null : positionToString(checkpoint),
      headPosition: head === null ? null : positionToString(head),
      lagEvents: await countEventsBetween(deps.eventStore, deps.db, deps.eventStoreSchema ?? 'eventstore', checkpoint, head),
      leaseOwner: lease === null || lease.state === 'expired' ? null : lease.owner,
      lease,
      // A holder that stopped renewing (killed) leaves the read model behind until its lease expires.
      stale: state === null || state.version !== projection.version || lease?.state === 'overdue',
    });
  }
  return statuses;
}

type ProgressOptions = { onProgress?: (appliedEvents: number, totalEvents: number | null) => void };

async function totalEvents(deps: ProjectionDeps): Promise<number | null> {
  return countEventsBetween(deps.eventStore, deps.db, deps.eventStoreSchema ?? 'eventstore', null, await deps.eventStore.headPosition());
}

export async function rebuildProjection(
  deps: ProjectionDeps,
  name: string,
  options: ProgressOptions = {},
): Promise<{ name: string; events: number; durationMs: number }> {
  const projection = find(name);
  await migrateLeases(deps.db);
  const total = options.onProgress ? await totalEvents(deps) : null;
  const result = await rebuild({ store: deps.eventStore, db: deps.db, log: deps.log ?? quiet, onProgress: options.onProgress, totalEvents: total }, projection);
  return { name, ...result };
}

export async function verifyProjection(
  deps: ProjectionDeps,
  name: string,
  options: ProgressOptions = {},
): Promise<{ name: string; position: string | null; liveChecksum: string; rebuiltChecksum: string; identical: boolean }> {
  const projection = find(name);
  await migrateLeases(deps.db);
  const total = options.onProgress ? await totalEvents(deps) : null;
  const result = await verify({ store: deps.eventStore, db: deps.db, log: deps.log ?? quiet, onProgress: options.onProgress, totalEvents: total }, projection);
  return { name, ...result };
}
