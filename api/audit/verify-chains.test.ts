import { describe, expect, it } from 'vitest';
import { openMemoryEventStore } from '../../adapters/event-store/memory.js';
import type { EventStore, EventToAppend, RecordedEvent } from '../../adapters/event-store/port.js';
import { verifyChains } from './verify-chains.js';

function event(n: number, data: Record<string, string | number> = { n }): EventToAppend {
  return {
    eventId: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
    type: 'StationHeartbeatRecorded',
    schemaVersion: 1,
    data,
    metadata: {
      tenantId: 'default',
      correlationId: `c-${n}`,
      causationId: `c-${n}`,
      actor: 'station:CP-1',
      occurredAt: '2025-01-01T00:00:00.000Z',
      recordedAt: '2025-01-01T00:00:00.000Z',
    },
  };
}

/** Three streams, interleaved in the global order: a-0, b-0, a-1, c-0, b-1, a-2, ... */
async function storeWithStreams(eventsPerStream: number): Promise<EventStore> {
  const store = openMemoryEventStore();
  let n = 0;
  for (let revision = 0; revision < eventsPerStream; revision++) {
    for (const stream of ['station-default-a', 'station-default-b', 'station-default-c']) {
      await store.append(stream, [event(n++)], revision === 0 ? 'no_stream' : revision - 1);
    }
  }
  return store;
}

/** The same store as read back after someone edited it underneath: `edit` rewrites what readAll returns. */
function tampered(store: EventStore, edit: (events: RecordedEvent[]) => RecordedEvent[]): EventStore {
  return {
    ...store,
    async readAll(options) {
      const everything = edit(await store.readAll({ limit: 10_000 }));
      const start = options.after === undefined ? 0 : everything.findIndex((e) => e.position === options.after) + 1;
      return everything.slice(start, start + options.limit);
    },
  };
}

describe('verifyChains', () => {
  it('passes a store whose chains are intact, counting events and streams, across pages', async () => {
    const store = await storeWithStreams(7);
    const progress: number[] = [];
    const result = await verifyChains(store, { pageSizeEvents: 4, onProgress: (n) => progress.push(n) });
    expect(result).toEqual({ ok: true, events: 21, streams: 3 });
    expect(progress.at(-1)).toBe(21);
  });

  it('passes an empty store', async () => {
    expect(await verifyChains(openMemoryEventStore())).toEqual({ ok: true, events: 0, streams: 0 });
  });

  it('names the first event whose data was altered', async () => {
    const store = await storeWithStreams(5);
    const target = (await store.readStream('station-default-b'))[2]!;
    const result = await verifyChains(
      tampered(store, (all) => all.map((e) => (e.eventId === target.eventId ? { ...e, data: { n: 999 } } : e))),
      { pageSizeEvents: 2 },
    );
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problem).toMatchObject({ streamId: 'station-default-b', revision: 2, eventId: target.eventId });
    expect(result.problem.reason).toMatch(/altered/);
    expect(result.events).toBe(7); // everything before it in the global order checked fine
  });

  it('catches altered metadata too', async () => {
    const store = await storeWithStreams(2);
    const result = await verifyChains(
      tampered(store, (all) => all.map((e, i) => (i === 4 ? { ...e, metadata: { ...e.metadata, actor: 'user:mallory' } } : e))),
    );
    expect(result.ok).toBe(false);
  });

  it('catches an event removed from the middle of a stream', async () => {
    const store = await storeWithStreams(4);
    const removed = (await store.readStream('station-default-a'))[1]!;
    const result = await verifyChains(tampered(store, (all) => all.filter((e) => e.eventId !== removed.eventId)));
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problem).toMatchObject({ streamId: 'station-default-a', revision: 2 });
    expect(result.problem.reason).toMatch(/missing/);
  });

  it('catches a removed first event of a stream', async () => {
    const store = await storeWithStreams(2);
    const first = (await store.readStream('station-default-c'))[0]!;
    const result = await verifyChains(tampered(store, (all) => all.filter((e) => e.eventId !== first.eventId)));
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.problem.reason).toMatch(/starts at revision 1/);
  });

  it('catches a re-hashed event whose predecessor link no longer holds', async () => {
    const store = await storeWithStreams(3);
    const target = (await store.readStream('station-default-a'))[1]!;
    // A forger who recomputes the hash of an edited event must also fake previousHash on the next one.
    const result = await verifyChains(
      tampered(store, (all) => all.map((e) => (e.eventId === target.eventId ? { ...e, previousHash: 'f'.repeat(64) } : e))),
    );
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.problem).toMatchObject({ eventId: target.eventId, reason: expect.stringMatching(/does not link/) });
  });

  it('catches a broken global order', async () => {
    const store = await storeWithStreams(2);
    const result = await verifyChains(tampered(store, (all) => [all[1]!, all[0]!, ...all.slice(2)]));
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.problem.reason).toMatch(/global order/);
  });
});
