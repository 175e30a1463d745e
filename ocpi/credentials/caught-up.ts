import { comparePositions, type EventStore } from '../../adapters/event-store/port.js';
import type { SqlExecutor } from '../../adapters/sql/port.js';
import { liveSchemaName, readState } from '../../projections/schema.js';

/**
 * Read-your-writes for a read model whatever process wrote: resolves once the projection has
 * applied every event committed before the call. A partner's handshake may have been written by
 * the CLI (`csms ocpi register` on the database) or by another node, which this node's memory
 * knows nothing of; the partner calls us the moment it has our token, often before the runner's
 * next poll. The wait is bounded: a projection that does not move leaves the read model as it is.
 */

/** What the wait needs of the event store: where $all ends, and whether it is one of the SQL stores. */
export type EventHead = Pick<EventStore, 'kind' | 'headPosition'>;

/** Longest wait; a runner that is alive is at most a poll (~100 ms) and a batch behind. */
export const caughtUpWaitMsDefault = 2_000;
export const caughtUpPollIntervalMs = 20;

export interface CaughtUpOptions {
  readonly waitMs?: number;
  readonly pollIntervalMs?: number;
}

/** Waits, counted for metrics: how many found the read model caught up, how many gave up. */
export const readModelWaits = { caughtUp: 0, timedOut: 0 };

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A barrier on `projection`: calling it resolves true once the read model has caught up with the
 * events committed before the call, false when `waitMs` ran out first. Concurrent callers share
 * passes: a call that arrives during a pass joins the next one (the pass in flight may have read
 * the head before the caller's events were visible), so at most two passes run for any burst.
 */
export function readModelBarrier(db: SqlExecutor, events: EventHead, projection: string, options: CaughtUpOptions = {}): () => Promise<boolean> {
  const waitMs = options.waitMs ?? caughtUpWaitMsDefault;
  const pollMs = options.pollIntervalMs ?? caughtUpPollIntervalMs;
  const schema = liveSchemaName(projection);
  let current: Promise<boolean> | null = null;
  let next: Promise<boolean> | null = null;

  async function pass(): Promise<boolean> {
    const deadline = Date.now() + waitMs;
    const caughtUp = (await committedBeforeVisible(db, events, deadline, pollMs)) && (await checkpointReachesHead(db, events, schema, deadline, pollMs));
    if (caughtUp) readModelWaits.caughtUp += 1;
    else readModelWaits.timedOut += 1;
    return caughtUp;
  }

  const barrier = (): Promise<boolean> => {
    if (current === null) {
      current = pass().finally(() => {
        current = null;
      });
      return current;
    }
    next ??= current
      .catch(() => false)
      .then(() => {
        next = null;
        return barrier();
      });
    return next;
  };
  return barrier;
}

/**
 * The SQL stores show an event to $all readers only once every older transaction has ended
 * (adapters/event-store/postgres-sql.ts), so `headPosition` alone can stop short of an event
 * committed a moment ago. xmax is the first transaction id not yet started: once the oldest
 * running one (xmin) is past it, every transaction that could have committed before now is done.
 */
async function committedBeforeVisible(db: SqlExecutor, events: EventHead, deadline: number, pollMs: number): Promise<boolean> {
  if (events.kind !== 'postgres' && events.kind !== 'pglite') return true;
  const { rows } = await db.query<{ xmax: string }>('SELECT pg_snapshot_xmax(pg_current_snapshot())::text AS xmax');
  const xmax = rows[0]!.xmax;
  for (;;) {
    const { rows: now } = await db.query<{ passed: boolean }>('SELECT pg_snapshot_xmin(pg_current_snapshot()) >= $1::xid8 AS passed', [xmax]);
    if (now[0]!.passed) return true;
    if (Date.now() >= deadline) return false;
    await pause(pollMs);
  }
}

async function checkpointReachesHead(db: SqlExecutor, events: EventHead, schema: string, deadline: number, pollMs: number): Promise<boolean> {
  const head = await events.headPosition();
  if (head === null) return true;
  for (;;) {
    const { checkpoint } = await readState(db, schema);
    if (checkpoint !== null && comparePositions(checkpoint, head) >= 0) return true;
    if (Date.now() >= deadline) return false;
    await pause(pollMs);
  }
}
