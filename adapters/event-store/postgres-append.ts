import { createRequire } from 'node:module';
import type { SqlExecutor } from '../sql/port.js';
import { eventHash } from './hash.js';
import {
  appendEventsMax,
  EventIdConflictError,
  expectedRevisionHolds,
  WrongExpectedRevisionError,
  type AppendResult,
  type EventToAppend,
  type ExpectedRevision,
  type JsonObject,
  type Position,
} from './port.js';
import { rowKey, type EventStoreSql, type KnownEvent, type PlannedRow, type StreamState } from './postgres-sql.js';

// canonicalize ships CommonJS with an ESM-style .d.ts; load it as what it is (as hash.ts does).
const canonicalize = createRequire(import.meta.url)('canonicalize') as (input: unknown) => string | undefined;

/**
 * How often one append retries after losing a race at the unique constraints (another process
 * committed the same stream between our read and our insert). After a loss the winner has
 * committed, so the re-read decides for good unless yet another writer slips in.
 */
export const appendRaceRetriesMax = 3;

// Postgres creates event_id as uuid and prints it lowercase; the hash covers the id as given, so
// only the canonical lowercase form reads back identical.
const canonicalUuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * What a retry must repeat for its events to count as the same ones. Metadata is left out on
 * purpose: a retried command is handled again with a new recordedAt (commands/handler.ts), and
 * that must still be recognised as the same fact, not refused as a conflict.
 */
export function contentOf(event: { type: string; schemaVersion: number; data: JsonObject }): string {
  return canonicalize({ type: event.type, schemaVersion: event.schemaVersion, data: event.data }) ?? '';
}

export function checkAppendInput(streamId: string, events: readonly EventToAppend[]): void {
  if (events.length === 0 || events.length > appendEventsMax) {
    throw new RangeError(`append takes 1 to ${appendEventsMax} events, got ${events.length}`);
  }
  if (streamId.length === 0) throw new RangeError('stream id is empty');
  const ids = new Set<string>();
  for (const event of events) {
    if (!canonicalUuid.test(event.eventId)) throw new RangeError(`event id must be a lowercase UUID: ${event.eventId}`);
    if (ids.has(event.eventId)) throw new RangeError(`event id ${event.eventId} appears twice in one append to ${streamId}`);
    ids.add(event.eventId);
  }
}

/** Outcome of deciding one append against its stream's state. */
export type AppendPlan =
  | { readonly kind: 'duplicate'; readonly streamId: string; readonly last: KnownEvent }
  | { readonly kind: 'append'; readonly streamId: string; readonly rows: PlannedRow[] };

/**
 * The append rules, once, for appendInTransaction and group commit alike: idempotent retry first
 * (a retry after success must not fail on a revision it already moved), then the expected
 * revision, then the rows with their hash chain. Updates `state` as if the rows were in, so later
 * appends to the same stream in the same group chain onto them. Throws the typed errors.
 */
export function planAppend(state: StreamState, streamId: string, events: readonly EventToAppend[], expected: ExpectedRevision): AppendPlan {
  const known = events.map((event) => state.known.get(event.eventId));
  if (known.every((entry) => entry !== undefined)) {
    const first = known[0]!.revision;
    known.forEach((entry, index) => {
      // A plain retry: the same ids, in the same order, at consecutive revisions, same content.
      if (entry!.revision !== first + index || entry!.content() !== contentOf(events[index]!)) {
        throw new EventIdConflictError(streamId, events[index]!.eventId);
      }
    });
    return { kind: 'duplicate', streamId, last: known.at(-1)! };
  }
  const firstKnown = known.findIndex((entry) => entry !== undefined);
  if (firstKnown >= 0) throw new EventIdConflictError(streamId, events[firstKnown]!.eventId);
  if (!expectedRevisionHolds(expected, state.revision)) throw new WrongExpectedRevisionError(streamId, expected, state.revision);

  const rows: PlannedRow[] = [];
  let previousHash = state.hash;
  for (const [offset, event] of events.entries()) {
    const revision = state.revision + 1 + offset;
    // Hash what the database will give back: jsonb keeps JSON values only (no undefined, no
    // Date objects), so round-trip once here and `audit verify` recomputes the same hash.
    const data = JSON.parse(JSON.stringify(event.data)) as JsonObject;
    const metadata = JSON.parse(JSON.stringify(event.metadata)) as EventToAppend['metadata'];
    const stored = { eventId: event.eventId, type: event.type, schemaVersion: event.schemaVersion, data, metadata };
    const hash = eventHash({ ...stored, streamId, revision }, previousHash);
    rows.push({ ...stored, streamId, revision, previousHash, hash });
    previousHash = hash;
  }
  for (const row of rows) state.known.set(row.eventId, { revision: row.revision, content: () => contentOf(row), position: undefined });
  state.revision = rows.at(-1)!.revision;
  state.hash = previousHash;
  return { kind: 'append', streamId, rows };
}

/** The result of a plan once its rows are in (positions known). */
export function planResult(plan: AppendPlan, positions: ReadonlyMap<string, Position>): AppendResult {
  if (plan.kind === 'duplicate') {
    const position = plan.last.position;
    if (position === undefined) throw new Error(`${plan.streamId}: duplicate of an event not yet written`);
    return { streamId: plan.streamId, nextExpectedRevision: plan.last.revision, position, duplicate: true };
  }
  const last = plan.rows.at(-1)!;
  const position = positions.get(rowKey(plan.streamId, last.revision));
  if (position === undefined) throw new Error(`${plan.streamId}@${last.revision}: no position after insert`);
  return { streamId: plan.streamId, nextExpectedRevision: last.revision, position, duplicate: false };
}

/** Lost a race at a unique constraint (or a deadlock between two writers' transactions). */
export function isWriteRace(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === '23505' || code === '40P01';
}

/**
 * One append inside the caller's transaction `tx`: no group commit, its own SAVEPOINT so a lost
 * race rolls back only this append and leaves `tx` usable. Group commit's fallback path calls
 * this same function once per append. Wakes subscribers (NOTIFY, delivered at the caller's COMMIT).
 */
export async function appendInTransactionWith(
  sql: EventStoreSql,
  tx: SqlExecutor,
  streamId: string,
  events: readonly EventToAppend[],
  expected: ExpectedRevision,
): Promise<AppendResult> {
  checkAppendInput(streamId, events);
  for (let attempt = 0; ; attempt += 1) {
    await tx.query('SAVEPOINT csms_append');
    try {
      const states = await sql.readStates(tx, [{ streamId, eventIds: events.map((event) => event.eventId) }], contentOf);
      const plan = planAppend(states.get(streamId)!, streamId, events, expected);
      let result: AppendResult;
      if (plan.kind === 'append') {
        const positions = await sql.insertRows(tx, plan.rows);
        result = planResult(plan, positions);
        assertConsecutive(plan.rows);
      } else {
        result = planResult(plan, new Map());
      }
      await tx.query('RELEASE SAVEPOINT csms_append');
      return result;
    } catch (error) {
      await tx.query('ROLLBACK TO SAVEPOINT csms_append');
      await tx.query('RELEASE SAVEPOINT csms_append');
      // After a lost race the winner has committed: reading again gives the typed answer
      // (duplicate, WrongExpectedRevisionError with the real actual revision, or success for 'any').
      if (!isWriteRace(error) || attempt >= appendRaceRetriesMax) throw error;
    }
  }
}

/** Invariant of every planned append: consecutive revisions, each chained to its predecessor's hash. */
export function assertConsecutive(rows: readonly PlannedRow[]): void {
  rows.forEach((row, index) => {
    const before = rows[index - 1];
    if (before !== undefined && (row.revision !== before.revision + 1 || row.previousHash !== before.hash)) {
      throw new Error(`${row.streamId}: revision ${row.revision} does not follow ${before.revision} in revision and hash`);
    }
    if ((row.revision === 0) !== (row.previousHash === null)) throw new Error(`${row.streamId}@${row.revision}: previous hash wrong`);
  });
}
