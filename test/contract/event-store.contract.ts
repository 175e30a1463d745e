import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventHash } from '../../adapters/event-store/hash.js';
import {
  comparePositions,
  EventIdConflictError,
  WrongExpectedRevisionError,
  type AllSubscription,
  type EventStore,
  type EventToAppend,
  type JsonObject,
  type Position,
  type RecordedEvent,
} from '../../adapters/event-store/port.js';

/**
 * The event store contract (docs/design.md, "Event store contract"), one suite for every
 * implementation: memory, PGlite, Postgres, EventStoreDB. `open` gives a fresh, empty store
 * each time it is called (the suite opens a few: one shared, others it closes itself).
 */
export type OpenEventStore = () => Promise<{ store: EventStore; done(): Promise<void> }>;

/** How long a subscription may take to deliver an event that is already committed. */
const deliveryTimeoutMs = 10_000;

export function event(type = 'Tested', data: JsonObject = { n: 1 }, eventId: string = randomUUID()): EventToAppend {
  return {
    eventId,
    type,
    schemaVersion: 1,
    data,
    metadata: {
      tenantId: 't1',
      correlationId: 'corr-1',
      causationId: 'cmd-1',
      actor: 'user:contract',
      occurredAt: '2024-05-01T10:00:00.000Z',
      recordedAt: new Date().toISOString(),
    },
  };
}

/**
 * Reads $all after `after` until it holds `count` events. A committed append is not always
 * readable in $all at once: the Postgres store reads only below the oldest transaction still
 * running anywhere in the cluster (postgres-sql.ts), which a concurrent writer holds back briefly.
 */
async function readAllUntil(
  store: EventStore,
  after: Position | undefined,
  count: number,
  wanted: (event: RecordedEvent) => boolean = () => true,
): Promise<RecordedEvent[]> {
  const deadline = Date.now() + deliveryTimeoutMs;
  for (;;) {
    const events = (await store.readAll({ after, limit: 10_000 })).filter(wanted);
    if (events.length >= count || Date.now() > deadline) return events;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function newStream(label = 'contract'): string {
  return `${label}-t1-${randomUUID()}`;
}

/** Takes `count` events (of those `wanted`) from a subscription or fails after deliveryTimeoutMs. */
export async function take(
  subscription: AllSubscription,
  iterator: AsyncIterator<RecordedEvent>,
  count: number,
  wanted: (event: RecordedEvent) => boolean = () => true,
): Promise<RecordedEvent[]> {
  const taken: RecordedEvent[] = [];
  const timer = setTimeout(() => void subscription.close(), deliveryTimeoutMs);
  try {
    while (taken.length < count) {
      const next = await iterator.next();
      if (next.done) throw new Error(`subscription ended after ${taken.length} of ${count} events`);
      if (wanted(next.value)) taken.push(next.value);
    }
    return taken;
  } finally {
    clearTimeout(timer);
  }
}

export function runEventStoreContract(name: string, open: OpenEventStore): void {
  describe(`event store contract: ${name}`, () => {
    let store: EventStore;
    let done: () => Promise<void>;
    beforeAll(async () => {
      ({ store, done } = await open());
    });
    afterAll(async () => done?.());

    it('appends events and reads them back with consecutive revisions', async () => {
      const stream = newStream();
      const events = [event('A', { a: 1, nested: { list: [1, 'x', null, true] } }), event('B', { text: 'héllo ⚡' }), event('C')];
      const result = await store.append(stream, events, 'no_stream');
      expect(result).toMatchObject({ streamId: stream, nextExpectedRevision: 2, duplicate: false });
      const read = await store.readStream(stream);
      expect(read.map((e) => e.revision)).toEqual([0, 1, 2]);
      read.forEach((recorded, i) => {
        expect(recorded).toMatchObject({ ...events[i], streamId: stream });
      });
      expect(comparePositions(read[2]!.position, result.position)).toBe(0);
      expect(await store.readStream(newStream())).toEqual([]);
    });

    it('checks the expected revision: exact, no_stream, stream_exists, any', async () => {
      const stream = newStream();
      await expect(store.append(stream, [event()], 'stream_exists')).rejects.toMatchObject({ actual: -1 });
      await expect(store.append(stream, [event()], 0)).rejects.toBeInstanceOf(WrongExpectedRevisionError);
      expect((await store.append(stream, [event()], 'no_stream')).nextExpectedRevision).toBe(0);
      await expect(store.append(stream, [event()], 'no_stream')).rejects.toMatchObject({ actual: 0, expected: 'no_stream' });
      expect((await store.append(stream, [event(), event()], 0)).nextExpectedRevision).toBe(2);
      await expect(store.append(stream, [event()], 1)).rejects.toMatchObject({ streamId: stream, expected: 1, actual: 2 });
      expect((await store.append(stream, [event()], 'stream_exists')).nextExpectedRevision).toBe(3);
      expect((await store.append(stream, [event()], 'any')).nextExpectedRevision).toBe(4);
      expect((await store.append(newStream(), [event()], 'any')).nextExpectedRevision).toBe(0);
      expect((await store.readStream(stream)).map((e) => e.revision)).toEqual([0, 1, 2, 3, 4]);
    });

    it('lets exactly one of two racing appends with the same expected revision win, the other gets a typed conflict', async () => {
      const stream = newStream();
      await store.append(stream, [event()], 'no_stream');
      const outcomes = await Promise.allSettled([store.append(stream, [event('X')], 0), store.append(stream, [event('Y')], 0)]);
      const won = outcomes.filter((o) => o.status === 'fulfilled');
      const lost = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
      expect(won).toHaveLength(1);
      expect(lost).toHaveLength(1);
      expect(lost[0]!.reason).toBeInstanceOf(WrongExpectedRevisionError);
      expect(lost[0]!.reason).toMatchObject({ expected: 0, actual: 1 });
      expect(await store.readStream(stream)).toHaveLength(2);
    });

    it('treats a retry of an append that succeeded as a no-op returning the original result', async () => {
      const stream = newStream();
      await store.append(stream, [event()], 'no_stream');
      const events = [event('R1'), event('R2')];
      const first = await store.append(stream, events, 0);
      // The retry carries the old expected revision (and a new recordedAt): still the same facts.
      const retried = events.map((e) => ({ ...e, metadata: { ...e.metadata, recordedAt: new Date(Date.now() + 1_000).toISOString() } }));
      const again = await store.append(stream, retried, 0);
      expect(again).toEqual({ ...first, duplicate: true });
      expect(await store.append(stream, events, 'no_stream')).toEqual({ ...first, duplicate: true });
      expect(await store.readStream(stream)).toHaveLength(3);
      // Nothing reached $all either: the next event after the original append is a new marker.
      const marker = await store.append(newStream(), [event('Marker')], 'no_stream');
      expect((await readAllUntil(store, first.position, 1)).map((e) => e.position)).toEqual([marker.position]);
    });

    it('refuses a partial duplicate, a reordered duplicate and a known id with other content', async () => {
      const stream = newStream();
      const [a, b] = [event('A'), event('B')];
      await store.append(stream, [a, b], 'no_stream');
      await expect(store.append(stream, [b, event('C')], 'any')).rejects.toBeInstanceOf(EventIdConflictError);
      await expect(store.append(stream, [event('C'), a], 'any')).rejects.toMatchObject({ name: 'EventIdConflictError', eventId: a.eventId });
      await expect(store.append(stream, [b, a], 'any')).rejects.toBeInstanceOf(EventIdConflictError);
      await expect(store.append(stream, [{ ...a, data: { n: 2 } }], 'any')).rejects.toBeInstanceOf(EventIdConflictError);
      await expect(store.append(stream, [{ ...a, type: 'Other' }], 'any')).rejects.toBeInstanceOf(EventIdConflictError);
      expect(await store.append(stream, [b], 'any')).toMatchObject({ nextExpectedRevision: 1, duplicate: true });
      expect(await store.readStream(stream)).toHaveLength(2);
    });

    it('refuses an empty append', async () => {
      await expect(store.append(newStream(), [], 'any')).rejects.toBeInstanceOf(RangeError);
    });

    it('pages through a stream with fromRevision and maxCount', async () => {
      const stream = newStream();
      await store.append(stream, Array.from({ length: 25 }, (_, n) => event('P', { n })), 'no_stream');
      const pages: number[][] = [];
      for (let from = 0; ; from += 10) {
        const page = await store.readStream(stream, { fromRevision: from, maxCount: 10 });
        if (page.length === 0) break;
        pages.push(page.map((e) => e.revision));
      }
      expect(pages.map((page) => page.length)).toEqual([10, 10, 5]);
      expect(pages.flat()).toEqual(Array.from({ length: 25 }, (_, n) => n));
      expect((await store.readStream(stream, { fromRevision: 24 })).map((e) => e.data)).toEqual([{ n: 24 }]);
    });

    it('reads $all in append order, strictly after `after`, at most `limit` events', async () => {
      const head = (await store.headPosition()) ?? undefined;
      const [s1, s2] = [newStream(), newStream()];
      const appended = [];
      for (let n = 0; n < 6; n++) {
        const stream = n % 2 === 0 ? s1 : s2;
        appended.push(await store.append(stream, [event('O', { n })], n < 2 ? 'no_stream' : 'stream_exists'));
      }
      // `head` can lag behind events of earlier tests (see readAllUntil): keep this test's own.
      const all = await readAllUntil(store, head, 6, (e) => e.streamId === s1 || e.streamId === s2);
      expect(all.map((e) => e.data)).toEqual([0, 1, 2, 3, 4, 5].map((n) => ({ n })));
      expect(all.map((e) => e.position)).toEqual(appended.map((r) => r.position));
      for (let i = 1; i < all.length; i++) expect(comparePositions(all[i - 1]!.position, all[i]!.position)).toBe(-1);
      const afterSecond = await store.readAll({ after: all[1]!.position, limit: 2 });
      expect(afterSecond.map((e) => e.data)).toEqual([{ n: 2 }, { n: 3 }]);
      expect(await store.readAll({ after: all[5]!.position, limit: 10 })).toEqual([]);
    });

    it('keeps $all in numeric position order past 9 -> 10 and 99 -> 100, and pages through it with `after`', async () => {
      const stream = newStream();
      for (let n = 0; n < 110; n += 10) {
        await store.append(stream, Array.from({ length: 10 }, (_, i) => event('N', { n: n + i })), n === 0 ? 'no_stream' : n - 1);
      }
      const whole = await readAllUntil(store, undefined, 110, (e) => e.streamId === stream);
      expect(whole.map((e) => e.revision)).toEqual(Array.from({ length: 110 }, (_, n) => n));
      const paged: RecordedEvent[] = [];
      for (let page = 0; page < 1_000; page++) {
        const next = await store.readAll({ after: paged.at(-1)?.position, limit: 7 });
        if (next.length === 0) break;
        paged.push(...next);
      }
      for (let i = 1; i < paged.length; i++) expect(comparePositions(paged[i - 1]!.position, paged[i]!.position)).toBe(-1);
      expect(paged.filter((e) => e.streamId === stream)).toHaveLength(110);
      const head = await store.headPosition();
      expect(head).toEqual(paged.at(-1)!.position);
    });

    it('reports the head position: the last appended event, once readers may see it', async () => {
      const result = await store.append(newStream(), [event(), event()], 'no_stream');
      const deadline = Date.now() + deliveryTimeoutMs;
      let head = await store.headPosition();
      while (head !== null && comparePositions(head, result.position) < 0 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 10));
        head = await store.headPosition();
      }
      expect(head).toEqual(result.position);
      expect(await store.readAll({ after: head!, limit: 10 })).toEqual([]);
    });

    it('chains each event to its stream predecessor with a hash that can be recomputed', async () => {
      const head = (await store.headPosition()) ?? undefined;
      const stream = newStream();
      await store.append(stream, [event('H', { n: 1.5, s: 'x' })], 'no_stream');
      await store.append(stream, [event('H', { list: [{ b: 1, a: 2 }] }), event('H', {})], 0);
      const read = await store.readStream(stream);
      expect(read[0]!.previousHash).toBeNull();
      read.forEach((recorded, i) => {
        if (i > 0) expect(recorded.previousHash).toBe(read[i - 1]!.hash);
        expect(recorded.hash).toBe(eventHash(recorded, recorded.previousHash));
      });
      const viaAll = await readAllUntil(store, head, 3, (e) => e.streamId === stream);
      for (const recorded of read) {
        expect(viaAll.find((e) => e.eventId === recorded.eventId)).toMatchObject({ hash: recorded.hash, previousHash: recorded.previousHash });
      }
    });

    it('subscribes: catches up from a position, then delivers live events in order', async () => {
      const head = (await store.headPosition()) ?? undefined;
      const stream = newStream();
      await store.append(stream, [event('S', { n: 0 }), event('S', { n: 1 }), event('S', { n: 2 })], 'no_stream');
      const subscription = store.subscribe({ after: head, batchSize: 2 });
      const iterator = subscription[Symbol.asyncIterator]();
      try {
        const ours = (e: RecordedEvent) => e.streamId === stream;
        const caughtUp = await take(subscription, iterator, 3, ours);
        expect(caughtUp.map((e) => e.data)).toEqual([{ n: 0 }, { n: 1 }, { n: 2 }]);
        const live = take(subscription, iterator, 2, ours);
        await store.append(stream, [event('S', { n: 3 })], 2);
        await store.append(stream, [event('S', { n: 4 })], 3);
        expect((await live).map((e) => e.data)).toEqual([{ n: 3 }, { n: 4 }]);
      } finally {
        await subscription.close();
      }
    });

    it('ends a subscription on its close(), a waiting next() included', async () => {
      const subscription = store.subscribe({ after: (await store.headPosition()) ?? undefined });
      const iterator = subscription[Symbol.asyncIterator]();
      const pending = iterator.next();
      await new Promise((resolve) => setTimeout(resolve, 50));
      await subscription.close();
      expect(await pending).toMatchObject({ done: true });
    });

    it('starts empty, and ends open subscriptions and refuses appends once closed', async () => {
      const own = await open();
      try {
        // An EventStoreDB server is shared, never fresh: only the other stores can start empty.
        if (own.store.kind !== 'eventstoredb') {
          expect(await own.store.headPosition()).toBeNull();
          expect(await own.store.readAll({ limit: 10 })).toEqual([]);
        }
        const subscription = own.store.subscribe();
        const pending = subscription[Symbol.asyncIterator]().next();
        await new Promise((resolve) => setTimeout(resolve, 50));
        await own.store.close();
        expect(await pending).toMatchObject({ done: true });
        await expect(own.store.append(newStream(), [event()], 'any')).rejects.toThrow(/closed/);
      } finally {
        await own.done();
      }
    });
  });
}
