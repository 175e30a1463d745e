import type { EventStore, Position, RecordedEvent } from '../../adapters/event-store/port.js';
import type { SqlDatabase } from '../../adapters/sql/port.js';
import { IllegalStateError, InvalidCommandError } from '../../domain/shared/errors.js';
import { checkLease, leaseRetryIntervalMs, migrateLeases, releaseLease, tryAcquireLease } from '../../projections/lease.js';
import type { CommandBus } from '../bus.js';
import type { BillingConfig, CdrSiteLookup } from './billing-config.js';
import { billTransaction, completeCredit, type BillingDeps } from './billing-steps.js';
import { memoryCheckpoint, postgresCheckpoint, type CheckpointStore } from './checkpoint.js';
import { sleepUnlessAborted } from '../../adapters/clock/sleep.js';
import { RetryBackoff } from '../../adapters/clock/backoff.js';
import { lineFaultLog, reportLoopFailure } from '../../adapters/observability/background.js';
import { reportUnexpectedError } from '../../adapters/observability/unexpected-errors.js';
import { Counter, Registry } from 'prom-client';

/**
 * The CDR process manager: a catch-up subscriber to $all with its own checkpoint. On
 * TransactionEnded it prices the session and issues the CDR, then posts the journal entry; on
 * CdrCredited it issues the credit CDR and posts the reversal (billing-steps.ts).
 *
 * Delivery is at-least-once: the checkpoint moves after a page's commands succeed, so a crash
 * replays the page, and every command's id is deterministic (`cdr-for:<transactionId>`,
 * `ledger-for:<entryId>`...), so a replay appends nothing. It is not a projection: it writes
 * events through the command bus, which on PGlite could not run inside a projection's transaction.
 */

export const cdrIssuerName = 'cdr_issuer';
/** The lease name, beside the projections' leases (one issuer across the cluster). */
export const cdrIssuerLeaseName = 'process:cdr_issuer';
/** Events read per page. Each handled one costs a few stream reads and commands, so pages are small. */
export const cdrIssuerBatchSize = 200;
export const cdrIssuerIdlePollMs = 200;
/** After a failed pass (database away, a bug): retry from the checkpoint after this, doubling up to the max. */
export const cdrIssuerRetryDelayMinMs = 200;
export const cdrIssuerRetryDelayMaxMs = 30_000;
/** The label of the issuer's unexpected errors. */
export const cdrIssuerComponent = 'cdr-issuer';

const handledTypes = new Set(['TransactionEnded', 'CdrCredited']);

/** The issuer's own counters, exposed by GET /metrics (api/plugins/metrics.ts). */
export const cdrIssuerMetricsRegistry = new Registry();

/**
 * Billing events a refusal stopped (a CDR not issued, or its entry not posted): each is also a row
 * of process_cdr_issuer.failures, with the message. Labelled by the two handled event types only.
 */
export const cdrIssuerRefusals = new Counter({
  name: 'csms_cdr_issuer_refusals_total',
  help: 'Billing events the CDR issuer recorded as failures because a command was refused (CDR not issued or not posted to the ledger), by event type',
  labelNames: ['event_type'],
  registers: [cdrIssuerMetricsRegistry],
});

export interface CdrIssuerDeps {
  readonly eventStore: EventStore;
  readonly bus: CommandBus;
  readonly config?: BillingConfig;
  readonly siteOf?: CdrSiteLookup;
  readonly log?: (message: string) => void;
}

/** A refusal by a decider or the tariff engine: the same input will be refused again, retrying is useless. */
function isRefusal(error: unknown): boolean {
  return error instanceof InvalidCommandError || error instanceof IllegalStateError;
}

export async function handleBillingEvent(deps: BillingDeps, event: RecordedEvent): Promise<void> {
  if (event.type === 'TransactionEnded') await billTransaction(deps, event);
  else if (event.type === 'CdrCredited') await completeCredit(deps, event);
}

/**
 * Applies every event after the checkpoint up to the head of $all, page by page. Returns the
 * number of events read. A refused session is recorded as a failure and skipped; any other error
 * (store or database down) propagates with the checkpoint left before the page.
 */
export async function catchUpCdrIssuer(deps: CdrIssuerDeps, checkpoint: CheckpointStore, batchSize = cdrIssuerBatchSize): Promise<number> {
  let at: Position | null = await checkpoint.load();
  let seen = 0;
  for (;;) {
    const page = await deps.eventStore.readAll({ after: at ?? undefined, limit: batchSize });
    if (page.length === 0) return seen;
    for (const event of page) {
      if (!handledTypes.has(event.type)) continue;
      try {
        await handleBillingEvent(deps, event);
      } catch (error) {
        if (!isRefusal(error)) throw error;
        const message = (error as Error).message;
        deps.log?.(`cdr issuer: ${event.type} ${event.streamId} refused, recorded as a failure: ${message}`);
        await checkpoint.recordFailure({ tenantId: event.metadata.tenantId, eventId: event.eventId, streamId: event.streamId, eventType: event.type, error: message });
        cdrIssuerRefusals.inc({ event_type: event.type });
      }
    }
    const last = page.at(-1)!.position;
    await checkpoint.save(at, last, page.length);
    at = last;
    seen += page.length;
  }
}

const sleep = sleepUnlessAborted;

/**
 * Runs the issuer until stopped: takes the lease (standby otherwise), catches up, polls for new
 * events, retries after errors with a doubling delay. For `csms serve`.
 */
export function startCdrIssuer(deps: CdrIssuerDeps & { readonly db: SqlDatabase }, options: { owner: string }): { stop(): Promise<void>; idle(): Promise<void> } {
  const stopping = new AbortController();
  const log = deps.log ?? (() => {});
  let holding = false;
  let caughtUp: Promise<void> = Promise.resolve();
  let markCaughtUp = () => {};
  const waitForCatchUp = () => {
    caughtUp = new Promise<void>((resolve) => (markCaughtUp = resolve));
  };
  waitForCatchUp();
  const loop = (async () => {
    const backoff = new RetryBackoff(cdrIssuerRetryDelayMinMs, cdrIssuerRetryDelayMaxMs);
    let checkpoint: CheckpointStore | null = null;
    while (!stopping.signal.aborted) {
      try {
        // Set up inside the loop: a database that is away at start delays billing, never stops it.
        if (checkpoint === null) {
          await migrateLeases(deps.db);
          checkpoint = await postgresCheckpoint(deps.db, cdrIssuerName);
        }
        if (!holding) {
          holding = await tryAcquireLease(deps.db, cdrIssuerLeaseName, options.owner);
          if (!holding) {
            await sleep(leaseRetryIntervalMs, stopping.signal);
            continue;
          }
        }
        const lease = await deps.db.transaction((tx) => checkLease(tx, cdrIssuerLeaseName, options.owner));
        if (lease !== 'held') {
          holding = false;
          continue;
        }
        const seen = await catchUpCdrIssuer(deps, checkpoint);
        backoff.reset();
        if (seen === 0) {
          markCaughtUp();
          waitForCatchUp();
        }
        // Caught up either way (catchUp returns at an empty page): wait before the next pass. Passing
        // straight on after one that saw events spun through a lease transaction, reads and a
        // checkpoint commit per few events under steady load (test/bench/ocpp.ts csms: Postgres CPU
        // per OCPP message ~1,500 µs, ten times a bare append).
        await sleep(cdrIssuerIdlePollMs, stopping.signal);
      } catch (error) {
        if (stopping.signal.aborted) break; // a query cut short by shutdown is not a fault
        const delayMs = backoff.next();
        reportLoopFailure(log, cdrIssuerComponent, error, delayMs);
        holding = false; // re-take the lease (it may have expired meanwhile) and resume from the checkpoint
        await sleep(delayMs, stopping.signal);
      }
    }
    if (holding) await releaseLease(deps.db, cdrIssuerLeaseName, options.owner).catch(() => {});
  })().catch((error: unknown) => reportUnexpectedError(lineFaultLog(log), cdrIssuerComponent, error, { stopped: true }));
  return {
    async stop() {
      stopping.abort();
      markCaughtUp();
      await loop;
    },
    /** Resolves at the next moment the issuer finds nothing new to handle. */
    idle: () => caughtUp,
  };
}

export { memoryCheckpoint, postgresCheckpoint };
