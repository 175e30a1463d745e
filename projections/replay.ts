import { comparePositions, readAllLimitMax, type EventStore, type Position, type RecordedEvent } from '../adapters/event-store/port.js';
import type { SqlDatabase } from '../adapters/sql/port.js';
import { invariant } from '../domain/shared/assert.js';
import { applyPage } from './apply.js';
import type { Projection } from './projection.js';
import { readState } from './schema.js';

/**
 * Events per rebuild transaction. The store's largest page: a rebuild is bound by reading events,
 * so fewer, bigger round trips matter most; one page still commits in well under a second
 * (measured ~50-150 ms on the bench), which keeps pg_snapshot_xmin moving for other readers.
 */
export const rebuildBatchSize = readAllLimitMax;

export interface ReplayOptions {
  /** Stop after this position (inclusive); omit to replay to the current end of $all. */
  readonly upTo?: Position;
  /** Check and extend this owner's lease in every batch (held while catching up the tail). */
  readonly leaseOwner?: string | null;
  readonly onPage?: (events: number) => void;
}

/**
 * Replays $all after `schema`'s checkpoint into it, page by page, reading the next page while the
 * current one is applied. Returns the number of events replayed.
 */
export async function replayInto(
  store: EventStore,
  db: SqlDatabase,
  projection: Projection,
  schema: string,
  options: ReplayOptions = {},
): Promise<number> {
  let checkpoint = (await readState(db, schema)).checkpoint;
  const upTo = options.upTo;
  if (upTo !== undefined && checkpoint !== null && comparePositions(checkpoint, upTo) >= 0) return 0;
  const read = async (after: Position | null): Promise<RecordedEvent[]> => {
    const page = await store.readAll({ after: after ?? undefined, limit: rebuildBatchSize });
    return upTo === undefined ? page : page.filter((event) => comparePositions(event.position, upTo) <= 0);
  };
  let replayed = 0;
  let page = await read(checkpoint);
  while (page.length > 0) {
    const last = page.at(-1)!.position;
    const reachedEnd = upTo !== undefined && comparePositions(last, upTo) >= 0;
    const next = reachedEnd ? Promise.resolve([]) : read(last);
    next.catch(() => {});
    const outcome = await applyPage(db, projection, schema, checkpoint, page, options.leaseOwner ?? null);
    if (outcome.kind !== 'applied') {
      await next.catch(() => {});
      throw new Error(`replay into ${schema} stopped: ${outcome.kind}`);
    }
    checkpoint = outcome.checkpoint;
    replayed += page.length;
    options.onPage?.(replayed);
    page = await next;
  }
  invariant(upTo === undefined || (checkpoint !== null && comparePositions(checkpoint, upTo) === 0), `replay into ${schema} reached ${upTo === undefined ? '' : 'its target'}`);
  return replayed;
}
