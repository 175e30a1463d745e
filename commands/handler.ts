import { v5 as uuidv5 } from 'uuid';
import type { Clock } from '../adapters/clock/clock.js';
import {
  appendEventsMax,
  EventIdConflictError,
  WrongExpectedRevisionError,
  type EventStore,
  type EventToAppend,
  type JsonObject,
  type RecordedEvent,
} from '../adapters/event-store/port.js';
import { eventDefinition, upcast, validateNewEvent } from '../domain/events.js';
import type { Decider } from '../domain/shared/decider.js';
import { streamName, type DomainEvent, type EventMetadata } from '../domain/shared/event.js';
import { invariant } from '../domain/shared/assert.js';
import { checkEnvelope, type CommandEnvelope, type CommandResult } from './envelope.js';

/** Conflicts are rare (one writer per station connection); five tries covers bursts, then we give up loudly. */
export const commandRetryAttemptsMax = 5;
export const commandRetryDelayBaseMs = 5;
export const commandRetryDelayMaxMs = 200;
/** Page size when loading a stream; bounded so one long transaction does not load in one read. */
export const streamReadPageSizeMax = 1_000;
/** A stream longer than this is a bug (or an attack) somewhere: refuse to fold it. */
export const streamEventsMax = 100_000;

/**
 * Streams whose folded state a handler keeps between commands (least recently used first out).
 * Measured (test/bench/ocpp.ts, csms mode, 1,000 stations): every command re-read its whole stream
 * before deciding, one of the ~3 queries per command that made Postgres spend ~1,070 µs of CPU per
 * answered OCPP message against ~150 µs for a bare append. A cached state is only ever used to
 * append with its revision as the expected one, so a stale entry (another node or process wrote)
 * fails that append and is reloaded; refusals and no-op decisions are re-checked on a fresh load.
 */
export const streamStateCacheStreamsMax = 10_000;
/** Command ids remembered across all cached streams (for duplicate detection without a read); ~100 bytes each. */
export const streamStateCacheCommandIdsMax = 500_000;

/** Fixed namespace for deterministic event ids (uuid v5); changing it would break idempotency. */
export const eventIdNamespace = 'a4a3c0de-2f7e-5b8e-9c61-0c5e3f1d7a42';

export interface CommandHandlerOptions {
  readonly retryAttemptsMax?: number;
  /** For tests: replace the backoff wait. */
  readonly sleep?: (ms: number) => Promise<void>;
  readonly random?: () => number;
  /** Streams whose folded state is kept between commands; 0 disables the cache. */
  readonly stateCacheStreamsMax?: number;
}

export interface CommandHandlerDeps {
  readonly eventStore: EventStore;
  readonly clock: Clock;
  readonly streamName?: (aggregateType: string, tenantId: string, id: string) => string;
  readonly options?: CommandHandlerOptions;
}

export type CommandHandler<TCommand extends { readonly type: string }> = (envelope: CommandEnvelope<TCommand>) => Promise<CommandResult>;

/** Deterministic: the same command delivered twice makes the same ids, so the store appends nothing. */
export function eventIdFor(streamId: string, commandId: string, index: number): string {
  return uuidv5(`${streamId}\n${commandId}\n${index}`, eventIdNamespace);
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Handles commands for one aggregate type: load the stream, upcast and fold, decide, append with
 * the revision read. Refusals (IllegalStateError, InvalidCommandError) propagate and append nothing.
 */
export function createCommandHandler<TCommand extends { readonly type: string }, TState, TEvent extends DomainEvent>(
  decider: Decider<TCommand, TState, TEvent>,
  deps: CommandHandlerDeps,
): CommandHandler<TCommand> {
  const { eventStore, clock } = deps;
  const nameOf = deps.streamName ?? streamName;
  const attemptsMax = deps.options?.retryAttemptsMax ?? commandRetryAttemptsMax;
  const sleep = deps.options?.sleep ?? defaultSleep;
  const random = deps.options?.random ?? Math.random;
  invariant(attemptsMax >= 1, 'at least one attempt');
  const cache = new StreamStateCache<TState>(deps.options?.stateCacheStreamsMax ?? streamStateCacheStreamsMax, streamStateCacheCommandIdsMax);

  function evolveRecorded(state: TState, recorded: RecordedEvent): TState {
    const definition = eventDefinition(recorded.type);
    invariant(definition.aggregateType === decider.aggregateType, `${recorded.type} in a ${decider.aggregateType} stream`);
    return decider.evolve(state, upcast(recorded.type, recorded.schemaVersion, recorded.data) as unknown as TEvent);
  }

  async function load(streamId: string, commandId: string) {
    let state = decider.initialState();
    let revision = -1;
    const causedByCommand: RecordedEvent[] = [];
    const commandIds = new Set<string>();
    for (;;) {
      const page = await eventStore.readStream(streamId, { fromRevision: revision + 1, maxCount: streamReadPageSizeMax });
      for (const recorded of page) {
        invariant(recorded.revision === revision + 1, `${streamId}: revision ${recorded.revision} after ${revision}`);
        state = evolveRecorded(state, recorded);
        const causationId = recorded.metadata.causationId;
        if (causationId === commandId) causedByCommand.push(recorded);
        if (typeof causationId === 'string') commandIds.add(causationId);
        revision = recorded.revision;
      }
      if (revision + 1 > streamEventsMax) throw new Error(`${streamId} is longer than ${streamEventsMax} events`);
      if (page.length < streamReadPageSizeMax) {
        cache.set(streamId, { state, revision, commandIds });
        return { state, revision, causedByCommand };
      }
    }
  }

  async function readBack(streamId: string, lastRevision: number, count: number, eventIds: readonly string[]) {
    const events = await eventStore.readStream(streamId, { fromRevision: lastRevision - count + 1, maxCount: count });
    invariant(
      events.length === count && events.every((event, i) => event.eventId === eventIds[i]),
      `${streamId}: appended events not found where the store said`,
    );
    return events;
  }

  function backoffMs(attempt: number): number {
    // Full jitter: competing writers spread out instead of colliding again in step.
    return Math.round(random() * Math.min(commandRetryDelayMaxMs, commandRetryDelayBaseMs * 2 ** attempt));
  }

  return async function handle(envelope: CommandEnvelope<TCommand>): Promise<CommandResult> {
    const { occurredAt } = checkEnvelope(envelope);
    const streamId = nameOf(decider.aggregateType, envelope.tenantId, envelope.aggregateId);
    let lastConflict: Error | undefined;
    for (let attempt = 1; attempt <= attemptsMax; attempt += 1) {
      // A cached state is used only to append (the expected revision proves it current). A command
      // id the stream already holds, a refusal, or "nothing to do" is decided again on a fresh read.
      const cached = cache.get(streamId);
      let fromCache = cached !== undefined && !cached.commandIds.has(envelope.commandId);
      let decided: TEvent[] | undefined;
      if (fromCache) {
        try {
          decided = decider.decide(envelope.command, cached!.state);
        } catch {
          decided = undefined;
        }
        if (decided === undefined || decided.length === 0) fromCache = false;
      }
      const { state, revision, causedByCommand } = fromCache ? { state: cached!.state, revision: cached!.revision, causedByCommand: [] } : await load(streamId, envelope.commandId);
      if (causedByCommand.length > 0) {
        // Handled before: answer as then, without deciding again (the state has moved on since).
        return { streamId, events: causedByCommand, nextExpectedRevision: revision, position: causedByCommand.at(-1)!.position, duplicate: true };
      }
      // A command that produced no events leaves no trace, so its retry decides again: harmless,
      // since deciding appends nothing unless the state changed in between.
      if (!fromCache) decided = decider.decide(envelope.command, state);
      decided = decided!;
      if (decided.length === 0) {
        return { streamId, events: [], nextExpectedRevision: revision === -1 ? 'no_stream' : revision, position: null, duplicate: false };
      }
      invariant(decided.length <= appendEventsMax, `${envelope.command.type} decided ${decided.length} events`);
      const metadata: EventMetadata = {
        tenantId: envelope.tenantId,
        correlationId: envelope.correlationId,
        causationId: envelope.commandId,
        actor: envelope.actor,
        occurredAt,
        recordedAt: clock.now().toISOString(),
      };
      const toAppend: EventToAppend[] = decided.map((event, index) => {
        validateNewEvent(event);
        return {
          eventId: eventIdFor(streamId, envelope.commandId, index),
          type: event.type,
          schemaVersion: event.schemaVersion,
          data: event.data as JsonObject,
          metadata,
        };
      });
      try {
        const result = await eventStore.append(streamId, toAppend, revision === -1 ? 'no_stream' : revision);
        const ids = toAppend.map((event) => event.eventId);
        const events = await readBack(streamId, result.nextExpectedRevision, toAppend.length, ids);
        // Fold what the store holds (not `decided`): the next command sees exactly what a reload would.
        if (!result.duplicate && events[0]!.revision === revision + 1) {
          let next = state;
          for (const recorded of events) next = evolveRecorded(next, recorded);
          // The ids of the state we decided on (kept by load() or the last append), plus this command's;
          // extended in place, not copied: a copy per command would cost the stream's length each time.
          const previous = cache.get(streamId);
          cache.delete(streamId);
          if (previous !== undefined && previous.revision === revision) {
            previous.commandIds.add(envelope.commandId);
            cache.set(streamId, { state: next, revision: result.nextExpectedRevision, commandIds: previous.commandIds });
          }
        } else cache.delete(streamId);
        return { streamId, events, nextExpectedRevision: result.nextExpectedRevision, position: result.position, duplicate: result.duplicate };
      } catch (error) {
        cache.delete(streamId);
        // Someone appended first (another node, or the same command racing itself): reload and decide again.
        if (!(error instanceof WrongExpectedRevisionError || error instanceof EventIdConflictError)) throw error;
        lastConflict = error;
        if (attempt < attemptsMax) await sleep(backoffMs(attempt));
      }
    }
    throw lastConflict!;
  };
}

interface CachedStream<TState> {
  readonly state: TState;
  readonly revision: number;
  /** Causation ids of the stream's events: a command seen before takes the reload path (its duplicate answer). */
  readonly commandIds: Set<string>;
}

/** A bounded LRU (Map order is insertion order; a hit re-inserts) of folded stream states. */
class StreamStateCache<TState> {
  private readonly entries = new Map<string, CachedStream<TState>>();
  private commandIdCount = 0;

  constructor(
    private readonly streamsMax: number,
    private readonly commandIdsMax: number,
  ) {}

  get(streamId: string): CachedStream<TState> | undefined {
    const entry = this.entries.get(streamId);
    if (entry === undefined) return undefined;
    this.entries.delete(streamId);
    this.entries.set(streamId, entry);
    return entry;
  }

  set(streamId: string, entry: CachedStream<TState>): void {
    this.delete(streamId);
    if (this.streamsMax <= 0 || entry.commandIds.size > this.commandIdsMax) return;
    this.entries.set(streamId, entry);
    this.commandIdCount += entry.commandIds.size;
    while (this.entries.size > this.streamsMax || this.commandIdCount > this.commandIdsMax) {
      this.delete(this.entries.keys().next().value as string);
    }
  }

  delete(streamId: string): void {
    const entry = this.entries.get(streamId);
    if (entry === undefined) return;
    this.entries.delete(streamId);
    this.commandIdCount -= entry.commandIds.size;
  }
}
