import { migrate } from '../sql/migrate.js';
import type { SqlDatabase, SqlExecutor } from '../sql/port.js';
import { createGroupCommitter, type GroupCommitOptions, type GroupCommitStats } from './group-commit.js';
import {
  comparePositions,
  readAllLimitMax,
  readStreamMaxCountDefault,
  type AllSubscription,
  type AppendResult,
  type EventStore,
  type EventToAppend,
  type ExpectedRevision,
  type Position,
  type RecordedEvent,
} from './port.js';
import { appendInTransactionWith } from './postgres-append.js';
import { eventStoreSql, type EventStoreSql } from './postgres-sql.js';
import { subscriptionFromPolling } from './subscription.js';

export { AppendQueueFullError, appendQueueMax, groupAppendsDefault, groupAppendsMax, groupEventsMax, groupFlushersDefault } from './group-commit.js';
export type { GroupCommitStats, GroupWriteMode } from './group-commit.js';

export const eventStoreSchemaDefault = 'eventstore';

export interface PostgresEventStoreOptions {
  /** Schema holding the events table; default `eventstore`. */
  readonly schema?: string;
  /** Tuning for measurements (test/bench/eventstore.ts); the defaults are the measured best. */
  readonly groupCommit?: GroupCommitOptions;
}

export interface PostgresEventStore extends EventStore {
  readonly kind: 'postgres' | 'pglite';
  /**
   * The append rules inside the caller's own transaction (no group commit): for writers that
   * must commit events together with other rows. Keep that transaction short: while it runs it
   * holds back the read barrier of every $all reader (see postgres-sql.ts).
   */
  appendInTransaction(tx: SqlExecutor, streamId: string, events: readonly EventToAppend[], expectedRevision: ExpectedRevision): Promise<AppendResult>;
  groupCommitStats(): GroupCommitStats;
}

/**
 * The Postgres event store, on a server (`pg`) or embedded (PGlite): both are a SqlDatabase.
 * Applies its own migrations. The caller keeps ownership of `db`: close() ends the store's work
 * (queued appends written, subscriptions ended, LISTEN stopped) but leaves `db` open.
 */
export async function openPostgresEventStore(db: SqlDatabase, options: PostgresEventStoreOptions = {}): Promise<PostgresEventStore> {
  const sql = eventStoreSql(options.schema ?? eventStoreSchemaDefault);
  await migrate(db, 'eventstore', sql.schema);
  const committer = createGroupCommitter(db, sql, options.groupCommit);
  const wakeups = wakeupHub(db, sql);
  const subscriptions = new Set<AllSubscription>();
  let closed = false;

  function readAll(after: Position | undefined, limit: number): Promise<RecordedEvent[]> {
    if (!(Number.isInteger(limit) && limit >= 1)) throw new RangeError(`readAll limit must be a positive integer, got ${limit}`);
    return sql.readAll(db, after, Math.min(limit, readAllLimitMax));
  }

  return {
    kind: db.kind,
    append(streamId, events, expectedRevision) {
      return committer.append(streamId, events, expectedRevision);
    },
    appendInTransaction(tx, streamId, events, expectedRevision) {
      if (closed) return Promise.reject(new Error('event store is closed'));
      return appendInTransactionWith(sql, tx, streamId, events, expectedRevision);
    },
    async readStream(streamId, readOptions = {}) {
      const fromRevision = readOptions.fromRevision ?? 0;
      const maxCount = Math.min(readOptions.maxCount ?? readStreamMaxCountDefault, readStreamMaxCountDefault);
      if (!(Number.isInteger(fromRevision) && fromRevision >= 0)) throw new RangeError(`fromRevision must be >= 0, got ${fromRevision}`);
      if (!(Number.isInteger(maxCount) && maxCount >= 1)) throw new RangeError(`maxCount must be a positive integer, got ${maxCount}`);
      return sql.readStream(db, streamId, fromRevision, maxCount);
    },
    readAll(readOptions) {
      return readAll(readOptions.after, readOptions.limit);
    },
    subscribe(subscribeOptions = {}) {
      if (closed) throw new Error('event store is closed');
      let last = subscribeOptions.after;
      let seenWakeups = -1;
      const subscription = subscriptionFromPolling({
        after: subscribeOptions.after,
        batchSize: subscribeOptions.batchSize,
        read: async (after, limit) => {
          // LISTEN before the first read, and note the wake-up count before every read: a
          // notification that lands during the read then makes the next wait return at once.
          await wakeups.ready();
          seenWakeups = wakeups.count();
          const batch = await readAll(after, limit);
          for (const event of batch) {
            // A subscription only moves forward; a step back would mean the barrier failed.
            if (last !== undefined && comparePositions(event.position, last) <= 0) {
              throw new Error(`subscription went back from ${last.commit}/${last.prepare} to ${event.position.commit}/${event.position.prepare}`);
            }
            last = event.position;
          }
          return batch;
        },
        waitForMore: (signal) => wakeups.wait(signal, seenWakeups),
      });
      subscriptions.add(subscription);
      return {
        [Symbol.asyncIterator]: () => subscription[Symbol.asyncIterator](),
        async close() {
          subscriptions.delete(subscription);
          await subscription.close();
        },
      };
    },
    headPosition() {
      return sql.headPosition(db);
    },
    groupCommitStats: () => committer.stats(),
    async close() {
      if (closed) return;
      closed = true;
      await committer.close();
      await Promise.all([...subscriptions].map((subscription) => subscription.close()));
      subscriptions.clear();
      await wakeups.stop();
    },
  };
}

/** One LISTEN per store (a dedicated connection on a server), shared by all its subscriptions. */
function wakeupHub(db: SqlDatabase, sql: EventStoreSql) {
  let received = 0;
  const waiters = new Set<() => void>();
  let listening: Promise<() => Promise<void>> | undefined;
  return {
    ready(): Promise<unknown> {
      if (listening === undefined) {
        const opening = db.listen(sql.channel, () => {
          received += 1;
          for (const wake of waiters) wake();
        });
        listening = opening;
        // A first LISTEN that failed (server down) is tried again by the next read, not cached forever.
        opening.catch(() => {
          if (listening === opening) listening = undefined;
        });
      }
      return listening;
    },
    count: () => received,
    wait(signal: AbortSignal, seen: number): Promise<void> {
      if (received !== seen || signal.aborted) return Promise.resolve();
      return new Promise<void>((resolve) => {
        const wake = () => {
          waiters.delete(wake);
          signal.removeEventListener('abort', wake);
          resolve();
        };
        waiters.add(wake);
        signal.addEventListener('abort', wake, { once: true });
      });
    },
    async stop(): Promise<void> {
      for (const wake of [...waiters]) wake();
      if (listening !== undefined) await (await listening.catch(() => async () => {}))();
      listening = undefined;
    },
  };
}
