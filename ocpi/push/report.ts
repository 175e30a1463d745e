import type { SqlExecutor } from '../../adapters/sql/port.js';
import { outboxSchema, type PushState } from './outbox.js';

/** What `csms ocpi outbox` shows: pushes, newest first, and counts per partner, module and state. */

export const outboxListLimitDefault = 50;
export const outboxListLimitMax = 10_000;

export interface PushListRow {
  readonly id: string;
  readonly partnerId: string;
  readonly module: string;
  readonly objectKey: string;
  readonly change: string;
  readonly state: PushState;
  readonly attempts: number;
  readonly nextAttemptAt: Date | null;
  readonly lastError: string | null;
  readonly note: string | null;
}

export interface PushCount {
  readonly partnerId: string;
  readonly module: string;
  readonly state: PushState;
  readonly count: number;
}

export interface PushFilter {
  readonly partnerId?: string;
  readonly state?: PushState;
  readonly limit: number;
}

function where(tenantId: string, filter: Omit<PushFilter, 'limit'>): { sql: string; params: unknown[] } {
  const params: unknown[] = [tenantId];
  let sql = 'tenant_id = $1';
  if (filter.partnerId !== undefined) {
    params.push(filter.partnerId);
    sql += ` AND partner_id = $${params.length}`;
  }
  if (filter.state !== undefined) {
    params.push(filter.state);
    sql += ` AND state = $${params.length}`;
  }
  return { sql, params };
}

export async function listPushes(db: SqlExecutor, tenantId: string, filter: PushFilter): Promise<PushListRow[]> {
  const { sql, params } = where(tenantId, filter);
  const { rows } = await db.query<{
    id: string; partner_id: string; module: string; object_key: string; change: string; state: PushState;
    attempts: number; next_attempt_at: Date; last_error: string | null; note: string | null;
  }>(
    `SELECT id::text, partner_id, module, object_key, change, state, attempts, next_attempt_at, last_error, note
       FROM ${outboxSchema}.pushes WHERE ${sql} ORDER BY id DESC LIMIT ${Math.min(filter.limit, outboxListLimitMax)}`,
    params,
  );
  return rows.map((row) => ({
    id: row.id,
    partnerId: row.partner_id,
    module: row.module,
    objectKey: row.object_key,
    change: row.change,
    state: row.state,
    attempts: row.attempts,
    nextAttemptAt: row.state === 'pending' ? row.next_attempt_at : null,
    lastError: row.last_error,
    note: row.note,
  }));
}

export async function countPushesBy(db: SqlExecutor, tenantId: string, filter: Omit<PushFilter, 'limit'>): Promise<PushCount[]> {
  const { sql, params } = where(tenantId, filter);
  const { rows } = await db.query<{ partner_id: string; module: string; state: PushState; n: string }>(
    `SELECT partner_id, module, state, count(*)::text AS n FROM ${outboxSchema}.pushes WHERE ${sql}
      GROUP BY partner_id, module, state ORDER BY partner_id, module, state`,
    params,
  );
  return rows.map((row) => ({ partnerId: row.partner_id, module: row.module, state: row.state, count: Number(row.n) }));
}

/** For GET /metrics: pending per partner and module, and the age of the oldest. */
export async function pendingGauges(db: SqlExecutor, now: Date): Promise<{ partnerId: string; module: string; pending: number; oldestAgeSeconds: number }[]> {
  const { rows } = await db.query<{ partner_id: string; module: string; n: string; oldest: Date }>(
    `SELECT partner_id, module, count(*)::text AS n, min(enqueued_at) AS oldest FROM ${outboxSchema}.pushes
      WHERE state = 'pending' GROUP BY partner_id, module`,
  );
  return rows.map((row) => ({
    partnerId: row.partner_id,
    module: row.module,
    pending: Number(row.n),
    oldestAgeSeconds: Math.max(0, (now.getTime() - new Date(row.oldest).getTime()) / 1000),
  }));
}
