import { eventHash } from '../../adapters/event-store/hash.js';
import { comparePositions, positionToString, type EventStore, type Position, type RecordedEvent } from '../../adapters/event-store/port.js';

/**
 * Proves no stored event was altered or removed (docs/design.md, "Events"): walks $all in global
 * order, page by page, and for every event checks that
 *  - its revision follows the previous event of its stream (0 for the first): nothing removed
 *    or reordered inside the stream;
 *  - its previousHash is the stored hash of that previous event: the chain links;
 *  - eventHash(event, previousHash) equals its stored hash: its content is what was appended;
 *  - its position is after the previous one: the global order holds.
 * Stops at the FIRST bad event, since everything after it in that stream is suspect anyway.
 *
 * Limit: removing the last events of a stream leaves a valid, shorter chain; catching that needs
 * an anchor outside the store (a published head hash), which is a later issue.
 */

/** Events per readAll round trip: big enough to amortise the query, small enough to bound memory. */
export const auditPageSizeEvents = 1_000;

export interface ChainProblem {
  readonly streamId: string;
  readonly revision: number;
  readonly eventId: string;
  readonly position: string;
  readonly reason: string;
}

export type ChainVerification =
  | { readonly ok: true; readonly events: number; readonly streams: number }
  | { readonly ok: false; readonly events: number; readonly streams: number; readonly problem: ChainProblem };

export interface VerifyChainsOptions {
  readonly pageSizeEvents?: number;
  /** Called after each page with the number of events checked so far. */
  readonly onProgress?: (eventsChecked: number) => void;
}

/** What the walk keeps per stream: the one predecessor the next event must link to. */
interface StreamTip {
  readonly revision: number;
  readonly hash: string;
}

/** Checks one event against its stream's tip; returns what is wrong, or null. */
export function checkEvent(event: RecordedEvent, tip: StreamTip | undefined): string | null {
  const expectedRevision = tip === undefined ? 0 : tip.revision + 1;
  if (event.revision !== expectedRevision) {
    return tip === undefined
      ? `stream starts at revision ${event.revision}, not 0: earlier events are missing`
      : `revision ${event.revision} follows revision ${tip.revision}: expected ${expectedRevision} (an event is missing or out of order)`;
  }
  const expectedPrevious = tip?.hash ?? null;
  if (event.previousHash !== expectedPrevious) {
    return `previousHash ${String(event.previousHash)} does not link to the stream's previous event (hash ${String(expectedPrevious)})`;
  }
  const recomputed = eventHash(event, event.previousHash);
  if (recomputed !== event.hash) {
    return `content does not match its hash: stored ${event.hash}, recomputed ${recomputed} (the event was altered)`;
  }
  return null;
}

export async function verifyChains(eventStore: EventStore, options: VerifyChainsOptions = {}): Promise<ChainVerification> {
  const pageSize = options.pageSizeEvents ?? auditPageSizeEvents;
  if (!Number.isInteger(pageSize) || pageSize < 1) throw new RangeError(`page size must be a positive integer, got ${pageSize}`);
  // One small entry per stream: memory grows with the number of streams, not events.
  const tips = new Map<string, StreamTip>();
  let events = 0;
  let after: Position | undefined;
  for (;;) {
    const page = await eventStore.readAll({ after, limit: pageSize });
    for (const event of page) {
      const problem =
        after !== undefined && comparePositions(event.position, after) <= 0
          ? `position ${positionToString(event.position)} is not after the previous event's ${positionToString(after)}: the global order is broken`
          : checkEvent(event, tips.get(event.streamId));
      if (problem !== null) {
        return {
          ok: false,
          events,
          streams: tips.size,
          problem: {
            streamId: event.streamId,
            revision: event.revision,
            eventId: event.eventId,
            position: positionToString(event.position),
            reason: problem,
          },
        };
      }
      tips.set(event.streamId, { revision: event.revision, hash: event.hash });
      after = event.position;
      events += 1;
    }
    // A short page is not the end: a store may return fewer than asked (its own cap, or events
    // not yet visible). Only an empty page is.
    if (page.length === 0) return { ok: true, events, streams: tips.size };
    options.onProgress?.(events);
  }
}
