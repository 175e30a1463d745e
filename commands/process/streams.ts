import type { EventStore, RecordedEvent } from '../../adapters/event-store/port.js';
import { upcast, type AnyDomainEvent } from '../../domain/events.js';
import { fold, type Decider } from '../../domain/shared/decider.js';
import type { DomainEvent } from '../../domain/shared/event.js';
import { streamEventsMax, streamReadPageSizeMax } from '../handler.js';

/** A stream's events at their current schema version, paged, bounded like the command handler's load. */
export async function readStreamEvents(store: EventStore, streamId: string): Promise<{ event: AnyDomainEvent; recorded: RecordedEvent }[]> {
  const events: { event: AnyDomainEvent; recorded: RecordedEvent }[] = [];
  for (let from = 0; ; ) {
    const page = await store.readStream(streamId, { fromRevision: from, maxCount: streamReadPageSizeMax });
    for (const recorded of page) events.push({ event: upcast(recorded.type, recorded.schemaVersion, recorded.data), recorded });
    if (events.length > streamEventsMax) throw new Error(`${streamId} is longer than ${streamEventsMax} events`);
    if (page.length < streamReadPageSizeMax) return events;
    from += page.length;
  }
}

/** Folds a stream with its decider: what a command handler would see (process managers are command-side). */
export async function loadState<C, S, E extends DomainEvent>(store: EventStore, decider: Decider<C, S, E>, streamId: string): Promise<S> {
  const events = await readStreamEvents(store, streamId);
  return fold(decider, events.map(({ event }) => event as unknown as E));
}

/**
 * Folds a stream page by page without keeping its events, bounded like the command handler's load
 * (`streamEventsMax`, the longest stream a command may append to): every stream a command could
 * write can be read back. `last`: the newest event (its time), null for no stream. Command-side reads only.
 */
export async function foldStream<C, S, E extends DomainEvent>(
  store: Pick<EventStore, 'readStream'>,
  decider: Decider<C, S, E>,
  streamId: string,
): Promise<{ state: S; last: RecordedEvent | null }> {
  let state = decider.initialState();
  let last: RecordedEvent | null = null;
  for (let from = 0; ; ) {
    const page = await store.readStream(streamId, { fromRevision: from, maxCount: streamReadPageSizeMax });
    for (const recorded of page) state = decider.evolve(state, upcast(recorded.type, recorded.schemaVersion, recorded.data) as unknown as E);
    last = page.at(-1) ?? last;
    from += page.length;
    if (from > streamEventsMax) throw new Error(`${streamId} is longer than ${streamEventsMax} events`);
    if (page.length < streamReadPageSizeMax) return { state, last };
  }
}
