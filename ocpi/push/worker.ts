import { sleepUnlessAborted } from '../../adapters/clock/sleep.js';
import { RetryBackoff } from '../../adapters/clock/backoff.js';
import { lineFaultLog, reportLoopFailure } from '../../adapters/observability/background.js';
import { reportUnexpectedError } from '../../adapters/observability/unexpected-errors.js';
import type { SqlDatabase } from '../../adapters/sql/port.js';
import { isDatabaseUnavailable } from '../../adapters/sql/errors.js';
import { loadPartnerConnections, type PartnerConnection } from '../client/partners.js';
import type { TokenSealer } from '../credentials/seal.js';
import { claimDuePushes, completePush, type ClaimedPush } from './claims.js';
import { deliverPush, pushRequestTimeoutMsDefault, type DeliverDeps } from './deliver.js';
import { pushDelivered, pushDurationSeconds, pushRejected, pushRetried } from './metrics.js';
import type { PushModule } from './source.js';

/**
 * Delivers due pushes: claims them (several nodes share the table, see claims.ts), at most
 * `concurrency` in flight in this process and `perPartnerMax` per partner, so a slow or down
 * partner holds only its own slots and never delays the others.
 */

export const pushWorkerConcurrencyDefault = 16;
export const pushWorkerPerPartnerMaxDefault = 2;
export const pushWorkerPollMsDefault = 200;
/** After a failing claim (database down), waits this long, doubling up to the max. */
export const pushWorkerErrorDelayMinMs = 200;
export const pushWorkerErrorDelayMaxMs = 30_000;
/** The label of the worker's unexpected errors. */
export const pushWorkerComponent = 'ocpi-push-worker';
/** Partner connections (endpoints, tokens) are re-read at most this often. */
export const partnerCacheMs = 2_000;
/** A partner's error text in a log line is cut here (the whole text, up to its own limit, is in the outbox row). */
export const logErrorCharsMax = 500;

export interface PushWorkerDeps extends DeliverDeps {
  readonly db: SqlDatabase;
  readonly sealer: TokenSealer;
  readonly log: (message: string) => void;
}

export interface PushWorkerOptions {
  readonly owner: string;
  readonly concurrency?: number;
  readonly perPartnerMax?: number;
  readonly pollMs?: number;
  /** `csms ocpi sync --now`: only this partner and module. */
  readonly only?: { readonly partnerId: string; readonly module: PushModule };
  /** After each finished attempt (progress of `sync --now`). */
  readonly onAttempt?: (push: ClaimedPush, outcome: 'delivered' | 'retry' | 'rejected' | 'superseded') => void;
}

export interface PushWorker {
  stop(): Promise<void>;
}

export function startPushWorker(deps: PushWorkerDeps, options: PushWorkerOptions): PushWorker {
  const stopping = new AbortController();
  const concurrency = options.concurrency ?? pushWorkerConcurrencyDefault;
  const perPartnerMax = options.perPartnerMax ?? pushWorkerPerPartnerMaxDefault;
  const pollMs = options.pollMs ?? pushWorkerPollMsDefault;
  const timeoutMs = deps.client.timeoutMs ?? pushRequestTimeoutMsDefault;
  // A claim outlives the request with room for recording it; a crashed node's claims lapse after.
  const claimMs = timeoutMs * 2 + 5_000;
  const inFlight = new Set<Promise<void>>();
  // Ends the current poll wait early: a slot came free, or stop.
  let wakeUp: (() => void) | null = null;
  const nap = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        stopping.signal.removeEventListener('abort', done);
        wakeUp = null;
        resolve();
      }
      wakeUp = done;
      stopping.signal.addEventListener('abort', done, { once: true });
    });
  let partners: { at: number; byId: Map<string, PartnerConnection> } | null = null;

  const connections = async (): Promise<Map<string, PartnerConnection>> => {
    if (partners === null || Date.now() - partners.at > partnerCacheMs) {
      const loaded = await loadPartnerConnections(deps.db, deps.tenantId, deps.sealer);
      partners = { at: Date.now(), byId: new Map(loaded.map((connection) => [connection.partnerId, connection])) };
    }
    return partners.byId;
  };

  const deliver = async (push: ClaimedPush, connection: PartnerConnection | null): Promise<void> => {
    const labels = { partner: push.partnerId, module: push.module };
    try {
      const { attempt, outcome } = await deliverPush(deps, push, connection);
      if (attempt !== null) pushDurationSeconds.observe(labels, attempt.durationMs / 1000);
      const done = await completePush(deps.db, push, attempt, outcome);
      const counted = done === 'superseded' ? 'superseded' : outcome.kind;
      if (counted === 'delivered') pushDelivered.inc(labels);
      else if (counted === 'retry') pushRetried.inc(labels);
      else if (counted === 'rejected') {
        pushRejected.inc(labels);
        const reason = outcome.kind === 'rejected' ? outcome.error.slice(0, logErrorCharsMax) : '';
        deps.log(`ocpi push ${push.id} to ${push.partnerId} (${push.module} ${push.objectKey}) rejected: ${reason}`);
      }
      options.onAttempt?.(push, counted);
    } catch (error) {
      // Recording failed (database down, or a bug): the claim lapses and the push is picked again.
      if (isDatabaseUnavailable(error)) deps.log(`ocpi push ${push.id}: ${String(error).slice(0, logErrorCharsMax)}`);
      else reportUnexpectedError(lineFaultLog(deps.log), pushWorkerComponent, error, { pushId: push.id, partnerId: push.partnerId });
    }
  };

  const loop = (async () => {
    const backoff = new RetryBackoff(pushWorkerErrorDelayMinMs, pushWorkerErrorDelayMaxMs);
    while (!stopping.signal.aborted) {
      try {
        const free = concurrency - inFlight.size;
        const claimed =
          free <= 0
            ? []
            : await claimDuePushes(deps.db, {
                tenantId: deps.tenantId,
                owner: options.owner,
                now: deps.clock.now(),
                limit: free,
                perPartnerMax,
                claimMs,
                ...(options.only === undefined ? {} : { only: options.only }),
              });
        if (claimed.length > 0) {
          const byId = await connections();
          for (const push of claimed) {
            const running: Promise<void> = deliver(push, byId.get(push.partnerId) ?? null).finally(() => {
              inFlight.delete(running);
              wakeUp?.(); // a slot is free: claim again without waiting for the poll
            });
            inFlight.add(running);
          }
        }
        backoff.reset();
        if (claimed.length < free || free <= 0) {
          await nap(pollMs);
        }
      } catch (error) {
        if (stopping.signal.aborted) break; // a query cut short by shutdown is not a fault
        const delayMs = backoff.next();
        reportLoopFailure(deps.log, pushWorkerComponent, error, delayMs);
        await sleepUnlessAborted(delayMs, stopping.signal);
      }
    }
    // Attempts in flight end within their timeout; their outcomes are recorded before we return.
    await Promise.allSettled([...inFlight]);
  })().catch((error: unknown) => reportUnexpectedError(lineFaultLog(deps.log), pushWorkerComponent, error, { stopped: true }));
  return {
    async stop() {
      stopping.abort();
      await loop;
    },
  };
}
