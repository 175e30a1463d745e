import { comparePositions, type Position, type RecordedEvent } from '../adapters/event-store/port.js';
import type { JsonObject } from '../adapters/event-store/port.js';
import type { SqlDatabase } from '../adapters/sql/port.js';
import { invariant } from '../domain/shared/assert.js';
import { upcast } from '../domain/events.js';
import { checkLease } from './lease.js';
import type { Projection } from './projection.js';
import { advanceCheckpoint, readState } from './schema.js';

/** Stored events reach projections only at their current schema version (docs/design.md, "Events"). */
export function upcastRecorded(event: RecordedEvent): RecordedEvent {
  const current = upcast(event.type, event.schemaVersion, event.data);
  return { ...event, schemaVersion: current.schemaVersion, data: current.data as JsonObject };
}

export type BatchOutcome =
  | { readonly kind: 'applied'; readonly checkpoint: Position }
  | { readonly kind: 'lease-lost' }
  | { readonly kind: 'handover' }
  /** The stored checkpoint is not where we thought (a rebuild swapped the schema in): reload it. */
  | { readonly kind: 'checkpoint-moved'; readonly stored: Position | null };

/**
 * Applies one page of $all to `schema` in ONE transaction with the checkpoint update, so a crash
 * anywhere leaves both as they were and the page is applied again, once, on restart. With
 * `leaseOwner` the lease is checked and extended first (its row lock orders us against a takeover).
 * Unhandled events are skipped but still move the checkpoint past them.
 */
export async function applyPage(
  db: SqlDatabase,
  projection: Projection,
  schema: string,
  expected: Position | null,
  page: readonly RecordedEvent[],
  leaseOwner: string | null,
): Promise<BatchOutcome> {
  const last = page.at(-1);
  invariant(last !== undefined, 'a page to apply has events');
  for (let i = 1; i < page.length; i++) {
    invariant(comparePositions(page[i - 1]!.position, page[i]!.position) < 0, 'a page of $all is in position order');
  }
  invariant(expected === null || comparePositions(page[0]!.position, expected) > 0, 'a page starts after the checkpoint');
  // Upcast (and validate) outside the transaction: it is CPU work that need not hold locks.
  const handled = page.filter((event) => projection.handledEventTypes.has(event.type)).map(upcastRecorded);
  return db.transaction(async (tx): Promise<BatchOutcome> => {
    if (leaseOwner !== null) {
      const lease = await checkLease(tx, projection.name, leaseOwner);
      if (lease === 'lost') return { kind: 'lease-lost' };
      if (lease === 'handover') return { kind: 'handover' };
    }
    const state = await readState(tx, schema, true);
    const stored = state.checkpoint;
    const same = stored === null ? expected === null : expected !== null && comparePositions(stored, expected) === 0;
    if (!same) {
      // Only forward: a stored checkpoint behind ours would mean an event applied twice or lost.
      invariant(expected === null || (stored !== null && comparePositions(stored, expected) > 0), `checkpoint of ${schema} never moves backward`);
      return { kind: 'checkpoint-moved', stored };
    }
    if (handled.length > 0) await projection.applyBatch(tx, schema, handled);
    await advanceCheckpoint(tx, schema, expected, last.position, page.length);
    return { kind: 'applied', checkpoint: last.position };
  });
}
