import { comparePositions, type Position } from '../../adapters/event-store/port.js';
import { migrate } from '../../adapters/sql/migrate.js';
import type { SqlDatabase, SqlExecutor } from '../../adapters/sql/port.js';
import { invariant } from '../../domain/shared/assert.js';
import type { PushChange, PushModule } from './source.js';

/**
 * The outbox tables (migrations/ocpi-outbox): enqueueing with merge, the producer's checkpoint,
 * and the operator's retry. The worker's claim and outcome queries are in claims.ts.
 */

export const outboxSchema = 'ocpi_outbox';
export const outboxMigrationsGroup = 'ocpi-outbox';
export const producerCheckpointName = 'producer';
/** Stored error texts are cut here: a partner's 10 MB error page must not land in every row. */
export const outboxErrorCharsMax = 2_000;
export const objectKeyCharsMax = 200;

export type PushState = 'pending' | 'delivered' | 'rejected';

export async function migrateOutbox(db: SqlDatabase): Promise<void> {
  await migrate(db, outboxMigrationsGroup, outboxSchema);
  await db.query(`INSERT INTO ${outboxSchema}.checkpoint (name) VALUES ($1) ON CONFLICT DO NOTHING`, [producerCheckpointName]);
}

export interface EnqueueRequest {
  readonly tenantId: string;
  readonly partnerId: string;
  readonly module: PushModule;
  readonly objectKey: string;
  readonly change: PushChange;
  /** The event that caused it, with its place in $all; null for `csms ocpi sync`. */
  readonly source: { readonly eventId: string; readonly position: Position } | null;
  readonly now: Date;
}

/**
 * The change a pending push carries after a newer one arrives. Deliveries send the newest state
 * (build reads the read model then), so only the kind of request matters: 'status' never weakens
 * a pending 'object' or 'delete'; an 'object' or 'delete' replaces what was there ('object'
 * after 'delete': the object came back, e.g. a tariff re-created).
 */
export function mergeChange(pending: PushChange, newer: PushChange): PushChange {
  return newer === 'status' ? pending : newer;
}

/**
 * Adds a push, or merges it into the object's pending one. Returns false when the source event
 * was already enqueued for this object and partner (a replay of $all). CDRs never merge: each
 * cdr id is its own object, so its key never has a pending row to meet.
 */
export async function enqueuePush(tx: SqlExecutor, request: EnqueueRequest): Promise<boolean> {
  invariant(request.objectKey.length > 0 && request.objectKey.length <= objectKeyCharsMax, `object key of 1 to ${objectKeyCharsMax} chars: ${request.objectKey.slice(0, 250)}`);
  const key = [request.tenantId, request.partnerId, request.module, request.objectKey];
  if (request.source !== null) {
    const { commit, prepare } = request.source.position;
    const { rowCount } = await tx.query(
      `INSERT INTO ${outboxSchema}.enqueued_through AS t (tenant_id, partner_id, module, object_key, event_commit, event_prepare)
         VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (tenant_id, partner_id, module, object_key) DO UPDATE
         SET event_commit = excluded.event_commit, event_prepare = excluded.event_prepare
         WHERE (t.event_commit, t.event_prepare) < (excluded.event_commit, excluded.event_prepare)`,
      [...key, commit.toString(), prepare.toString()],
    );
    if (rowCount === 0) return false;
  }
  const { rows } = await tx.query<{ id: string; change: PushChange }>(
    `SELECT id::text, change FROM ${outboxSchema}.pushes
      WHERE tenant_id = $1 AND partner_id = $2 AND module = $3 AND object_key = $4 AND state = 'pending' FOR UPDATE`,
    key,
  );
  const pending = rows[0];
  const eventId = request.source?.eventId ?? null;
  if (pending === undefined) {
    await tx.query(
      `INSERT INTO ${outboxSchema}.pushes (tenant_id, partner_id, module, object_key, change, source_event_id, enqueued_at, next_attempt_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $7)`,
      [...key, request.change, eventId, request.now],
    );
    return true;
  }
  // A push waiting for its retry keeps its backoff: the partner is still down; one in flight
  // sees `version` move and is sent again with the newer state (claims.ts).
  await tx.query(
    `UPDATE ${outboxSchema}.pushes SET change = $2, source_event_id = coalesce($3, source_event_id), version = version + 1 WHERE id = $1`,
    [pending.id, mergeChange(pending.change, request.change), eventId],
  );
  return true;
}

export interface HeldObject {
  readonly tenantId: string;
  readonly partnerId: string;
  readonly module: PushModule;
  readonly objectId: string;
}

/** Whether the partner accepted the object whole (see PushRequest.establishes). */
export async function partnerHolds(db: SqlExecutor, object: HeldObject): Promise<boolean> {
  const { rows } = await db.query(
    `SELECT 1 FROM ${outboxSchema}.partner_objects WHERE tenant_id = $1 AND partner_id = $2 AND module = $3 AND object_id = $4`,
    [object.tenantId, object.partnerId, object.module, object.objectId],
  );
  return rows.length > 0;
}

export async function recordHeld(tx: SqlExecutor, object: HeldObject, at: Date): Promise<void> {
  await tx.query(
    `INSERT INTO ${outboxSchema}.partner_objects (tenant_id, partner_id, module, object_id, sent_at) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (tenant_id, partner_id, module, object_id) DO UPDATE SET sent_at = excluded.sent_at`,
    [object.tenantId, object.partnerId, object.module, object.objectId, at],
  );
}

/** The partner no longer holds it as far as we need to know: a finished object, or it answered 2003 to a part. */
export async function dropHeld(tx: SqlExecutor, object: HeldObject): Promise<void> {
  await tx.query(
    `DELETE FROM ${outboxSchema}.partner_objects WHERE tenant_id = $1 AND partner_id = $2 AND module = $3 AND object_id = $4`,
    [object.tenantId, object.partnerId, object.module, object.objectId],
  );
}

/** A partner that registers (again) holds nothing of ours as far as we know: it may be a new platform, or lost its data. */
export async function forgetHeld(tx: SqlExecutor, tenantId: string, partnerId: string): Promise<void> {
  await tx.query(`DELETE FROM ${outboxSchema}.partner_objects WHERE tenant_id = $1 AND partner_id = $2`, [tenantId, partnerId]);
}

export async function loadProducerCheckpoint(db: SqlExecutor): Promise<Position | null> {
  const { rows } = await db.query<{ c: string | null; p: string | null }>(
    `SELECT checkpoint_commit::text AS c, checkpoint_prepare::text AS p FROM ${outboxSchema}.checkpoint WHERE name = $1`,
    [producerCheckpointName],
  );
  const row = rows[0];
  return row?.c == null || row.p == null ? null : { commit: BigInt(row.c), prepare: BigInt(row.p) };
}

export async function saveProducerCheckpoint(tx: SqlExecutor, from: Position | null, to: Position, events: number): Promise<void> {
  invariant(from === null || comparePositions(to, from) > 0, 'outbox producer checkpoint moves forward');
  const { rowCount } = await tx.query(
    `UPDATE ${outboxSchema}.checkpoint SET checkpoint_commit = $2, checkpoint_prepare = $3, events_seen = events_seen + $4
      WHERE name = $1 AND checkpoint_commit IS NOT DISTINCT FROM $5::numeric AND checkpoint_prepare IS NOT DISTINCT FROM $6::numeric`,
    [producerCheckpointName, to.commit.toString(), to.prepare.toString(), events, from?.commit.toString() ?? null, from?.prepare.toString() ?? null],
  );
  // Someone moved it under us: a second producer without the lease, a bug in the lease handling.
  invariant(rowCount === 1, 'outbox producer checkpoint was still where this batch started');
}

/** For an operator (or a test) replaying: sets the checkpoint anywhere, backwards included. */
export async function resetProducerCheckpoint(db: SqlExecutor, to: Position | null): Promise<void> {
  await db.query(`UPDATE ${outboxSchema}.checkpoint SET checkpoint_commit = $2, checkpoint_prepare = $3 WHERE name = $1`, [
    producerCheckpointName,
    to?.commit.toString() ?? null,
    to?.prepare.toString() ?? null,
  ]);
}

export type RetryOutcome = 'requeued' | 'not-found' | 'not-rejected' | 'superseded';

/** `csms ocpi outbox retry <id>`: a rejected push is due again now, attempts kept for the record. */
export async function retryPush(db: SqlDatabase, tenantId: string, id: string, now: Date): Promise<RetryOutcome> {
  return db.transaction(async (tx) => {
    const { rows } = await tx.query<{ state: PushState; partner_id: string; module: string; object_key: string }>(
      `SELECT state, partner_id, module, object_key FROM ${outboxSchema}.pushes WHERE tenant_id = $1 AND id = $2 FOR UPDATE`,
      [tenantId, id],
    );
    const push = rows[0];
    if (push === undefined) return 'not-found';
    if (push.state !== 'rejected') return 'not-rejected';
    const newer = await tx.query(
      `SELECT 1 FROM ${outboxSchema}.pushes WHERE tenant_id = $1 AND partner_id = $2 AND module = $3 AND object_key = $4 AND state = 'pending'`,
      [tenantId, push.partner_id, push.module, push.object_key],
    );
    // A pending push of the same object will send its newest state anyway.
    if (newer.rowCount > 0) return 'superseded';
    await tx.query(
      `UPDATE ${outboxSchema}.pushes SET state = 'pending', next_attempt_at = $2, version = version + 1, claimed_by = NULL, claimed_until = NULL WHERE id = $1`,
      [id, now],
    );
    return 'requeued';
  });
}
