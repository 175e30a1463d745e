import type { SqlDatabase, SqlExecutor } from '../sql/port.js';
import type { AppendResult, EventToAppend, ExpectedRevision, Position } from './port.js';
import { appendInTransactionWith, assertConsecutive, checkAppendInput, contentOf, isWriteRace, planAppend, planResult, type AppendPlan } from './postgres-append.js';
import { rowKey, type EventStoreSql } from './postgres-sql.js';

/**
 * Group commit (docs/design.md): concurrent append() calls from one process queue up, and a flusher
 * writes many of them in ONE transaction, so they share one commit and one WAL fsync (2-7 ms
 * on the build machine: a lone appender gets 147-418 appends/s, the bound of an
 * append-per-transaction store per connection). Each append keeps its own expected-revision check and fails alone.
 */

/** Appends per transaction, hard bound. Bigger groups amortise the fsync further but raise every member's latency. */
export const groupAppendsMax = 256;
/**
 * Default appends per transaction: half of 256 concurrent appenders, so two groups are in flight
 * at once (one fsyncing while the next is planned and inserted). Measured at 256 appenders
 * (test/bench/RESULTS.md): 4 flushers x 128 gave 11,873 and 8,586 events/s in two sweeps,
 * against 10,197 / 5,897 with groups of 256.
 */
export const groupAppendsDefault = 128;
/** Events per transaction, whatever the number of appends (one append may carry up to appendEventsMax). */
export const groupEventsMax = 4_096;
/** Appends waiting for a flusher. Beyond it append() fails fast with AppendQueueFullError instead of queueing unbounded memory and latency. */
export const appendQueueMax = 10_000;
/**
 * Transactions written at once. Measured with `npm run bench:eventstore` (2 cores, Postgres 15
 * local, fsync on, 256 appenders, groups <= 128; machine shared, so +-30% noise): 1 flusher
 * 6,324 / 6,307 events/s, 2 flushers 8,506 / 7,065, 4 flushers 11,873 / 8,586, 8 flushers 6,970.
 * One flusher leaves the CPU idle during each fsync; beyond 4 the transactions only contend.
 */
export const groupFlushersDefault = 4;

export class AppendQueueFullError extends Error {
  override readonly name = 'AppendQueueFullError';
  constructor(readonly queuedAppends: number) {
    super(`event store append queue is full (${queuedAppends} appends waiting, max ${appendQueueMax}): shed load and retry later`);
  }
}

/**
 * 'batched' (default): one state read and one INSERT for the whole group; appends whose checks
 * fail are refused in memory before anything is written, so they fail alone without a savepoint.
 * If the INSERT still loses a race at a unique constraint (another process wrote one of the
 * streams in between), the transaction is redone in 'savepoints' mode.
 * 'savepoints': every append through appendInTransaction in its own SAVEPOINT (ROLLBACK TO
 * SAVEPOINT on conflict): 4-5 round trips per append instead of ~4 per group.
 */
export type GroupWriteMode = 'batched' | 'savepoints';

export interface GroupCommitOptions {
  readonly flushers?: number;
  readonly mode?: GroupWriteMode;
  /** At most groupAppendsMax. */
  readonly appendsPerGroupMax?: number;
}

export interface GroupCommitStats {
  /** Transactions committed by flushers. */
  readonly transactions: number;
  readonly appends: number;
  /** Batched groups redone with one savepoint per append after a lost race. */
  readonly savepointFallbacks: number;
}

export interface GroupCommitter {
  append(streamId: string, events: readonly EventToAppend[], expected: ExpectedRevision): Promise<AppendResult>;
  stats(): GroupCommitStats;
  /** Refuses new appends, writes every queued one, resolves when all are settled. */
  close(): Promise<void>;
}

interface QueuedAppend {
  readonly streamId: string;
  readonly events: readonly EventToAppend[];
  readonly expected: ExpectedRevision;
  readonly resolve: (result: AppendResult) => void;
  readonly reject: (error: unknown) => void;
}

type Outcome = { readonly ok: true; readonly result: AppendResult } | { readonly ok: false; readonly error: unknown };

export function createGroupCommitter(db: SqlDatabase, sql: EventStoreSql, options: GroupCommitOptions = {}): GroupCommitter {
  // PGlite runs one transaction at a time: a second flusher could only wait.
  const flushers = db.kind === 'pglite' ? 1 : (options.flushers ?? groupFlushersDefault);
  const mode = options.mode ?? 'batched';
  const appendsPerGroupMax = options.appendsPerGroupMax ?? groupAppendsDefault;
  if (!(flushers >= 1 && flushers <= 64)) throw new RangeError(`group commit flushers must be 1..64, got ${flushers}`);
  if (!(appendsPerGroupMax >= 1 && appendsPerGroupMax <= groupAppendsMax)) {
    throw new RangeError(`appends per group must be 1..${groupAppendsMax}, got ${appendsPerGroupMax}`);
  }
  let queue: QueuedAppend[] = [];
  /** Streams in a group being written: their later appends wait, so two of our own transactions never race on one stream. */
  const inFlight = new Map<string, number>();
  let active = 0;
  let closed = false;
  const idleWaiters: (() => void)[] = [];
  let transactions = 0;
  let appends = 0;
  let savepointFallbacks = 0;
  let pumpScheduled = false;

  // Appends made in the same tick (a burst of handlers) join one group instead of the first
  // going alone; a microtask adds no measurable latency.
  function schedulePump(): void {
    if (pumpScheduled) return;
    pumpScheduled = true;
    queueMicrotask(() => {
      pumpScheduled = false;
      pump();
    });
  }

  function takeGroup(): QueuedAppend[] {
    const group: QueuedAppend[] = [];
    const rest: QueuedAppend[] = [];
    let events = 0;
    for (const item of queue) {
      const full = group.length >= appendsPerGroupMax || (group.length > 0 && events + item.events.length > groupEventsMax);
      if (full || inFlight.has(item.streamId)) rest.push(item);
      else {
        group.push(item);
        events += item.events.length;
      }
    }
    queue = rest;
    for (const item of group) inFlight.set(item.streamId, (inFlight.get(item.streamId) ?? 0) + 1);
    return group;
  }

  function pump(): void {
    while (active < flushers && queue.length > 0) {
      const group = takeGroup();
      if (group.length === 0) break; // every queued append waits for a stream in flight; its flusher pumps again
      active += 1;
      void flush(group).finally(() => {
        active -= 1;
        for (const item of group) {
          const left = inFlight.get(item.streamId)! - 1;
          if (left === 0) inFlight.delete(item.streamId);
          else inFlight.set(item.streamId, left);
        }
        pump();
        if (active === 0 && queue.length === 0) for (const wake of idleWaiters.splice(0)) wake();
      });
    }
  }

  async function flush(group: QueuedAppend[]): Promise<void> {
    let outcomes: Outcome[];
    try {
      try {
        outcomes = await db.transaction((tx) => (mode === 'batched' ? writeBatched(tx, group) : writeWithSavepoints(tx, group)));
      } catch (error) {
        if (mode !== 'batched' || !isWriteRace(error)) throw error;
        savepointFallbacks += 1;
        outcomes = await db.transaction((tx) => writeWithSavepoints(tx, group));
      }
    } catch (error) {
      // The transaction did not commit: nothing of this group is in (or its outcome is unknown,
      // and a retry with the same event ids is safe).
      for (const item of group) item.reject(error);
      return;
    }
    transactions += 1;
    appends += group.length;
    group.forEach((item, index) => {
      const outcome = outcomes[index]!;
      if (outcome.ok) item.resolve(outcome.result);
      else item.reject(outcome.error);
    });
  }

  async function writeBatched(tx: SqlExecutor, group: readonly QueuedAppend[]): Promise<Outcome[]> {
    const states = await sql.readStates(tx, group.map((item) => ({ streamId: item.streamId, eventIds: item.events.map((event) => event.eventId) })), contentOf);
    const plans: (AppendPlan | { readonly error: unknown })[] = group.map((item) => {
      try {
        return planAppend(states.get(item.streamId)!, item.streamId, item.events, item.expected);
      } catch (error) {
        return { error };
      }
    });
    const rows = plans.flatMap((plan) => ('kind' in plan && plan.kind === 'append' ? plan.rows : []));
    let positions = new Map<string, Position>();
    if (rows.length > 0) {
      positions = await sql.insertRows(tx, rows);
      // Events appended earlier in this same group can be the originals of a retry in it.
      for (const [streamId, state] of states) {
        for (const known of state.known.values()) known.position ??= positions.get(rowKey(streamId, known.revision));
      }
    }
    return plans.map((plan) => {
      if (!('kind' in plan)) return { ok: false, error: plan.error };
      if (plan.kind === 'append') assertConsecutive(plan.rows);
      return { ok: true, result: planResult(plan, positions) };
    });
  }

  async function writeWithSavepoints(tx: SqlExecutor, group: readonly QueuedAppend[]): Promise<Outcome[]> {
    const outcomes: Outcome[] = [];
    for (const item of group) {
      try {
        outcomes.push({ ok: true, result: await appendInTransactionWith(sql, tx, item.streamId, item.events, item.expected) });
      } catch (error) {
        outcomes.push({ ok: false, error });
      }
    }
    return outcomes;
  }

  return {
    append(streamId, events, expected) {
      if (closed) return Promise.reject(new Error('event store is closed'));
      try {
        checkAppendInput(streamId, events);
      } catch (error) {
        return Promise.reject(error);
      }
      if (queue.length >= appendQueueMax) return Promise.reject(new AppendQueueFullError(queue.length));
      return new Promise<AppendResult>((resolve, reject) => {
        queue.push({ streamId, events, expected, resolve, reject });
        schedulePump();
      });
    },
    stats: () => ({ transactions, appends, savepointFallbacks }),
    async close() {
      closed = true;
      if (active === 0 && queue.length === 0) return;
      await new Promise<void>((resolve) => idleWaiters.push(resolve));
    },
  };
}
