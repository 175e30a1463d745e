import { comparePositions, type EventStore, type Position, type RecordedEvent } from '../adapters/event-store/port.js';
import type { SqlDatabase } from '../adapters/sql/port.js';
import { applyPage } from './apply.js';
import { checkLease, handoverRequested, leaseRetryIntervalMs, releaseLease, tryAcquireLease } from './lease.js';
import type { Projection } from './projection.js';
import { liveSchemaName, readState } from './schema.js';
import { sleepUnlessAborted } from '../adapters/clock/sleep.js';
import { RetryBackoff } from '../adapters/clock/backoff.js';
import { lineFaultLog, reportLoopFailure } from '../adapters/observability/background.js';
import { reportUnexpectedError } from '../adapters/observability/unexpected-errors.js';

/** Events per live batch transaction: short, because a long writing transaction holds back
 * pg_snapshot_xmin and with it every reader of the Postgres event store. */
export const runnerBatchSizeDefault = 1_000;
/** How often an idle runner looks for new events and re-checks its lease (handover requests). */
export const runnerIdleCheckIntervalMs = 1_000;
/** Latency of an idle read model: how often it asks the store for events after its checkpoint. */
export const runnerIdlePollIntervalMs = 100;
/**
 * An idle runner also looks for a handover request every this many polls (a primary-key read),
 * not only at its renewal: `projections rebuild --all` and `verify` take the leases one after
 * another, and waiting a whole idle period for each made them ~9 s slower with a server running.
 */
export const runnerHandoverCheckEveryPolls = 2;
/**
 * After a failed pass (database away, a bug in a projection): wait, then retry from the stored
 * checkpoint, doubling up to the max. The cap bounds how long a read model stays behind after
 * PostgreSQL is back; the doubling keeps a broken projection from spinning.
 */
export const runnerRetryDelayMinMs = 200;
export const runnerRetryDelayMaxMs = 30_000;

export interface RunnerOptions {
  readonly owner: string;
  readonly batchSize: number;
  readonly log: (message: string) => void;
  /** Called with the lease held when the live schema's version differs from the code's. */
  readonly rebuildStale?: () => Promise<void>;
}

const sleep = sleepUnlessAborted;

/**
 * Keeps one projection's live schema caught up: holds the lease, reads $all in pages after the
 * stored checkpoint (the next page is read while the current one is applied), applies each page
 * and moves the checkpoint in one transaction. A runner without the lease only waits for it.
 */
export class ProjectionRunner {
  private readonly stopping = new AbortController();
  private readonly schema: string;
  private checkpoint: Position | null = null;
  private holding = false;
  private progressWaiters = new Set<() => void>();
  private loop: Promise<void> | undefined;

  constructor(
    private readonly store: EventStore,
    private readonly db: SqlDatabase,
    readonly projection: Projection,
    private readonly options: RunnerOptions,
  ) {
    this.schema = liveSchemaName(projection.name);
  }

  start(): void {
    // run() catches every failure of a pass; reaching this catch is a bug in the loop itself.
    this.loop ??= this.run().catch((error: unknown) => reportUnexpectedError(lineFaultLog(this.options.log), this.component, error, { stopped: true }));
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    this.wakeWaiters();
    await this.loop;
    if (this.holding) await releaseLease(this.db, this.projection.name, this.options.owner).catch(() => {});
    this.holding = false;
  }

  /** Resolves once the live checkpoint (whoever applies it) is at or past `head`. */
  async caughtUpTo(head: Position | null): Promise<void> {
    if (head === null) return;
    while (!this.stopping.signal.aborted) {
      const at = this.holding ? this.checkpoint : (await readState(this.db, this.schema)).checkpoint;
      if (at !== null && comparePositions(at, head) >= 0) return;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, runnerIdleCheckIntervalMs / 10);
        this.progressWaiters.add(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  private wakeWaiters(): void {
    const waiters = this.progressWaiters;
    this.progressWaiters = new Set();
    for (const wake of waiters) wake();
  }

  /** The label of this runner's unexpected errors (bounded: one per projection). */
  get component(): string {
    return `projection-runner:${this.projection.name}`;
  }

  private async run(): Promise<void> {
    const signal = this.stopping.signal;
    const backoff = new RetryBackoff(runnerRetryDelayMinMs, runnerRetryDelayMaxMs);
    while (!signal.aborted) {
      try {
        if (!this.holding) {
          if (!(await tryAcquireLease(this.db, this.projection.name, this.options.owner))) {
            await sleep(leaseRetryIntervalMs, signal);
            continue;
          }
          this.holding = true;
          const state = await readState(this.db, this.schema);
          if (state.version !== this.projection.version && this.options.rebuildStale) {
            this.options.log(`projection ${this.projection.name}: live schema is version ${state.version}, code is ${this.projection.version}: rebuilding`);
            await this.options.rebuildStale();
            continue; // re-read the checkpoint of the swapped-in schema
          }
          this.checkpoint = state.checkpoint;
        }
        await this.catchUp(signal);
        backoff.reset();
        if (this.holding) await this.idle(signal);
      } catch (error) {
        if (signal.aborted) break; // stopping: a query cut short by shutdown is not a fault
        const delayMs = backoff.next();
        reportLoopFailure(this.options.log, this.component, error, delayMs);
        // Re-take the lease and re-read the checkpoint: the failed batch changed neither, and the
        // lease may have expired meanwhile (then another node may hold it, and we stand by).
        this.holding = false;
        await sleep(delayMs, signal);
      }
    }
  }

  /** Applies pages until $all has nothing after the checkpoint, or the lease is gone. */
  private async catchUp(signal: AbortSignal): Promise<void> {
    const read = (after: Position | null) => this.store.readAll({ after: after ?? undefined, limit: this.options.batchSize });
    let page: RecordedEvent[] = await read(this.checkpoint);
    while (page.length > 0 && !signal.aborted) {
      // A full page means a backlog: overlap reading the next page with applying this one. A short
      // page means we are at the head while events trickle in: wait one idle poll before reading
      // again, so the next page gathers what arrived meanwhile. Without the wait each of the six
      // runners spun through a write transaction (lease, apply, checkpoint, fsync) per few events:
      // measured (test/bench/ocpp.ts csms, 1,000 stations, ~500 msg/s) Postgres spent ~1,500 µs
      // of CPU per OCPP message, most of it in these commits, not in the appends.
      const full = page.length >= this.options.batchSize;
      const from = page.at(-1)!.position;
      const next = full ? read(from) : sleep(runnerIdlePollIntervalMs, signal).then(() => read(from));
      next.catch(() => {}); // its error, if any, surfaces when awaited
      const outcome = await applyPage(this.db, this.projection, this.schema, this.checkpoint, page, this.options.owner);
      if (outcome.kind !== 'applied') {
        await next.catch(() => {});
        if (outcome.kind === 'checkpoint-moved') this.checkpoint = outcome.stored;
        else {
          this.holding = false;
          this.options.log(`projection ${this.projection.name}: ${outcome.kind}, ${this.options.owner} stops applying`);
        }
        return;
      }
      this.checkpoint = outcome.checkpoint;
      this.wakeWaiters();
      page = await next;
    }
  }

  /** Waits for new events, renewing the lease; returns early when a handover is asked for. */
  private async idle(signal: AbortSignal): Promise<void> {
    const lease = await this.db.transaction((tx) => checkLease(tx, this.projection.name, this.options.owner));
    if (lease !== 'held') {
      this.holding = false;
      this.options.log(`projection ${this.projection.name}: lease ${lease}, ${this.options.owner} stops applying`);
      return;
    }
    // Polling an indexed "anything after X?" query is cheap and needs no extra connection;
    // a subscription per idle period would open a LISTEN connection each time on pg.
    const until = Date.now() + runnerIdleCheckIntervalMs;
    for (let poll = 1; !signal.aborted && Date.now() < until; poll += 1) {
      const probe = await this.store.readAll({ after: this.checkpoint ?? undefined, limit: 1 });
      if (probe.length > 0) return;
      // Returning lets the next checkLease (in idle() or the batch) release the lease to the requester.
      if (poll % runnerHandoverCheckEveryPolls === 0 && (await handoverRequested(this.db, this.projection.name, this.options.owner))) return;
      await sleep(runnerIdlePollIntervalMs, signal);
    }
  }
}
