import type { Command } from 'commander';
import { comparePositions, positionToString, readAllLimitMax, type EventStore, type Position, type RecordedEvent } from '../../adapters/event-store/port.js';
import { parseCount, reportError, withServices, type CliContext } from './run.js';

/**
 * `csms events tail`: the last events, as JSON lines, optionally following new ones.
 * The store reads forward only, so the last N come from one forward pass that keeps just N
 * (memory bounded by --limit, time by the number of events).
 */

export const eventsTailLimitDefault = 20;
export const eventsTailLimitMax = 10_000;
/** Events per round trip while looking for the last N. */
export const eventsTailPageSize = 1_000;

export function eventLine(event: RecordedEvent): string {
  return JSON.stringify({
    position: positionToString(event.position),
    stream: event.streamId,
    revision: event.revision,
    type: event.type,
    occurredAt: event.metadata.occurredAt,
    data: event.data,
  });
}

/** Keeps the last `limit` items pushed in a ring (O(1) per push); older ones are overwritten. */
function lastN<T>(limit: number) {
  const ring: T[] = [];
  let pushed = 0;
  return {
    push(item: T) {
      ring[pushed % limit] = item;
      pushed += 1;
    },
    get items(): T[] {
      if (pushed <= limit) return ring.slice(0, pushed);
      const start = pushed % limit;
      return [...ring.slice(start), ...ring.slice(0, start)];
    },
  };
}

async function lastEventsOfAll(store: EventStore, limit: number): Promise<RecordedEvent[]> {
  const kept = lastN<RecordedEvent>(limit);
  let after: Position | undefined;
  for (;;) {
    const page = await store.readAll({ after, limit: Math.min(eventsTailPageSize, readAllLimitMax) });
    if (page.length === 0) return kept.items;
    for (const event of page) kept.push(event);
    after = page.at(-1)!.position;
  }
}

async function lastEventsOfStream(store: EventStore, stream: string, limit: number): Promise<RecordedEvent[]> {
  const kept = lastN<RecordedEvent>(limit);
  let fromRevision = 0;
  for (;;) {
    const page = await store.readStream(stream, { fromRevision, maxCount: eventsTailPageSize });
    if (page.length === 0) return kept.items;
    for (const event of page) kept.push(event);
    fromRevision = page.at(-1)!.revision + 1;
  }
}

/** Resolves on the first SIGINT/SIGTERM: how `--follow` ends. */
function untilInterrupted(): { done: Promise<void>; dispose(): void } {
  let onSignal = () => {};
  const done = new Promise<void>((resolve) => {
    onSignal = () => resolve();
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  });
  return {
    done,
    dispose() {
      process.removeListener('SIGINT', onSignal);
      process.removeListener('SIGTERM', onSignal);
    },
  };
}

async function follow(context: CliContext, store: EventStore, after: Position | null, stream: string | undefined): Promise<void> {
  const subscription = store.subscribe(after === null ? {} : { after });
  const interrupted = untilInterrupted();
  void interrupted.done.then(() => subscription.close());
  try {
    for await (const event of subscription) {
      if (stream === undefined || event.streamId === stream) context.out(eventLine(event));
    }
  } finally {
    interrupted.dispose();
    await subscription.close();
  }
}

export function registerEventsCommands(program: Command, context: CliContext): void {
  const events = program.command('events').description('read the event store');
  events
    .command('tail')
    .description('print the last events as JSON lines (position, stream, revision, type, occurredAt, data)')
    .option('--stream <stream>', 'only this stream, e.g. station-default-CP-1')
    .option('--limit <n>', `how many of the last events (1 to ${eventsTailLimitMax})`, parseCount('--limit', eventsTailLimitMax), eventsTailLimitDefault)
    .option('--follow', 'keep printing new events until interrupted (Ctrl-C)')
    .action(async (options: { stream?: string; limit: number; follow?: boolean }) => {
      try {
        await withServices(context, 'events tail', async (services) => {
          const store = services.eventStore;
          // Note the head first: anything appended while we read is then printed by --follow, not lost.
          const head = await store.headPosition();
          const last =
            options.stream === undefined
              ? await lastEventsOfAll(store, options.limit)
              : await lastEventsOfStream(store, options.stream, options.limit);
          for (const event of last) context.out(eventLine(event));
          if (options.follow) {
            // Continue after whichever is later: the head we noted or the last event printed.
            const lastPrinted = last.at(-1)?.position ?? null;
            const after = lastPrinted !== null && (head === null || comparePositions(lastPrinted, head) > 0) ? lastPrinted : head;
            await follow(context, store, after, options.stream);
          }
        });
      } catch (error) {
        reportError(context, error);
      }
    });
}
