import { describe, expect, it } from 'vitest';
import { fixedClock } from '../adapters/clock/clock.js';
import { openMemoryEventStore } from '../adapters/event-store/memory.js';
import type { EventStore } from '../adapters/event-store/port.js';
import { IllegalStateError } from '../domain/shared/errors.js';
import { stationDecider, type StationCommand } from '../domain/station/index.js';
import type { CommandEnvelope } from './envelope.js';
import { createCommandHandler } from './handler.js';

/** The handler's bounded cache of folded stream states (handler.ts, streamStateCacheStreamsMax). */

const clock = fixedClock('2025-03-01T12:00:00.000Z');
let counter = 0;
function envelope(command: StationCommand, commandId = `cache-cmd-${(counter += 1)}`): CommandEnvelope<StationCommand> {
  return { commandId, tenantId: 't1', aggregateId: 'CP-1', actor: 'test', correlationId: commandId, occurredAt: '2025-03-01T12:00:00Z', command };
}
const register = { type: 'RegisterStation', stationId: 'CP-1', securityProfile: 1, passwordHash: 'h' } as const;
const configuration = (key: string) => ({ type: 'RecordConfiguration', entries: [{ key, value: '1' }] }) as const;
const noSleep = { sleep: async () => {}, random: () => 0.5 };

function countingReads(inner: EventStore) {
  let reads = 0;
  const store: EventStore = {
    ...inner,
    readStream(streamId, options) {
      reads += 1;
      return inner.readStream(streamId, options);
    },
  };
  return { store, reads: () => reads };
}

describe('command handler state cache', () => {
  it('decides the next command on the cached state: one read (the read-back) instead of two', async () => {
    const { store, reads } = countingReads(openMemoryEventStore());
    const handle = createCommandHandler(stationDecider, { eventStore: store, clock, options: noSleep });
    await handle(envelope(register));
    const before = reads();
    const result = await handle(envelope(configuration('A')));
    expect(reads() - before).toBe(1);
    expect(result.events[0]!.revision).toBe(1);
  });

  it('a stale entry (another node appended) fails the append with its revision, then reloads and decides again', async () => {
    const inner = openMemoryEventStore();
    const here = createCommandHandler(stationDecider, { eventStore: inner, clock, options: noSleep });
    const otherNode = createCommandHandler(stationDecider, { eventStore: inner, clock, options: noSleep });
    await here(envelope(register));
    await otherNode(envelope(configuration('Other')));
    const result = await here(envelope(configuration('Mine')));
    expect(result.events[0]!.revision).toBe(2);
    const stream = await inner.readStream('station-t1-CP-1');
    expect(stream.map((event) => event.type)).toEqual(['StationRegistered', 'StationConfigurationChanged', 'StationConfigurationChanged']);
  });

  it('a command seen before is answered from the store as a duplicate, not decided again on the cached state', async () => {
    const handle = createCommandHandler(stationDecider, { eventStore: openMemoryEventStore(), clock, options: noSleep });
    await handle(envelope(register));
    const first = await handle(envelope(configuration('A'), 'same-command'));
    await handle(envelope(configuration('B')));
    const again = await handle(envelope(configuration('A'), 'same-command'));
    expect(again.duplicate).toBe(true);
    expect(again.events).toEqual(first.events);
  });

  it('a refusal or a no-op on a stale cached state is decided again on a fresh read', async () => {
    const inner = openMemoryEventStore();
    const here = createCommandHandler(stationDecider, { eventStore: inner, clock, options: noSleep });
    const otherNode = createCommandHandler(stationDecider, { eventStore: inner, clock, options: noSleep });
    // Cached here: no stream yet (a refused ChangeStationSecurity loads and caches the empty state).
    const change = { type: 'ChangeStationSecurity', securityProfile: 1, passwordHash: 'h' } as const;
    await expect(here(envelope(change))).rejects.toBeInstanceOf(IllegalStateError);
    await otherNode(envelope(register));
    // On the cached (empty) state this would be refused; the fresh state says "same security": no-op.
    const result = await here(envelope(change));
    expect(result.events).toEqual([]);
    expect(result.nextExpectedRevision).toBe(0);
  });

  it('with the cache disabled every command reads its stream again', async () => {
    const { store, reads } = countingReads(openMemoryEventStore());
    const handle = createCommandHandler(stationDecider, { eventStore: store, clock, options: { ...noSleep, stateCacheStreamsMax: 0 } });
    await handle(envelope(register));
    const before = reads();
    await handle(envelope(configuration('A')));
    expect(reads() - before).toBe(2);
  });
});
