import type { SqlDatabase } from '../../adapters/sql/port.js';
import { invariant } from '../../domain/shared/assert.js';
import { loadPartnerConnection, partnerEndpointUrl } from '../client/partners.js';
import type { TokenSealer } from '../credentials/seal.js';
import type { OcpiParty } from '../transport/headers.js';
import { enqueuePush, migrateOutbox, outboxSchema, type PushState } from './outbox.js';
import type { PushModule, PushSource } from './source.js';
import { startPushWorker, type PushWorkerDeps } from './worker.js';

/**
 * `csms ocpi sync --partner P --module M` for a Sender module: every object of the module is
 * queued for the partner as a whole-object push (a partner registered after the events never got
 * them, and one that lost its copy needs them again). Pending pushes of the same object merge.
 */

/** Keys asked of `listKeys` per page, each page enqueued in one transaction. */
export const syncPageSize = 500;
/** A module with more objects than this is refused rather than queued without end. */
export const syncObjectsMax = 1_000_000;
/** `sync --now` stops waiting on a push that failed this often: the server's worker keeps retrying it. */
export const syncNowAttemptsMax = 5;
const syncNowPollMs = 200;

export class SyncRefusedError extends Error {
  override readonly name = 'SyncRefusedError';
}

export interface SyncDeps {
  readonly db: SqlDatabase;
  readonly tenantId: string;
  readonly us: OcpiParty;
  readonly sealer: TokenSealer;
  readonly clock: { now(): Date };
}

export async function enqueueSync(deps: SyncDeps, partnerId: string, source: PushSource, onPage?: (queued: number) => void): Promise<number> {
  await migrateOutbox(deps.db);
  const connection = await loadPartnerConnection(deps.db, deps.tenantId, deps.sealer, partnerId);
  if (connection === null) throw new SyncRefusedError(`partner ${partnerId} is not registered`);
  if (partnerEndpointUrl(connection, source.module, 'RECEIVER') === null) {
    throw new SyncRefusedError(`partner ${partnerId} has no ${source.module} RECEIVER endpoint`);
  }
  let after: string | null = null;
  let queued = 0;
  for (;;) {
    const keys = await source.listKeys({ db: deps.db, tenantId: deps.tenantId, us: deps.us }, after, syncPageSize);
    if (keys.length === 0) return queued;
    invariant(queued + keys.length <= syncObjectsMax, `${source.module} has more than ${syncObjectsMax} objects to sync`);
    const now = deps.clock.now();
    await deps.db.transaction(async (tx) => {
      for (const objectKey of keys) {
        await enqueuePush(tx, { tenantId: deps.tenantId, partnerId, module: source.module, objectKey, change: 'object', source: null, now });
      }
    });
    queued += keys.length;
    onPage?.(queued);
    const last: string = keys.at(-1)!;
    invariant(after === null || last > after, 'listKeys pages move forward');
    after = last;
  }
}

/** Pushes of a partner and module by state, for `sync --now` progress. */
export async function countPushes(db: SqlDatabase, tenantId: string, partnerId: string, module: string): Promise<Record<PushState, number>> {
  const { rows } = await db.query<{ state: PushState; n: string }>(
    `SELECT state, count(*)::text AS n FROM ${outboxSchema}.pushes WHERE tenant_id = $1 AND partner_id = $2 AND module = $3 GROUP BY state`,
    [tenantId, partnerId, module],
  );
  const counts: Record<PushState, number> = { pending: 0, delivered: 0, rejected: 0 };
  for (const row of rows) counts[row.state] = Number(row.n);
  return counts;
}

/**
 * `csms ocpi sync --now`: delivers the partner's pending pushes of the module in this process
 * (beside any server worker: claims keep them apart) until none is pending, or one has failed
 * `attemptsMax` times (the partner is down: the server keeps retrying). Returns the final counts.
 */
export async function deliverSyncNow(
  deps: PushWorkerDeps,
  only: { readonly partnerId: string; readonly module: PushModule },
  onProgress: (done: number, total: number) => void,
  options: { readonly owner: string; readonly attemptsMax?: number; readonly pollMs?: number },
): Promise<Record<PushState, number>> {
  const attemptsMax = options.attemptsMax ?? syncNowAttemptsMax;
  const worker = startPushWorker(deps, { owner: options.owner, only, ...(options.pollMs === undefined ? {} : { pollMs: options.pollMs }) });
  const first = await countPushes(deps.db, deps.tenantId, only.partnerId, only.module);
  const finishedBefore = first.delivered + first.rejected;
  try {
    for (;;) {
      const counts = await countPushes(deps.db, deps.tenantId, only.partnerId, only.module);
      const done = counts.delivered + counts.rejected - finishedBefore;
      onProgress(done, done + counts.pending);
      if (counts.pending === 0) break;
      const { rows } = await deps.db.query(
        `SELECT 1 FROM ${outboxSchema}.pushes WHERE tenant_id = $1 AND partner_id = $2 AND module = $3 AND state = 'pending' AND attempts >= $4 LIMIT 1`,
        [deps.tenantId, only.partnerId, only.module, attemptsMax],
      );
      if (rows.length > 0) break;
      await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? syncNowPollMs));
    }
  } finally {
    await worker.stop();
  }
  return countPushes(deps.db, deps.tenantId, only.partnerId, only.module);
}
