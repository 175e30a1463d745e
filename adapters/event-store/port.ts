import type { EventMetadata } from '../../domain/shared/event.js';

/**
 * The event store contract (docs/design.md, "Event store contract"). Every implementation
 * (Postgres/PGlite, EventStoreDB, in-memory) passes the same suite: test/contract/event-store.contract.ts.
 */

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

/**
 * A place in the global order ($all). Two bigints, as EventStoreDB has them: for Postgres `commit`
 * is the appending transaction's xid8 and `prepare` the row's sequence number, so ordering by
 * (commit, prepare) is commit order, which is what lets readers never skip a late commit.
 * Compare with `comparePositions`; store as text with `positionToString`.
 */
export interface Position {
  readonly commit: bigint;
  readonly prepare: bigint;
}

/** Exact revision (0-based, of the stream's last event), or a stream-level condition. */
export type ExpectedRevision = number | 'no_stream' | 'stream_exists' | 'any';

export interface EventToAppend {
  /** UUID. Deterministic where the input can arrive twice, so a retry appends nothing. */
  readonly eventId: string;
  readonly type: string;
  readonly schemaVersion: number;
  readonly data: JsonObject;
  readonly metadata: EventMetadata;
}

export interface RecordedEvent extends EventToAppend {
  readonly streamId: string;
  /** 0-based index of the event in its stream. */
  readonly revision: number;
  readonly position: Position;
  /** Hash of the stream predecessor; null for the first event of a stream. */
  readonly previousHash: string | null;
  /** Hash of this event's content chained to `previousHash` (see hash.ts). */
  readonly hash: string;
}

export interface AppendResult {
  readonly streamId: string;
  /** Revision of the last event now in the stream from this append: pass it as the next expected revision. */
  readonly nextExpectedRevision: number;
  /** Position of the last event of this append. */
  readonly position: Position;
  /** True when every event id was already in the stream: nothing was appended (a retry). */
  readonly duplicate: boolean;
}

export interface ReadStreamOptions {
  readonly fromRevision?: number;
  /** Bounded: callers page through long streams. Default `readStreamMaxCountDefault`. */
  readonly maxCount?: number;
}

export interface ReadAllOptions {
  /** Exclusive: events strictly after this position. Omit to read from the start. */
  readonly after?: Position;
  readonly limit: number;
}

export interface SubscribeOptions {
  readonly after?: Position;
  /** Events fetched per round trip while catching up. */
  readonly batchSize?: number;
}

/** A catch-up subscription to $all: yields every event after `after` in order, then live ones. */
export interface AllSubscription extends AsyncIterable<RecordedEvent> {
  /** Ends the iteration; pending `next()` calls resolve with `done`. */
  close(): Promise<void>;
}

export interface EventStore {
  readonly kind: 'postgres' | 'pglite' | 'eventstoredb' | 'memory';
  append(streamId: string, events: readonly EventToAppend[], expectedRevision: ExpectedRevision): Promise<AppendResult>;
  readStream(streamId: string, options?: ReadStreamOptions): Promise<RecordedEvent[]>;
  readAll(options: ReadAllOptions): Promise<RecordedEvent[]>;
  subscribe(options?: SubscribeOptions): AllSubscription;
  /** Position of the newest event a reader may see now, or null when the store is empty. */
  headPosition(): Promise<Position | null>;
  close(): Promise<void>;
}

export const readStreamMaxCountDefault = 10_000;
export const readAllLimitMax = 10_000;
export const appendEventsMax = 1_000;

/** Someone else appended to the stream first: reload and decide again. */
export class WrongExpectedRevisionError extends Error {
  override readonly name = 'WrongExpectedRevisionError';
  constructor(
    readonly streamId: string,
    readonly expected: ExpectedRevision,
    /** Revision of the stream's last event, or -1 when the stream does not exist. */
    readonly actual: number,
  ) {
    super(`wrong expected revision on ${streamId}: expected ${String(expected)}, stream is at ${actual}`);
  }
}

/** Some but not all of an append's event ids are already in the stream, or one id is reused for different content. */
export class EventIdConflictError extends Error {
  override readonly name = 'EventIdConflictError';
  constructor(
    readonly streamId: string,
    readonly eventId: string,
  ) {
    super(`event id ${eventId} is already in ${streamId} with other neighbours or content: not a plain retry`);
  }
}

export function comparePositions(a: Position, b: Position): -1 | 0 | 1 {
  if (a.commit !== b.commit) return a.commit < b.commit ? -1 : 1;
  if (a.prepare !== b.prepare) return a.prepare < b.prepare ? -1 : 1;
  return 0;
}

export function positionToString(position: Position): string {
  return `${position.commit}/${position.prepare}`;
}

export function parsePosition(text: string): Position {
  const match = /^(\d+)\/(\d+)$/.exec(text);
  if (!match) throw new Error(`not a position (expected "commit/prepare"): ${text}`);
  return { commit: BigInt(match[1]!), prepare: BigInt(match[2]!) };
}

/** Last revision a stream must have for `expected` to hold, given it is now at `actual` (-1: no stream). */
export function expectedRevisionHolds(expected: ExpectedRevision, actual: number): boolean {
  switch (expected) {
    case 'any':
      return true;
    case 'no_stream':
      return actual === -1;
    case 'stream_exists':
      return actual >= 0;
    default:
      return expected === actual;
  }
}
