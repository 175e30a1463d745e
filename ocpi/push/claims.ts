import type { SqlDatabase, SqlExecutor } from '../../adapters/sql/port.js';
import { dropHeld, outboxErrorCharsMax, outboxSchema, recordHeld } from './outbox.js';
import type { PushChange, PushModule } from './source.js';

/**
 * The worker's side of the outbox table: claiming due pushes (several nodes share the work with
 * FOR UPDATE SKIP LOCKED and a claim that expires), recording each attempt and its outcome.
 */

export interface ClaimedPush {
  readonly id: string;
  readonly tenantId: string;
  readonly partnerId: string;
  readonly module: PushModule;
  readonly objectKey: string;
  readonly change: PushChange;
  readonly version: number;
  /** Attempts before this one. */
  readonly attempts: number;
}

interface ClaimRow {
  id: string;
  tenant_id: string;
  partner_id: string;
  module: PushModule;
  object_key: string;
  change: PushChange;
  version: number;
  attempts: number;
}

export interface ClaimRequest {
  readonly tenantId: string;
  readonly owner: string;
  readonly now: Date;
  /** At most this many pushes now (free slots of the worker). */
  readonly limit: number;
  /** In flight per partner across all nodes (claims not yet expired count). */
  readonly perPartnerMax: number;
  readonly claimMs: number;
  /** `csms ocpi sync --now`: only this partner and module. */
  readonly only?: { readonly partnerId: string; readonly module: PushModule };
}

/**
 * Claims up to `limit` due pushes, at most `perPartnerMax` in flight per partner: ranking per
 * partner first means one partner's backlog never fills the page and starves the others. A
 * pending row is one object, so a claimed row is also the only delivery in flight for its object.
 */
export async function claimDuePushes(db: SqlDatabase, request: ClaimRequest): Promise<ClaimedPush[]> {
  if (request.limit <= 0) return [];
  return db.transaction(async (tx) => {
    const filter = request.only === undefined ? '' : `AND partner_id = $5 AND module = $6`;
    const params: unknown[] = [request.tenantId, request.now, request.perPartnerMax, request.limit];
    if (request.only !== undefined) params.push(request.only.partnerId, request.only.module);
    const candidates = await tx.query<{ id: string }>(
      `WITH inflight AS (
         SELECT partner_id, count(*) AS n FROM ${outboxSchema}.pushes
          WHERE tenant_id = $1 AND state = 'pending' AND claimed_until > $2 GROUP BY partner_id
       ), due AS (
         SELECT id, partner_id, next_attempt_at,
                row_number() OVER (PARTITION BY partner_id ORDER BY next_attempt_at, id) AS rank
           FROM ${outboxSchema}.pushes
          WHERE tenant_id = $1 AND state = 'pending' AND next_attempt_at <= $2
            AND (claimed_until IS NULL OR claimed_until <= $2) ${filter}
            -- An EVSE push (LOC/EVSE) waits while its location's push is pending: a partner
            -- must learn of the location before its EVSEs.
            AND NOT (module = 'locations' AND position('/' in object_key) > 0 AND EXISTS (
              SELECT 1 FROM ${outboxSchema}.pushes parent
               WHERE parent.tenant_id = pushes.tenant_id AND parent.partner_id = pushes.partner_id
                 AND parent.module = 'locations' AND parent.state = 'pending'
                 AND parent.object_key = split_part(pushes.object_key, '/', 1)))
       )
       SELECT due.id::text FROM due LEFT JOIN inflight USING (partner_id)
        WHERE due.rank <= $3 - coalesce(inflight.n, 0)
        ORDER BY due.next_attempt_at, due.id LIMIT $4`,
      params,
    );
    if (candidates.rows.length === 0) return [];
    const { rows } = await tx.query<ClaimRow>(
      `UPDATE ${outboxSchema}.pushes p SET claimed_by = $2, claimed_until = $3::timestamptz + make_interval(secs => $4::float8 / 1000)
        WHERE p.id IN (
          SELECT id FROM ${outboxSchema}.pushes WHERE id = ANY($1::bigint[]) AND state = 'pending'
             AND (claimed_until IS NULL OR claimed_until <= $3) FOR UPDATE SKIP LOCKED)
        RETURNING p.id::text, p.tenant_id, p.partner_id, p.module, p.object_key, p.change, p.version, p.attempts`,
      [candidates.rows.map((row) => row.id), request.owner, request.now, request.claimMs],
    );
    return rows.map((row) => ({
      id: row.id,
      tenantId: row.tenant_id,
      partnerId: row.partner_id,
      module: row.module,
      objectKey: row.object_key,
      change: row.change,
      version: row.version,
      attempts: row.attempts,
    }));
  });
}

export interface AttemptRecord {
  readonly at: Date;
  readonly method: string;
  readonly url: string;
  readonly httpStatus: number | null;
  readonly ocpiStatus: number | null;
  readonly requestId: string | null;
  readonly correlationId: string | null;
  readonly durationMs: number;
  readonly error: string | null;
}

export type PushOutcome =
  | {
      readonly kind: 'delivered';
      readonly responseLocation: string | null;
      readonly note: string | null;
      /** The partner now holds this object whole (PushRequest.establishes). */
      readonly establishes?: string | null;
      /** Its hold is dropped: the object is final (PushRequest.releases). */
      readonly releases?: string | null;
    }
  | {
      readonly kind: 'retry';
      readonly nextAttemptAt: Date;
      readonly error: string;
      /** The partner answered 2003 to a part of this object: it does not hold it (PushRequest.partOf). */
      readonly forgets?: string | null;
    }
  | { readonly kind: 'rejected'; readonly error: string; readonly releases?: string | null };

const cut = (text: string | null) => (text === null ? null : text.slice(0, outboxErrorCharsMax));

/**
 * Records one attempt and its outcome. When a newer change merged in while it was in flight
 * (`version` moved), a success is not the newest state: the push stays pending, due at once.
 */
export async function completePush(db: SqlDatabase, push: ClaimedPush, attempt: AttemptRecord | null, outcome: PushOutcome): Promise<'done' | 'superseded'> {
  return db.transaction(async (tx) => {
    if (attempt !== null) await recordAttempt(tx, push, attempt);
    await recordHolds(tx, push, outcome, attempt?.at ?? new Date());
    const http = attempt?.httpStatus ?? null;
    const ocpi = attempt?.ocpiStatus ?? null;
    const common = [push.id, push.version, http, ocpi];
    // Nothing sent (build() null, partner gone) is not an attempt.
    const tried = attempt === null ? 0 : 1;
    let updated: number;
    if (outcome.kind === 'delivered') {
      ({ rowCount: updated } = await tx.query(
        `UPDATE ${outboxSchema}.pushes SET state = 'delivered', attempts = attempts + $8, delivered_at = $5, response_location = $6, note = $7,
                last_error = NULL, last_http_status = $3, last_ocpi_status = $4, claimed_by = NULL, claimed_until = NULL
          WHERE id = $1 AND version = $2 AND state = 'pending'`,
        [...common, attempt?.at ?? new Date(), cut(outcome.responseLocation), outcome.note, tried],
      ));
    } else if (outcome.kind === 'rejected') {
      ({ rowCount: updated } = await tx.query(
        `UPDATE ${outboxSchema}.pushes SET state = 'rejected', attempts = attempts + $6, last_error = $5,
                last_http_status = $3, last_ocpi_status = $4, claimed_by = NULL, claimed_until = NULL
          WHERE id = $1 AND version = $2 AND state = 'pending'`,
        [...common, cut(outcome.error), tried],
      ));
    } else {
      // A retry holds whatever merged in meanwhile: the next attempt builds the newest state.
      ({ rowCount: updated } = await tx.query(
        `UPDATE ${outboxSchema}.pushes SET attempts = attempts + 1, next_attempt_at = $4, last_error = $5,
                last_http_status = $2, last_ocpi_status = $3, claimed_by = NULL, claimed_until = NULL
          WHERE id = $1 AND state = 'pending'`,
        [push.id, http, ocpi, outcome.nextAttemptAt, cut(outcome.error)],
      ));
    }
    if (updated === 1) return 'done';
    // Merged into while in flight: count the attempt, free the claim, deliver the newer state now.
    await tx.query(
      `UPDATE ${outboxSchema}.pushes SET attempts = attempts + 1, claimed_by = NULL, claimed_until = NULL, last_http_status = $2, last_ocpi_status = $3
        WHERE id = $1 AND state = 'pending'`,
      [push.id, http, ocpi],
    );
    return 'superseded';
  });
}

/**
 * What the partner holds after this outcome (ocpi/push/source.ts `establishes`, `releases`,
 * `partOf`). Recorded even when a newer change merged in meanwhile: the partner answered this request.
 */
async function recordHolds(tx: SqlExecutor, push: ClaimedPush, outcome: PushOutcome, at: Date): Promise<void> {
  const held = (objectId: string) => ({ tenantId: push.tenantId, partnerId: push.partnerId, module: push.module, objectId });
  if (outcome.kind === 'delivered' && outcome.establishes) await recordHeld(tx, held(outcome.establishes), at);
  const dropped = outcome.kind === 'retry' ? outcome.forgets : outcome.releases;
  if (dropped) await dropHeld(tx, held(dropped));
}

async function recordAttempt(tx: SqlExecutor, push: ClaimedPush, attempt: AttemptRecord): Promise<void> {
  await tx.query(
    `INSERT INTO ${outboxSchema}.deliveries (push_id, attempt, at, method, url, http_status, ocpi_status, request_id, correlation_id, duration_ms, error)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
    [
      push.id,
      push.attempts + 1,
      attempt.at,
      attempt.method,
      attempt.url.slice(0, outboxErrorCharsMax),
      attempt.httpStatus,
      attempt.ocpiStatus,
      attempt.requestId,
      attempt.correlationId,
      Math.round(attempt.durationMs),
      cut(attempt.error),
    ],
  );
}
