import { comparePositions, type EventStore, type Position } from './port.js';

/** How often to look again while an appended event is not yet visible to readers of $all. */
export const visibilityPollIntervalMs = 10;
export const visibilityWaitMsDefault = 10_000;

/**
 * Resolves once readers of $all can see `position` (the Postgres store shows an event only after
 * every older transaction in the cluster has finished; see postgres-sql.ts). For read-your-writes
 * after an append: a caller that appended and then waits on projections must first know the
 * projections can see the event at all. Throws after `timeoutMs`.
 */
export async function waitUntilVisible(store: EventStore, position: Position, timeoutMs = visibilityWaitMsDefault): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const head = await store.headPosition();
    if (head !== null && comparePositions(head, position) >= 0) return;
    if (Date.now() >= deadline) {
      throw new Error(`event at ${position.commit}/${position.prepare} not visible to $all readers after ${timeoutMs} ms`);
    }
    await new Promise((resolve) => setTimeout(resolve, visibilityPollIntervalMs));
  }
}
