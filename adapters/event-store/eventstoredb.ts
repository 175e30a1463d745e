import {
  BACKWARDS,
  END,
  EventStoreDBClient,
  excludeSystemEvents,
  FORWARDS,
  jsonEvent,
  NO_STREAM,
  START,
  StreamNotFoundError,
  WrongExpectedVersionError,
  type AllStreamSubscription,
  type ResolvedEvent,
} from '@eventstore/db-client';
import type { EventMetadata } from '../../domain/shared/event.js';
import { eventHash } from './hash.js';
import {
  comparePositions,
  expectedRevisionHolds,
  readAllLimitMax,
  readStreamMaxCountDefault,
  WrongExpectedRevisionError,
  type AllSubscription,
  type AppendResult,
  type EventStore,
  type EventToAppend,
  type ExpectedRevision,
  type JsonObject,
  type Position,
  type RecordedEvent,
} from './port.js';
import { appendRaceRetriesMax, checkAppendInput, contentOf, planAppend } from './postgres-append.js';
import type { KnownEvent, StreamState } from './postgres-sql.js';

/**
 * EventStoreDB via @eventstore/db-client (docs/design.md): positions are the server's {commit, prepare}.
 * Our metadata, schema version and hash chain travel in each event's ESDB metadata under `csms`,
 * so `audit verify` recomputes hashes from readAll exactly as on Postgres. The append rules
 * (idempotent retry, expected revision, chaining) are planAppend's, shared with Postgres.
 *
 * Not run here (no server can be installed on the build machines): it runs in the contract suite
 * when EVENTSTORE_URL is set.
 */

/**
 * How far back an append with a non-exact expectation ('any', 'stream_exists') or a failed exact
 * one looks for its event ids. ESDB has no index by event id, so retries older than this many
 * events are not recognised as retries.
 */
export const idempotencyWindowEvents = 1_000;
/** Resubscribe delays after a dropped subscription: doubling from the first to the max. */
export const resubscribeDelayFirstMs = 100;
export const resubscribeDelayMaxMs = 5_000;
/** Pages scanned backwards for headPosition before giving up (system events can precede ours). */
const headScanPagesMax = 20;
const headScanPageSize = 100;

interface CsmsMetadata {
  readonly csms: { readonly metadata: EventMetadata; readonly schemaVersion: number; readonly previousHash: string | null; readonly hash: string };
  readonly $correlationId?: string;
  readonly $causationId?: string;
}

function isOurs(metadata: unknown): metadata is CsmsMetadata {
  return typeof metadata === 'object' && metadata !== null && 'csms' in metadata;
}

function toRecorded(resolved: ResolvedEvent): RecordedEvent | undefined {
  const event = resolved.event;
  // Events other writers put on a shared server (and ESDB's own) are not part of our $all.
  if (event === undefined || !event.isJson || event.streamId.startsWith('$') || !isOurs(event.metadata)) return undefined;
  const position = event.position ?? (resolved.commitPosition !== undefined ? { commit: resolved.commitPosition, prepare: resolved.commitPosition } : undefined);
  if (position === undefined) throw new Error(`EventStoreDB returned ${event.streamId}@${event.revision} without a position`);
  const csms = event.metadata.csms;
  return {
    eventId: event.id,
    type: event.type,
    schemaVersion: csms.schemaVersion,
    data: event.data as JsonObject,
    metadata: csms.metadata,
    streamId: event.streamId,
    revision: Number(event.revision),
    position: { commit: position.commit, prepare: position.prepare },
    previousHash: csms.previousHash,
    hash: csms.hash,
  };
}

export function openEventStoreDbEventStore(connectionString: string): EventStore {
  const client = EventStoreDBClient.connectionString(connectionString);
  const subscriptions = new Set<AllSubscription>();
  let closed = false;

  async function readBackwards(streamId: string, maxCount: number): Promise<RecordedEvent[]> {
    const events: RecordedEvent[] = [];
    try {
      for await (const resolved of client.readStream(streamId, { direction: BACKWARDS, fromRevision: END, maxCount })) {
        const recorded = toRecorded(resolved);
        if (recorded !== undefined) events.push(recorded);
      }
    } catch (error) {
      if (error instanceof StreamNotFoundError) return [];
      throw error;
    }
    return events;
  }

  /** The stream as planAppend needs it, from its last `window` events. */
  async function streamState(streamId: string, window: number): Promise<{ state: StreamState; positions: Map<string, Position> }> {
    const tail = await readBackwards(streamId, window);
    const known = new Map<string, KnownEvent>();
    const positions = new Map<string, Position>();
    for (const event of tail) {
      known.set(event.eventId, { revision: event.revision, content: () => contentOf(event), position: event.position });
      positions.set(event.eventId, event.position);
    }
    const head = tail[0];
    return { state: { revision: head?.revision ?? -1, hash: head?.hash ?? null, known }, positions };
  }

  async function appendOnce(streamId: string, events: readonly EventToAppend[], expected: ExpectedRevision): Promise<AppendResult> {
    let { state } = await streamState(streamId, events.length);
    const exactAndHolds = typeof expected === 'number' && expectedRevisionHolds(expected, state.revision);
    const tailHoldsAnId = events.some((event) => state.known.has(event.eventId));
    if (!exactAndHolds || tailHoldsAnId) ({ state } = await streamState(streamId, idempotencyWindowEvents));
    const plan = planAppend(state, streamId, events, expected);
    if (plan.kind === 'duplicate') {
      return { streamId, nextExpectedRevision: plan.last.revision, position: plan.last.position!, duplicate: true };
    }
    const first = plan.rows[0]!;
    // Always the exact revision we chained to: if anyone appended since our read, the server
    // refuses and our hashes never link to the wrong predecessor.
    const result = await client.appendToStream(
      streamId,
      plan.rows.map((row) =>
        jsonEvent({
          id: row.eventId,
          type: row.type,
          data: row.data,
          metadata: {
            csms: { metadata: row.metadata, schemaVersion: row.schemaVersion, previousHash: row.previousHash, hash: row.hash },
            $correlationId: row.metadata.correlationId,
            $causationId: row.metadata.causationId,
          } satisfies CsmsMetadata,
        }),
      ),
      { expectedRevision: first.revision === 0 ? NO_STREAM : BigInt(first.revision - 1) },
    );
    if (result.position === undefined) throw new Error(`EventStoreDB gave no position for the append to ${streamId}`);
    const last = plan.rows.at(-1)!;
    if (Number(result.nextExpectedRevision) !== last.revision) {
      throw new Error(`${streamId}: EventStoreDB is at ${result.nextExpectedRevision}, expected ${last.revision}`);
    }
    return { streamId, nextExpectedRevision: last.revision, position: result.position, duplicate: false };
  }

  function subscribeToAll(after: Position | undefined): AllSubscription {
    let last = after;
    let current: AllStreamSubscription | undefined;
    const stop = new AbortController();

    async function* iterate(): AsyncGenerator<RecordedEvent> {
      // ESDB catch-up subscriptions do not resubscribe by themselves: on a drop, start again
      // after the last event we delivered, with a bounded, doubling delay.
      for (let attempt = 0; !stop.signal.aborted; attempt += 1) {
        const subscription = client.subscribeToAll({ fromPosition: last ?? START, filter: excludeSystemEvents() });
        current = subscription;
        try {
          for await (const resolved of subscription) {
            attempt = 0;
            const recorded = toRecorded(resolved);
            // Skip what we already delivered (a resubscription may repeat the start position).
            if (recorded === undefined || (last !== undefined && comparePositions(recorded.position, last) <= 0)) continue;
            last = recorded.position;
            yield recorded;
            if (stop.signal.aborted) return;
          }
        } catch {
          // dropped: resubscribe below
        } finally {
          await subscription.unsubscribe().catch(() => {});
        }
        if (stop.signal.aborted) return;
        const delayMs = Math.min(resubscribeDelayMaxMs, resubscribeDelayFirstMs * 2 ** Math.min(attempt, 16));
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, delayMs);
          stop.signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
        });
      }
    }

    const iterator = iterate();
    const subscription: AllSubscription = {
      [Symbol.asyncIterator]: () => iterator,
      async close() {
        subscriptions.delete(subscription);
        stop.abort();
        await current?.unsubscribe().catch(() => {});
        await iterator.return(undefined);
      },
    };
    subscriptions.add(subscription);
    return subscription;
  }

  return {
    kind: 'eventstoredb',
    async append(streamId, events, expected) {
      if (closed) throw new Error('event store is closed');
      checkAppendInput(streamId, events);
      for (let attempt = 0; ; attempt += 1) {
        try {
          return await appendOnce(streamId, events, expected);
        } catch (error) {
          if (!(error instanceof WrongExpectedVersionError)) throw error;
          // Someone appended between our read and our write. For an exact expectation that is
          // the conflict the caller asked about; otherwise read again and re-chain.
          const actual = error.actualVersion === NO_STREAM ? -1 : Number(error.actualVersion);
          if (typeof expected === 'number' || attempt >= appendRaceRetriesMax) throw new WrongExpectedRevisionError(streamId, expected, actual);
        }
      }
    },
    async readStream(streamId, options = {}) {
      const maxCount = Math.min(options.maxCount ?? readStreamMaxCountDefault, readStreamMaxCountDefault);
      const events: RecordedEvent[] = [];
      try {
        const read = client.readStream(streamId, { direction: FORWARDS, fromRevision: BigInt(options.fromRevision ?? 0), maxCount });
        for await (const resolved of read) {
          const recorded = toRecorded(resolved);
          if (recorded !== undefined) events.push(recorded);
        }
      } catch (error) {
        if (error instanceof StreamNotFoundError) return [];
        throw error;
      }
      return events;
    },
    async readAll({ after, limit }) {
      const wanted = Math.min(limit, readAllLimitMax);
      const events: RecordedEvent[] = [];
      let from: Position | undefined = after;
      // fromPosition is inclusive, and system events are filtered here: read pages until enough.
      for (;;) {
        let seen = 0;
        const pageStart = from;
        for await (const resolved of client.readAll({ direction: FORWARDS, fromPosition: from ?? START, maxCount: wanted + 1 })) {
          seen += 1;
          const position = resolved.event?.position;
          if (position !== undefined) from = position;
          const recorded = toRecorded(resolved);
          if (recorded === undefined || (after !== undefined && comparePositions(recorded.position, after) <= 0)) continue;
          if (events.length > 0 && comparePositions(recorded.position, events.at(-1)!.position) <= 0) continue;
          events.push(recorded);
          if (events.length === wanted) return events;
        }
        if (seen <= 1 || from === pageStart) return events; // end of $all (or no progress possible)
      }
    },
    subscribe(options = {}) {
      if (closed) throw new Error('event store is closed');
      return subscribeToAll(options.after);
    },
    async headPosition() {
      let from: Position | typeof END = END;
      for (let page = 0; page < headScanPagesMax; page++) {
        let seen = 0;
        for await (const resolved of client.readAll({ direction: BACKWARDS, fromPosition: from, maxCount: headScanPageSize })) {
          seen += 1;
          const recorded = toRecorded(resolved);
          if (recorded !== undefined) return recorded.position;
          if (resolved.event?.position !== undefined) from = resolved.event.position;
        }
        if (seen < headScanPageSize) return null;
      }
      return null;
    },
    async close() {
      if (closed) return;
      closed = true;
      await Promise.all([...subscriptions].map((subscription) => subscription.close()));
      await client.dispose();
    },
  };
}
