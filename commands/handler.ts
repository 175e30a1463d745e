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

/** Fixed namespace for deterministic event ids (uuid v5); changing it would break idempotency. */
export const eventIdNamespace = 'a4a3c0de-2f7e-5b8e-9c61-0c5e3f1d7a42';

export interface CommandHandlerOptions {
  readonly retryAttemptsMax?: number;
  /** For tests: replace the backoff wait. */
  readonly sleep?: (ms: number) => Promise<void>;
  readonly random?: () => number;
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

  async function load(streamId: string, commandId: string) {
    let state = decider.initialState();
    let revision = -1;
    const causedByCommand: RecordedEvent[] = [];
    for (;;) {
      const page = await eventStore.readStream(streamId, { fromRevision: revision + 1, maxCount: streamReadPageSizeMax });
      for (const recorded of page) {
        invariant(recorded.revision === revision + 1, `${streamId}: revision ${recorded.revision} after ${revision}`);
        const definition = eventDefinition(recorded.type);
        invariant(definition.aggregateType === decider.aggregateType, `${recorded.type} in a ${decider.aggregateType} stream`);
        state = decider.evolve(state, upcast(recorded.type, recorded.schemaVersion, recorded.data) as unknown as TEvent);
        if (recorded.metadata.causationId === commandId) causedByCommand.push(recorded);
        revision = recorded.revision;
      }
      if (revision + 1 > streamEventsMax) throw new Error(`${streamId} is longer than ${streamEventsMax} events`);
      if (page.length < streamReadPageSizeMax) return { state, revision, causedByCommand };
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
      const { state, revision, causedByCommand } = await load(streamId, envelope.commandId);
      if (causedByCommand.length > 0) {
        // Handled before: answer as then, without deciding again (the state has moved on since).
        return { streamId, events: causedByCommand, nextExpectedRevision: revision, position: causedByCommand.at(-1)!.position, duplicate: true };
      }
      // A command that produced no events leaves no trace, so its retry decides again: harmless,
      // since deciding appends nothing unless the state changed in between.
      const decided = decider.decide(envelope.command, state);
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
        return { streamId, events, nextExpectedRevision: result.nextExpectedRevision, position: result.position, duplicate: result.duplicate };
      } catch (error) {
        // Someone appended first (another node, or the same command racing itself): reload and decide again.
        if (!(error instanceof WrongExpectedRevisionError || error instanceof EventIdConflictError)) throw error;
        lastConflict = error;
        if (attempt < attemptsMax) await sleep(backoffMs(attempt));
      }
    }
    throw lastConflict!;
  };
}
