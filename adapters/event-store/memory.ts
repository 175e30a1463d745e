import { createRequire } from 'node:module';
import { eventHash } from './hash.js';
import {
  appendEventsMax,
  comparePositions,
  EventIdConflictError,
  expectedRevisionHolds,
  readAllLimitMax,
  readStreamMaxCountDefault,
  WrongExpectedRevisionError,
  type AllSubscription,
  type AppendResult,
  type EventStore,
  type EventToAppend,
  type ExpectedRevision,
  type Position,
  type ReadAllOptions,
  type ReadStreamOptions,
  type RecordedEvent,
  type SubscribeOptions,
} from './port.js';
import { subscriptionFromPolling } from './subscription.js';

// canonicalize ships CommonJS with an ESM-style .d.ts; load it as what it is (as hash.ts does).
const canonicalize = createRequire(import.meta.url)('canonicalize') as (input: unknown) => string | undefined;

/**
 * What a retry must repeat to count as the same event (the rule of the Postgres store,
 * postgres-append.ts): type, schema version and data. Not metadata: a retried command is handled
 * again with a new recordedAt and must still be recognised.
 */
function sameContent(a: EventToAppend, b: EventToAppend): boolean {
  return canonicalize([a.type, a.schemaVersion, a.data]) === canonicalize([b.type, b.schemaVersion, b.data]);
}

/**
 * An event store in process memory. Not a mock: it keeps the whole contract (revisions,
 * idempotency, hash chain, global order) and passes the same contract suite, so deciders and
 * command handlers can be tested fast without a database. Nothing survives a restart.
 */
export function openMemoryEventStore(): EventStore {
  const all: RecordedEvent[] = [];
  const streams = new Map<string, RecordedEvent[]>();
  /** Each stream's events by id: a retry check per event without scanning the stream (long streams appended in batches). */
  const byEventId = new Map<string, Map<string, RecordedEvent>>();
  const wakeups = new Set<() => void>();
  const subscriptions = new Set<AllSubscription>();
  let closed = false;

  function positionOf(index: number): Position {
    return { commit: BigInt(index + 1), prepare: BigInt(index + 1) };
  }

  const store: EventStore = {
    kind: 'memory',
    async append(streamId: string, events: readonly EventToAppend[], expected: ExpectedRevision): Promise<AppendResult> {
      if (closed) throw new Error('event store is closed');
      if (events.length === 0 || events.length > appendEventsMax) {
        throw new RangeError(`append takes 1 to ${appendEventsMax} events, got ${events.length}`);
      }
      if (new Set(events.map((event) => event.eventId)).size !== events.length) {
        throw new RangeError(`an event id appears twice in one append to ${streamId}`);
      }
      const stream = streams.get(streamId) ?? [];
      const ids = byEventId.get(streamId) ?? new Map<string, RecordedEvent>();
      const known = events.map((event) => ids.get(event.eventId));
      if (known.every((recorded) => recorded !== undefined)) {
        // A plain retry: the same ids in the same order at consecutive revisions, same content
        // (found by the contract suite: this store used to accept any set of known ids).
        known.forEach((recorded, index) => {
          if (recorded!.revision !== known[0]!.revision + index || !sameContent(recorded!, events[index]!)) {
            throw new EventIdConflictError(streamId, events[index]!.eventId);
          }
        });
        const last = known[known.length - 1]!;
        return { streamId, nextExpectedRevision: last.revision, position: last.position, duplicate: true };
      }
      const firstKnown = known.findIndex((recorded) => recorded !== undefined);
      if (firstKnown >= 0) throw new EventIdConflictError(streamId, events[firstKnown]!.eventId);
      const actual = stream.length - 1;
      if (!expectedRevisionHolds(expected, actual)) throw new WrongExpectedRevisionError(streamId, expected, actual);
      let previousHash = stream.at(-1)?.hash ?? null;
      for (const [offset, event] of events.entries()) {
        const revision = actual + 1 + offset;
        const hash = eventHash({ ...event, streamId, revision }, previousHash);
        const recorded: RecordedEvent = { ...event, streamId, revision, position: positionOf(all.length), previousHash, hash };
        all.push(recorded);
        stream.push(recorded);
        ids.set(recorded.eventId, recorded);
        previousHash = hash;
      }
      streams.set(streamId, stream);
      byEventId.set(streamId, ids);
      for (const wake of wakeups) wake();
      const last = stream[stream.length - 1]!;
      return { streamId, nextExpectedRevision: last.revision, position: last.position, duplicate: false };
    },
    async readStream(streamId: string, options: ReadStreamOptions = {}): Promise<RecordedEvent[]> {
      const from = options.fromRevision ?? 0;
      const count = options.maxCount ?? readStreamMaxCountDefault;
      return (streams.get(streamId) ?? []).slice(from, from + count);
    },
    async readAll(options: ReadAllOptions): Promise<RecordedEvent[]> {
      const limit = Math.min(options.limit, readAllLimitMax);
      const after = options.after;
      const start = after === undefined ? 0 : all.findIndex((event) => comparePositions(event.position, after) > 0);
      if (start < 0) return [];
      return all.slice(start, start + limit);
    },
    subscribe(options: SubscribeOptions = {}): AllSubscription {
      if (closed) throw new Error('event store is closed');
      const subscription = subscriptionFromPolling({
        after: options.after,
        batchSize: options.batchSize,
        read: (after, limit) => store.readAll({ after, limit }),
        waitForMore: (signal) =>
          new Promise<void>((resolve) => {
            const wake = () => {
              wakeups.delete(wake);
              resolve();
            };
            wakeups.add(wake);
            signal.addEventListener('abort', wake, { once: true });
          }),
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
    async headPosition(): Promise<Position | null> {
      return all.at(-1)?.position ?? null;
    },
    async close(): Promise<void> {
      closed = true;
      // Ends open subscriptions, as the other stores do (found by the contract suite).
      await Promise.all([...subscriptions].map((subscription) => subscription.close()));
      subscriptions.clear();
      for (const wake of wakeups) wake();
    },
  };
  return store;
}
