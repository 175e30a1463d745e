import type { Clock } from '../../adapters/clock/clock.js';
import { sleepUnlessAborted } from '../../adapters/clock/sleep.js';
import { RetryBackoff } from '../../adapters/clock/backoff.js';
import { lineFaultLog, reportLoopFailure } from '../../adapters/observability/background.js';
import { reportUnexpectedError } from '../../adapters/observability/unexpected-errors.js';
import type { EventStore } from '../../adapters/event-store/port.js';
import type { SqlDatabase } from '../../adapters/sql/port.js';
import { checkLease, leaseRetryIntervalMs, migrateLeases, releaseLease, tryAcquireLease } from '../../projections/lease.js';
import type { OcpiClientOptions } from '../client/client.js';
import { createTokenSealer } from '../credentials/seal.js';
import { ocpiPushSources } from '../modules/index.js';
import { ourParty, type OcpiSettings } from '../plugin.js';
import { pushRetryDelayBaseMsDefault } from './deliver.js';
import { migrateOutbox } from './outbox.js';
import { catchUpProducer, pushProducerLeaseName, type ProducerDeps } from './producer.js';
import type { PushModule, PushSource } from './source.js';
import { startPushWorker, type PushWorkerDeps, type PushWorkerOptions } from './worker.js';

/**
 * The OCPI push pipeline of `csms serve`: the producer (one per cluster, by lease) turns events
 * into outbox rows; the worker (on every node) delivers them. Stopped before the event store closes.
 */

export const pushProducerIdlePollMs = 200;
/** While a read model is behind an event, the producer asks again this often. */
export const pushProducerProjectionWaitMs = 50;
/** After a failed pass (database away, a bug): retry from the checkpoint after this, doubling up to the max. */
export const pushProducerRetryDelayMinMs = 200;
export const pushProducerRetryDelayMaxMs = 30_000;
/** The label of the producer's unexpected errors. */
export const pushProducerComponent = 'ocpi-push-producer';

export interface OcpiPushDeps {
  readonly eventStore: EventStore;
  readonly db: SqlDatabase;
  readonly tenantId: string;
  readonly settings: OcpiSettings;
  readonly clock: Clock;
  readonly log: (message: string) => void;
  /** Timeouts and fetch for the calls to partners (tests shorten them). */
  readonly client?: Omit<OcpiClientOptions, 'token' | 'correlationId' | 'routing'>;
  readonly sources?: readonly PushSource[];
  /** First retry delay, doubling up to 10 min (tests: 200 ms). */
  readonly retryDelayBaseMs?: number;
}

export interface OcpiPushOptions extends Omit<PushWorkerOptions, 'only' | 'onAttempt'> {
  readonly owner: string;
  /** Producer idle poll (tests shorten it). */
  readonly producerPollMs?: number;
}

/** Worker dependencies from the pipeline's (also for `csms ocpi sync --now`). */
export function pushWorkerDeps(deps: OcpiPushDeps): PushWorkerDeps {
  const sources = deps.sources ?? ocpiPushSources;
  return {
    db: deps.db,
    tenantId: deps.tenantId,
    us: ourParty(deps.settings),
    clock: deps.clock,
    sources: new Map<PushModule, PushSource>(sources.map((source) => [source.module, source])),
    client: deps.client ?? {},
    retryDelayBaseMs: deps.retryDelayBaseMs ?? pushRetryDelayBaseMsDefault,
    sealer: createTokenSealer(deps.settings.secret),
    log: deps.log,
  };
}

export function startOcpiPush(deps: OcpiPushDeps, options: OcpiPushOptions): { stop(): Promise<void> } {
  const stopping = new AbortController();
  const workerDeps = pushWorkerDeps(deps);
  const producerDeps: ProducerDeps = {
    eventStore: deps.eventStore,
    db: deps.db,
    tenantId: deps.tenantId,
    sealer: workerDeps.sealer,
    sources: deps.sources ?? ocpiPushSources,
    clock: deps.clock,
  };
  let worker: { stop(): Promise<void> } | null = null;
  const producer = (async () => {
    const backoff = new RetryBackoff(pushProducerRetryDelayMinMs, pushProducerRetryDelayMaxMs);
    let holding = false;
    while (!stopping.signal.aborted) {
      try {
        // Set up inside the loop: a database that is away at start delays pushes, never stops them.
        if (worker === null) {
          await Promise.all([migrateLeases(deps.db), migrateOutbox(deps.db)]);
          if (stopping.signal.aborted) break;
          worker = startPushWorker(workerDeps, options);
        }
        // No source, nothing to produce (the worker still delivers `csms ocpi sync` pushes).
        if (producerDeps.sources.length === 0) break;
        if (!holding) {
          holding = await tryAcquireLease(deps.db, pushProducerLeaseName, options.owner);
          if (!holding) {
            await sleepUnlessAborted(leaseRetryIntervalMs, stopping.signal);
            continue;
          }
        }
        const lease = await deps.db.transaction((tx) => checkLease(tx, pushProducerLeaseName, options.owner));
        if (lease !== 'held') {
          holding = false;
          continue;
        }
        const { waitingForProjections } = await catchUpProducer(producerDeps, options.owner);
        backoff.reset();
        await sleepUnlessAborted(waitingForProjections ? pushProducerProjectionWaitMs : (options.producerPollMs ?? pushProducerIdlePollMs), stopping.signal);
      } catch (error) {
        if (stopping.signal.aborted) break; // a query cut short by shutdown is not a fault
        const delayMs = backoff.next();
        reportLoopFailure(deps.log, pushProducerComponent, error, delayMs);
        holding = false; // re-take the lease (it may have expired meanwhile) and resume from the checkpoint
        await sleepUnlessAborted(delayMs, stopping.signal);
      }
    }
    if (holding) await releaseLease(deps.db, pushProducerLeaseName, options.owner).catch(() => {});
  })().catch((error: unknown) => reportUnexpectedError(lineFaultLog(deps.log), pushProducerComponent, error, { stopped: true }));
  return {
    async stop() {
      stopping.abort();
      await producer;
      await (worker as { stop(): Promise<void> } | null)?.stop();
    },
  };
}
