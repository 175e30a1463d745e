import type { AllSubscription, Position, RecordedEvent } from './port.js';

export const subscriptionBatchSizeDefault = 500;
/**
 * Longest wait before reading again without a wake-up: a notification sent between our empty
 * read and our starting to wait would otherwise be missed until the next one.
 */
export const subscriptionIdleReadIntervalMs = 1_000;

export interface PollingSource {
  readonly after: Position | undefined;
  readonly batchSize: number | undefined;
  /** Reads up to `limit` events after `after` (exclusive), in global order. */
  read(after: Position | undefined, limit: number): Promise<RecordedEvent[]>;
  /** Resolves when more events may be there (a notification, a timer) or when `signal` aborts. */
  waitForMore(signal: AbortSignal): Promise<void>;
}

/**
 * A catch-up subscription built from "read a batch after my position" plus "wait until there may
 * be more". Used by stores without server-side subscriptions (memory, Postgres); the batch is the
 * only buffer, so a slow consumer never makes it grow.
 */
export function subscriptionFromPolling(source: PollingSource): AllSubscription {
  const batchSize = source.batchSize ?? subscriptionBatchSizeDefault;
  const stop = new AbortController();
  let position = source.after;

  async function waitForMoreOrTimeout(): Promise<void> {
    const wait = new AbortController();
    const onStop = () => wait.abort();
    stop.signal.addEventListener('abort', onStop, { once: true });
    const timer = setTimeout(() => wait.abort(), subscriptionIdleReadIntervalMs);
    try {
      await source.waitForMore(wait.signal);
    } finally {
      clearTimeout(timer);
      stop.signal.removeEventListener('abort', onStop);
    }
  }

  async function* iterate(): AsyncGenerator<RecordedEvent> {
    while (!stop.signal.aborted) {
      const batch = await source.read(position, batchSize);
      if (batch.length === 0) {
        await waitForMoreOrTimeout();
        continue;
      }
      for (const event of batch) {
        if (stop.signal.aborted) return;
        position = event.position;
        yield event;
      }
    }
  }

  const iterator = iterate();
  return {
    [Symbol.asyncIterator]: () => iterator,
    async close(): Promise<void> {
      stop.abort();
      await iterator.return(undefined);
    },
  };
}
