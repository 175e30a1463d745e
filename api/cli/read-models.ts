import { invariant } from '../../domain/shared/assert.js';
import type { Services } from '../composition.js';

/**
 * Read models a CLI read needs, migrated and caught up before it reads. On a data folder where
 * only commands ran (no server), nothing else ever creates or fills them: a list would fail on a
 * missing schema, or show nothing of what was just registered. With a server running
 * (PostgreSQL), it holds the leases; these runners then only wait for its runners.
 */

/** Longest wait for events committed before the command started to become visible to $all readers. */
export const committedEventsVisibleWaitMs = 10_000;
const visibilityPollIntervalMs = 50;

/**
 * Waits until every event committed before now is visible to $all readers, or the wait runs out
 * (then the read model may lag, and the operator is told). The SQL stores show an event only once
 * every older transaction in the cluster has ended (adapters/event-store/postgres-sql.ts), so a
 * station registered a moment ago by another process can still be hidden behind a long
 * transaction anywhere on the server: `headPosition` alone would stop short of it.
 */
async function committedEventsVisible(services: Services, warn: (line: string) => void): Promise<void> {
  if (services.eventStore.kind !== 'postgres' && services.eventStore.kind !== 'pglite') return;
  // xmax: the first transaction id not yet started; every transaction that could have committed
  // an event before now has a lower id. Once the oldest running one (xmin) is past it, all are done.
  const { rows } = await services.db.query<{ xmax: string }>('SELECT pg_snapshot_xmax(pg_current_snapshot())::text AS xmax');
  const xmax = rows[0]!.xmax;
  const deadline = Date.now() + committedEventsVisibleWaitMs;
  for (;;) {
    const { rows: now } = await services.db.query<{ passed: boolean }>('SELECT pg_snapshot_xmin(pg_current_snapshot()) >= $1::xid8 AS passed', [xmax]);
    if (now[0]!.passed) return;
    if (Date.now() >= deadline) {
      warn(`csms: a long transaction on the database hides recent events for now: the read model may not show the newest changes yet`);
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, visibilityPollIntervalMs));
  }
}

export async function caughtUpReadModels(services: Services, names: readonly string[], warn: (line: string) => void) {
  const projections = await import('../../projections/index.js');
  const deps = { eventStore: services.eventStore, db: services.db };
  const known = projections.allProjections();
  const wanted = known.filter((projection) => names.includes(projection.name));
  // A name that matches no projection is a bug in the command, not the operator's doing.
  invariant(wanted.length === names.length, `unknown read model among ${names.join(', ')}; known: ${known.map((p) => p.name).join(', ')}`);
  await projections.migrateProjections(deps, wanted);
  await committedEventsVisible(services, warn);
  const runners = projections.startProjectionRunners(deps, { projections: wanted, owner: `cli:${process.pid}` });
  try {
    await runners.idle();
  } finally {
    await runners.stop();
  }
  return projections;
}
