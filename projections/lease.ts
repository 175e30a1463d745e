import type { SqlDatabase, SqlExecutor } from '../adapters/sql/port.js';
import { migrate } from '../adapters/sql/migrate.js';

/**
 * One runner per projection across the cluster (docs/design.md, "Scale-out"): a lease row in
 * `projection_control.leases`, renewed by the holder and re-checked inside every batch
 * transaction, so a runner that lost it cannot commit another batch. A row lock on the lease row
 * orders a batch against a takeover. Session advisory locks would not do: pooled connections
 * rotate, and PGlite has one session for everything.
 */
export const leaseSchema = 'projection_control';
export const leaseMigrationsGroup = 'projection-control';
/** A dead holder blocks its projection at most this long. */
export const leaseDurationMs = 15_000;
/** Renewed three times per duration, so one slow renewal does not lose it. */
export const leaseRenewIntervalMs = 5_000;
/** How often a standby runner (or a rebuild waiting for a handover) asks again. */
export const leaseRetryIntervalMs = 500;
/** A handover request lapses after this, in case the requester died before taking the lease. */
export const leaseHandoverRequestMs = 60_000;

export async function migrateLeases(db: SqlDatabase): Promise<void> {
  await migrate(db, leaseMigrationsGroup, leaseSchema);
}

const interval = (ms: number) => `make_interval(secs => ${ms / 1000})`;

/**
 * Takes the lease if free, expired, or ours; a pending handover reserves it for the requester.
 * Returns true when `owner` holds it now.
 */
export async function tryAcquireLease(db: SqlExecutor, projection: string, owner: string): Promise<boolean> {
  const { rows } = await db.query<{ owner: string }>(
    `INSERT INTO ${leaseSchema}.leases AS l (projection, owner, expires_at)
       VALUES ($1, $2, now() + ${interval(leaseDurationMs)})
     ON CONFLICT (projection) DO UPDATE
       SET owner = excluded.owner, expires_at = excluded.expires_at,
           handover_to = CASE WHEN l.handover_to = excluded.owner THEN NULL ELSE l.handover_to END,
           handover_until = CASE WHEN l.handover_to = excluded.owner THEN NULL ELSE l.handover_until END
       WHERE (l.owner = excluded.owner AND l.expires_at > now()
              AND (l.handover_to IS NULL OR l.handover_to = excluded.owner OR l.handover_until <= now()))
          OR (l.expires_at <= now()
              AND (l.handover_to IS NULL OR l.handover_to = excluded.owner OR l.handover_until <= now()))
     RETURNING l.owner`,
    [projection, owner],
  );
  return rows[0]?.owner === owner;
}

export type LeaseCheck = 'held' | 'lost' | 'handover';

/**
 * Inside a batch transaction: extends the lease if `owner` still holds it. 'handover' means
 * someone asked for it: the caller must not apply, and the lease is released in this transaction.
 */
export async function checkLease(tx: SqlExecutor, projection: string, owner: string): Promise<LeaseCheck> {
  const { rows } = await tx.query<{ handover: boolean }>(
    `UPDATE ${leaseSchema}.leases SET expires_at = now() + ${interval(leaseDurationMs)}
      WHERE projection = $1 AND owner = $2 AND expires_at > now()
      RETURNING (handover_to IS NOT NULL AND handover_to <> owner AND handover_until > now()) AS handover`,
    [projection, owner],
  );
  const row = rows[0];
  if (row === undefined) return 'lost';
  if (!row.handover) return 'held';
  await releaseLease(tx, projection, owner);
  return 'handover';
}

/** True when someone asked `owner` to hand the lease over (a read: the holder releases it in checkLease). */
export async function handoverRequested(db: SqlExecutor, projection: string, owner: string): Promise<boolean> {
  const { rows } = await db.query<{ handover: boolean }>(
    `SELECT (handover_to IS NOT NULL AND handover_to <> owner AND handover_until > now()) AS handover
       FROM ${leaseSchema}.leases WHERE projection = $1 AND owner = $2`,
    [projection, owner],
  );
  return rows[0]?.handover === true;
}

/** Lets the next runner (or the handover requester) take it at once rather than after expiry. */
export async function releaseLease(db: SqlExecutor, projection: string, owner: string): Promise<void> {
  await db.query(`UPDATE ${leaseSchema}.leases SET expires_at = now() WHERE projection = $1 AND owner = $2`, [projection, owner]);
}

/** Asks the holder to step aside for `requester` at its next batch or renewal. */
export async function requestHandover(db: SqlExecutor, projection: string, requester: string): Promise<void> {
  await db.query(
    `INSERT INTO ${leaseSchema}.leases (projection, owner, expires_at) VALUES ($1, $2, now())
       ON CONFLICT (projection) DO NOTHING`,
    [projection, requester],
  );
  await db.query(
    `UPDATE ${leaseSchema}.leases SET handover_to = $2, handover_until = now() + ${interval(leaseHandoverRequestMs)}
      WHERE projection = $1 AND owner <> $2`,
    [projection, requester],
  );
}

/**
 * A lease as `projections status` shows it. Holders renew at least every leaseRenewIntervalMs, so
 * one not renewed for longer is 'overdue': its holder is dead or stuck, and nobody applies the
 * projection until the lease expires (or the holder's node restarts and releases it).
 */
export interface LeaseView {
  readonly owner: string;
  /** Since the last renewal (or release), by the database clock. */
  readonly renewedAgoMs: number;
  readonly state: 'live' | 'overdue' | 'expired';
}

export async function readLease(db: SqlExecutor, projection: string): Promise<LeaseView | null> {
  // A renewal sets expires_at = now() + leaseDurationMs, so the last one was leaseDurationMs before it.
  const { rows } = await db.query<{ owner: string; renewed_ago_ms: string; expired: boolean }>(
    `SELECT owner, (extract(epoch FROM now() - (expires_at - ${interval(leaseDurationMs)})) * 1000)::bigint::text AS renewed_ago_ms,
            expires_at <= now() AS expired
       FROM ${leaseSchema}.leases WHERE projection = $1`,
    [projection],
  );
  const row = rows[0];
  if (row === undefined) return null;
  const renewedAgoMs = Math.max(0, Number(row.renewed_ago_ms));
  const state = row.expired ? 'expired' : renewedAgoMs > leaseRenewIntervalMs ? 'overdue' : 'live';
  return { owner: row.owner, renewedAgoMs, state };
}

/** Unexpired leases whose owner belongs to `nodeId` (owners are `<nodeId>:<process...>`), but not `except`. */
export async function leasesOfNode(db: SqlExecutor, nodeId: string, except: string): Promise<{ projection: string; owner: string; expiresAt: Date }[]> {
  const { rows } = await db.query<{ projection: string; owner: string; expires_at: Date }>(
    `SELECT projection, owner, expires_at FROM ${leaseSchema}.leases
      WHERE starts_with(owner, $1) AND owner <> $2 AND expires_at > now() ORDER BY projection`,
    [`${nodeId}:`, except],
  );
  return rows.map((row) => ({ projection: row.projection, owner: row.owner, expiresAt: new Date(row.expires_at) }));
}

/**
 * Releases every lease held by `owners` (earlier processes of this node, known dead), so this
 * process takes them at once instead of waiting up to leaseDurationMs for each to expire.
 * Returns the projections released.
 */
export async function releaseLeasesOf(db: SqlExecutor, owners: readonly string[]): Promise<string[]> {
  if (owners.length === 0) return [];
  const { rows } = await db.query<{ projection: string }>(
    `UPDATE ${leaseSchema}.leases SET expires_at = now() WHERE owner = ANY($1::text[]) AND expires_at > now() RETURNING projection`,
    [owners],
  );
  return rows.map((row) => row.projection).sort();
}

/** Takes the lease for `owner`, asking the holder to hand it over; throws after `timeoutMs`. */
export async function takeLease(db: SqlDatabase, projection: string, owner: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  await requestHandover(db, projection, owner);
  while (!(await tryAcquireLease(db, projection, owner))) {
    if (Date.now() > deadline) throw new Error(`could not take the lease of projection ${projection} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, leaseRetryIntervalMs / 5));
  }
}
