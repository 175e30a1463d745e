import { isIPv4, isIPv6 } from 'node:net';
import { invariant } from '../domain/shared/assert.js';

/**
 * Wrong-password throttling for station handshakes (issue 9, point 7). Every unverified password
 * costs one scrypt run (~50 ms of a thread-pool thread), so failures are counted per station id and
 * per source address, and a key past its allowance is blocked with an exponential backoff. The
 * authenticator (station-auth.ts) decides what a block refuses; this module only keeps the books.
 *
 * Memory is bounded: each map holds at most `throttleKeysMax` keys, the least recently failed
 * dropped first. Station-id keys only ever come from registered stations with a password (an
 * unknown id never reaches scrypt, so it never fails a password), so that map cannot be flooded
 * with made-up ids.
 */

/** Wrong passwords a station id may see before it is blocked (a station retrying an old password a few times stays unblocked). */
export const stationPasswordFailuresAllowed = 5;
/**
 * Wrong passwords from one address before it is blocked. Higher than per station: a whole site
 * often shares one address (a cellular router, carrier NAT), and one misconfigured station there
 * must not block the others quickly.
 */
export const addressPasswordFailuresAllowed = 20;
/** The first block lasts this long; each failure past the allowance doubles it. */
export const passwordFailureBackoffBaseMs = 1_000;
/** A block never lasts longer: a station whose id is being attacked gets a fresh chance at least this often. */
export const passwordFailureBackoffMaxMs = 5 * 60_000;
/** A key with no failure for this long after its block ended is forgotten (its allowance starts afresh). */
export const passwordFailureMemoryMs = 10 * 60_000;
/** Keys remembered per map (station ids; addresses). ~150 bytes each, so ~3 MB for both at most. */
export const throttleKeysMax = 10_000;

interface FailureRecord {
  failures: number;
  lastFailureAtMs: number;
  blockedUntilMs: number;
}

/** Failure books for one kind of key (station id or address), bounded, with the clock passed in. */
export class FailureBook {
  private readonly records = new Map<string, FailureRecord>();

  constructor(private readonly failuresAllowed: number) {
    invariant(failuresAllowed >= 1, 'a failure allowance of at least 1');
  }

  /** Counts one failure; returns how long the key is now blocked for (0: not blocked). */
  recordFailure(key: string, nowMs: number): number {
    const record = this.current(key, nowMs) ?? { failures: 0, lastFailureAtMs: nowMs, blockedUntilMs: 0 };
    record.failures += 1;
    record.lastFailureAtMs = nowMs;
    if (record.failures >= this.failuresAllowed) {
      record.blockedUntilMs = nowMs + backoffMs(record.failures - this.failuresAllowed);
    }
    this.records.delete(key); // re-insert: Map order is the eviction order
    this.records.set(key, record);
    while (this.records.size > throttleKeysMax) this.records.delete(this.records.keys().next().value as string);
    return Math.max(0, record.blockedUntilMs - nowMs);
  }

  /** Failures remembered for the key (0 when it is clean or forgotten). */
  failures(key: string, nowMs: number): number {
    return this.current(key, nowMs)?.failures ?? 0;
  }

  /** Milliseconds the key stays blocked; 0 when it is not. */
  blockedForMs(key: string, nowMs: number): number {
    const record = this.current(key, nowMs);
    return record ? Math.max(0, record.blockedUntilMs - nowMs) : 0;
  }

  size(): number {
    return this.records.size;
  }

  private current(key: string, nowMs: number): FailureRecord | undefined {
    const record = this.records.get(key);
    if (record === undefined) return undefined;
    if (nowMs - Math.max(record.lastFailureAtMs, record.blockedUntilMs) > passwordFailureMemoryMs) {
      this.records.delete(key);
      return undefined;
    }
    return record;
  }
}

/** Block length after `excess` failures past the allowance: 1 s, 2 s, 4 s... capped. */
export function backoffMs(excess: number): number {
  invariant(excess >= 0, 'backoff for a key past its allowance');
  return Math.min(passwordFailureBackoffMaxMs, passwordFailureBackoffBaseMs * 2 ** Math.min(excess, 30));
}

/**
 * The throttling key of a source address: IPv4 as is (an IPv4-mapped IPv6 address as its IPv4
 * form), IPv6 by its /64 prefix, since one subscriber usually holds a whole /64 and could
 * otherwise take a fresh address per attempt.
 */
export function addressKey(address: string | undefined): string {
  if (address === undefined || address === '') return 'unknown';
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1]!;
  if (isIPv4(address)) return address;
  if (!isIPv6(address)) return address;
  const [head = '', tail] = address.split('%', 1)[0]!.split('::');
  const headGroups = head === '' ? [] : head.split(':');
  const tailGroups = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = tail === undefined ? headGroups : [...headGroups, ...Array<string>(8 - headGroups.length - tailGroups.length).fill('0'), ...tailGroups];
  return `${groups.slice(0, 4).map((group) => group.toLowerCase().replace(/^0+(?=.)/, '')).join(':')}::/64`;
}

/**
 * Admissions per key in fixed windows: `take` counts one and says how long until the key may be
 * admitted again (0: admitted now). Bounded like the failure books: `throttleKeysMax` keys, the
 * least recently admitted dropped first (a dropped key starts afresh, which only errs on letting in).
 */
export class AdmissionWindows {
  private readonly windows = new Map<string, { startedAtMs: number; admitted: number }>();

  constructor(
    private readonly admittedMax: number,
    private readonly windowMs: number,
  ) {
    invariant(admittedMax >= 1 && windowMs > 0, 'a window admits at least one');
  }

  take(key: string, nowMs: number): number {
    const current = this.windows.get(key);
    const window = current !== undefined && nowMs - current.startedAtMs < this.windowMs ? current : { startedAtMs: nowMs, admitted: 0 };
    if (window.admitted >= this.admittedMax) return window.startedAtMs + this.windowMs - nowMs;
    window.admitted += 1;
    this.windows.delete(key); // re-insert: Map order is the eviction order
    this.windows.set(key, window);
    while (this.windows.size > throttleKeysMax) this.windows.delete(this.windows.keys().next().value as string);
    return 0;
  }

  size(): number {
    return this.windows.size;
  }
}

/**
 * A bounded work queue run `concurrentMax` at a time, always starting the waiting job of the lowest
 * tier (FIFO within a tier). Tiers and admission are asked again when a job is about to start, not
 * when it was queued: a key that failed or got blocked meanwhile is demoted or refused then, without
 * running its work.
 */
export class TieredWorkQueue {
  private runningCount = 0;
  private readonly waitingJobs: { tier: () => number; start: () => void; refuse: () => boolean }[] = [];

  constructor(
    private readonly concurrentMax: number,
    private readonly queuedMax: number,
    private readonly whenFull: () => Error,
  ) {
    invariant(concurrentMax >= 1 && queuedMax >= 0, 'a work queue runs at least one job');
  }

  /**
   * Runs `work` when a slot is free. `refusal` is checked right before it starts: an error there
   * rejects the job without running it. Throws `whenFull()` at once when the queue is full.
   */
  submit<T>(tier: () => number, refusal: () => Error | null, work: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const start = () => {
        this.runningCount += 1;
        work()
          .then(resolve, reject)
          .finally(() => {
            this.runningCount -= 1;
            this.pump();
          });
      };
      const refuse = () => {
        const error = refusal();
        if (error) reject(error);
        return error !== null;
      };
      if (this.runningCount < this.concurrentMax && this.waitingJobs.length === 0) {
        if (!refuse()) start();
        return;
      }
      if (this.waitingJobs.length >= this.queuedMax) return reject(this.whenFull());
      this.waitingJobs.push({ tier, start, refuse });
    });
  }

  running(): number {
    return this.runningCount;
  }

  waiting(): number {
    return this.waitingJobs.length;
  }

  private pump(): void {
    while (this.runningCount < this.concurrentMax && this.waitingJobs.length > 0) {
      let best = 0;
      let bestTier = Number.POSITIVE_INFINITY;
      this.waitingJobs.forEach((job, index) => {
        const tier = job.tier();
        if (tier < bestTier) [best, bestTier] = [index, tier];
      });
      const [job] = this.waitingJobs.splice(best, 1);
      if (!job!.refuse()) job!.start();
    }
  }
}
