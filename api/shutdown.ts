/**
 * A graceful shutdown as one explicit sequence of named steps, each with its own deadline
 * (issue 9, point 3). The order is the point: every step stops a producer of work for the
 * steps after it, so nothing is left using what a later step closes.
 *
 *   1. stop accepting      server.close(): no new stations, requests or partners; in-flight requests finish
 *   2. drain the bus       commands already accepted (the closed stations' disconnects) are written
 *   3. stop workers        projection runners, CDR issuer, OCPI push: their current batch commits with its checkpoint
 *   4. close the store     the group commit writes what is queued; subscriptions and LISTEN end
 *   5. close the database  the pool ends (and the embedded lock is released)
 *
 * A step that fails or outlives its deadline is reported and the sequence goes on: the later
 * steps still release what they hold, and whatever was not finished is redone at the next start
 * (checkpoints, at-least-once pushes, idempotent commands).
 */

export interface ShutdownStep {
  readonly name: string;
  readonly deadlineMs: number;
  run(): Promise<void>;
}

export type ShutdownOutcome = 'done' | 'failed' | 'timed-out';

export interface ShutdownStepReport {
  readonly name: string;
  readonly outcome: ShutdownOutcome;
  readonly durationMs: number;
  readonly error?: unknown;
}

/** The longest the whole sequence can take: the sum of its deadlines. */
export function shutdownDeadlineMs(steps: readonly ShutdownStep[]): number {
  return steps.reduce((sum, step) => sum + step.deadlineMs, 0);
}

/** Runs the steps in order, each bounded by its deadline; never throws. */
export async function runShutdown(steps: readonly ShutdownStep[], log: (line: string) => void): Promise<ShutdownStepReport[]> {
  const reports: ShutdownStepReport[] = [];
  for (const step of steps) {
    if (!(step.deadlineMs > 0)) throw new RangeError(`shutdown step ${step.name}: deadline must be positive, got ${step.deadlineMs}`);
    const started = Date.now();
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timed-out'>((resolve) => {
      timer = setTimeout(() => resolve('timed-out'), step.deadlineMs);
    });
    let report: ShutdownStepReport;
    try {
      const running = step.run();
      // A step left behind at its deadline may still fail later: that must not become an unhandled rejection.
      running.catch(() => {});
      const outcome = await Promise.race([running.then(() => 'done' as const), timedOut]);
      report = { name: step.name, outcome, durationMs: Date.now() - started };
      if (outcome === 'timed-out') log(`shutdown: ${step.name} did not finish within ${step.deadlineMs} ms; going on`);
    } catch (error) {
      report = { name: step.name, outcome: 'failed', durationMs: Date.now() - started, error };
      log(`shutdown: ${step.name} failed; going on: ${error instanceof Error ? error.message : String(error)}`);
    } finally {
      clearTimeout(timer);
    }
    reports.push(report);
  }
  return reports;
}

/** Deadlines of `csms serve`'s steps, each with the reason for its size. */
export const serveShutdownDeadlinesMs = {
  /** The OCPP gateway gives stations 1 s to close, then cuts them; HTTP requests in flight are short. */
  stopAccepting: 5_000,
  /** Commands queued by the closing connections (disconnects): a few round trips each. */
  drainCommandBus: 5_000,
  /** A runner's batch commits in well under a second; an OCPI push in flight may wait for its 10 s request timeout. */
  stopWorkers: 12_000,
  /** The group commit writes what is queued (at most a few groups, each one transaction). */
  closeEventStore: 5_000,
  closeDatabase: 3_000,
} as const;

/** How often the drain looks at the bus, and how many quiet looks in a row mean "drained". */
const drainPollMs = 50;
const drainQuietChecks = 2;

/** Waits until the bus has had nothing pending for two looks in a row (a socket close event may queue a command just after one). */
export async function drainCommandBus(bus: { pending(): number }, deadlineMs: number): Promise<void> {
  const until = Date.now() + deadlineMs;
  let quiet = 0;
  // Its own deadline too: a loop left behind by the step's deadline would poll forever.
  while (quiet < drainQuietChecks && Date.now() < until) {
    quiet = bus.pending() === 0 ? quiet + 1 : 0;
    await new Promise((resolve) => setTimeout(resolve, drainPollMs));
  }
}

export interface ServeShutdownParts {
  /** Stops accepting and finishes in-flight requests (fastify close, which closes the OCPP gateway). */
  readonly server: { close(): Promise<unknown> };
  readonly bus: { pending(): number };
  /** Stops every background worker; each finishes its current batch, whose checkpoint commits with it. */
  readonly stopWorkers: () => Promise<void>;
  readonly closeEventStore: () => Promise<void>;
  /** Ends the pool and releases the embedded lock. */
  readonly closeDatabase: () => Promise<void>;
}

/** The sequence `csms serve` runs on SIGINT/SIGTERM (see the top of this file for why this order). */
export function serveShutdownSteps(parts: ServeShutdownParts): ShutdownStep[] {
  const deadlines = serveShutdownDeadlinesMs;
  return [
    { name: 'stop accepting', deadlineMs: deadlines.stopAccepting, run: async () => void (await parts.server.close()) },
    // Closing stations records their disconnects through the bus after close() resolves; they
    // must land before the event store closes, or they are lost as errors.
    { name: 'drain the command bus', deadlineMs: deadlines.drainCommandBus, run: () => drainCommandBus(parts.bus, deadlines.drainCommandBus) },
    { name: 'stop workers', deadlineMs: deadlines.stopWorkers, run: parts.stopWorkers },
    { name: 'close the event store', deadlineMs: deadlines.closeEventStore, run: parts.closeEventStore },
    { name: 'close the database', deadlineMs: deadlines.closeDatabase, run: parts.closeDatabase },
  ];
}
