import { quoteIdentifier, type SqlExecutor } from '../sql/port.js';
import type { EventMetadata } from '../../domain/shared/event.js';
import type { JsonObject, Position, RecordedEvent } from './port.js';

/**
 * The SQL of the Postgres event store, for one schema (migrations/eventstore/001_events.sql).
 * Values cross as JSON text ($n::jsonb, jsonb_to_recordset) rather than array parameters, so the
 * same statements run unchanged on `pg` and on PGlite.
 */

/** A stream as an append finds it: its head and which of the append's event ids it already holds. */
export interface StreamState {
  /** Revision of the last event, -1 when the stream does not exist. */
  revision: number;
  hash: string | null;
  readonly known: Map<string, KnownEvent>;
}

export interface KnownEvent {
  readonly revision: number;
  /** canonical JSON of {type, schemaVersion, data}: what a retry must repeat exactly. A function: only retries need it. */
  readonly content: () => string;
  /** Set once the row is in the table (immediately for rows read back). */
  position: Position | undefined;
}

/** One row to insert, hash already chained to its predecessor. */
export interface PlannedRow {
  readonly streamId: string;
  readonly revision: number;
  readonly eventId: string;
  readonly type: string;
  readonly schemaVersion: number;
  readonly data: JsonObject;
  readonly metadata: EventMetadata;
  readonly previousHash: string | null;
  readonly hash: string;
}

interface EventRow {
  seq: string;
  transaction_id: string;
  stream_id: string;
  revision: number;
  event_id: string;
  type: string;
  schema_version: number;
  data: JsonObject;
  metadata: EventMetadata;
  previous_hash: string | null;
  hash: string;
}

export interface EventStoreSql {
  readonly schema: string;
  /** NOTIFY channel that wakes subscribers after an append commits. */
  readonly channel: string;
  readStates(tx: SqlExecutor, wanted: readonly { streamId: string; eventIds: readonly string[] }[], contentOf: (row: { type: string; schemaVersion: number; data: JsonObject }) => string): Promise<Map<string, StreamState>>;
  /** Inserts the rows and queues the NOTIFY that wakes subscribers at COMMIT. */
  insertRows(tx: SqlExecutor, rows: readonly PlannedRow[]): Promise<Map<string, Position>>;
  readStream(db: SqlExecutor, streamId: string, fromRevision: number, maxCount: number): Promise<RecordedEvent[]>;
  readAll(db: SqlExecutor, after: Position | undefined, limit: number): Promise<RecordedEvent[]>;
  headPosition(db: SqlExecutor): Promise<Position | null>;
}

const eventColumns = `seq::text AS seq, transaction_id::text AS transaction_id, stream_id, revision, event_id::text AS event_id,
  type, schema_version, data, metadata, previous_hash, hash`;

/**
 * The read barrier. Every transaction id below the current snapshot's xmin has committed or
 * aborted, so no row can still appear below it: a reader that only goes that far never skips a
 * late commit. Cost: a long-running WRITING transaction anywhere in the cluster (any database:
 * xids are cluster-wide) holds the barrier back and subscribers see nothing newer until it ends,
 * so every other component must keep its write transactions short. Read-only transactions take
 * no xid and do not hold it back.
 */
const belowBarrier = `transaction_id < pg_snapshot_xmin(pg_current_snapshot())`;

export function rowKey(streamId: string, revision: number): string {
  return `${revision}:${streamId}`;
}

function toRecorded(row: EventRow): RecordedEvent {
  return {
    eventId: row.event_id,
    type: row.type,
    schemaVersion: row.schema_version,
    data: row.data,
    metadata: row.metadata,
    streamId: row.stream_id,
    revision: row.revision,
    position: { commit: BigInt(row.transaction_id), prepare: BigInt(row.seq) },
    previousHash: row.previous_hash,
    hash: row.hash,
  };
}

export function eventStoreSql(schema: string): EventStoreSql {
  const events = `${quoteIdentifier(schema)}.events`;
  const channel = `csms_events_${schema}`;
  return {
    schema,
    channel,

    async readStates(tx, wanted, contentOf) {
      const streamIds = [...new Set(wanted.map((item) => item.streamId))];
      const known = wanted.flatMap((item) => item.eventIds.map((eventId) => ({ stream_id: item.streamId, event_id: eventId })));
      // One round trip for the whole group: each stream's head (index (stream_id, revision)
      // scanned backwards, one row) and any of the append's ids it already holds.
      const { rows } = await tx.query<{
        kind: 'head' | 'known';
        stream_id: string;
        revision: number;
        hash: string;
        event_id: string | null;
        type: string | null;
        schema_version: number | null;
        data: JsonObject | null;
        transaction_id: string | null;
        seq: string | null;
      }>(
        `SELECT 'head' AS kind, w.stream_id, h.revision, h.hash, NULL::text AS event_id, NULL::text AS type,
                NULL::int AS schema_version, NULL::jsonb AS data, NULL::text AS transaction_id, NULL::text AS seq
           FROM jsonb_array_elements_text($1::jsonb) AS w(stream_id)
           CROSS JOIN LATERAL (SELECT revision, hash FROM ${events} e
                                WHERE e.stream_id = w.stream_id ORDER BY revision DESC LIMIT 1) h
         UNION ALL
         SELECT 'known', e.stream_id, e.revision, e.hash, e.event_id::text, e.type, e.schema_version, e.data,
                e.transaction_id::text, e.seq::text
           FROM jsonb_to_recordset($2::jsonb) AS k(stream_id text, event_id uuid)
           JOIN ${events} e ON e.stream_id = k.stream_id AND e.event_id = k.event_id`,
        [JSON.stringify(streamIds), JSON.stringify(known)],
      );
      const states = new Map<string, StreamState>(streamIds.map((id) => [id, { revision: -1, hash: null, known: new Map() }]));
      for (const row of rows) {
        const state = states.get(row.stream_id)!;
        if (row.kind === 'head') {
          state.revision = row.revision;
          state.hash = row.hash;
        } else {
          state.known.set(row.event_id!, {
            revision: row.revision,
            content: () => contentOf({ type: row.type!, schemaVersion: row.schema_version!, data: row.data! }),
            position: { commit: BigInt(row.transaction_id!), prepare: BigInt(row.seq!) },
          });
        }
      }
      return states;
    },

    async insertRows(tx, rows) {
      // Sorted by (stream_id, revision): seq (a column default, computed after the sort) then
      // grows with revision inside each stream, so $all keeps each stream in revision order; and
      // two processes inserting overlapping streams take index locks in the same order, which
      // avoids deadlocks between their group commits.
      // pg_notify rides along (one round trip less per append): subscribers are woken at COMMIT,
      // once per transaction, as identical notifications are merged.
      const { rows: inserted } = await tx.query<{ stream_id: string; revision: number; transaction_id: string; seq: string }>(
        `WITH inserted AS (
           INSERT INTO ${events} (stream_id, revision, event_id, type, schema_version, data, metadata, previous_hash, hash)
           SELECT r.stream_id, r.revision, r.event_id, r.type, r.schema_version, r.data, r.metadata, r.previous_hash, r.hash
             FROM jsonb_to_recordset($1::jsonb) AS r(stream_id text, revision int, event_id uuid, type text,
                  schema_version int, data jsonb, metadata jsonb, previous_hash text, hash text)
            ORDER BY r.stream_id, r.revision
           RETURNING stream_id, revision, transaction_id::text AS transaction_id, seq::text AS seq)
         SELECT inserted.* FROM inserted CROSS JOIN (SELECT pg_notify($2, '') IS NULL AS notified) AS wake`,
        [
          JSON.stringify(
            rows.map((row) => ({
              stream_id: row.streamId,
              revision: row.revision,
              event_id: row.eventId,
              type: row.type,
              schema_version: row.schemaVersion,
              data: row.data,
              metadata: row.metadata,
              previous_hash: row.previousHash,
              hash: row.hash,
            })),
          ),
          channel,
        ],
      );
      if (inserted.length !== rows.length) throw new Error(`inserted ${inserted.length} of ${rows.length} event rows`);
      const positions = new Map<string, Position>();
      for (const row of inserted) positions.set(rowKey(row.stream_id, row.revision), { commit: BigInt(row.transaction_id), prepare: BigInt(row.seq) });
      return positions;
    },

    async readStream(db, streamId, fromRevision, maxCount) {
      // No barrier here: command handlers need every committed event of their stream (MVCC
      // shows exactly the committed ones); the barrier only matters for ordering $all.
      const { rows } = await db.query<EventRow>(
        `SELECT ${eventColumns} FROM ${events} WHERE stream_id = $1 AND revision >= $2 ORDER BY revision LIMIT $3`,
        [streamId, fromRevision, maxCount],
      );
      return rows.map(toRecorded);
    },

    async readAll(db, after, limit) {
      // ORDER BY must name the table's columns (e.): the select list turns transaction_id and seq
      // into text under the same names, and ORDER BY prefers output names, so text order would
      // put seq 10 before 9 (the contract suite's "9 -> 10 and 99 -> 100" test guards this).
      const { rows } = await db.query<EventRow>(
        `SELECT ${eventColumns} FROM ${events} AS e
          WHERE (e.transaction_id, e.seq) > ($1::xid8, $2::bigint) AND ${belowBarrier}
          ORDER BY e.transaction_id, e.seq LIMIT $3`,
        [String(after?.commit ?? 0n), String(after?.prepare ?? 0n), limit],
      );
      return rows.map(toRecorded);
    },

    async headPosition(db) {
      const { rows } = await db.query<{ transaction_id: string; seq: string }>(
        `SELECT e.transaction_id::text AS transaction_id, e.seq::text AS seq FROM ${events} AS e
          WHERE ${belowBarrier} ORDER BY e.transaction_id DESC, e.seq DESC LIMIT 1`,
      );
      const row = rows[0];
      return row === undefined ? null : { commit: BigInt(row.transaction_id), prepare: BigInt(row.seq) };
    },
  };
}
