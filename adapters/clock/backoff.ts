/**
 * The one retry delay of every loop that waits after a failure (projection runners, CDR issuer,
 * OCPI push producer and worker, a LISTEN connection reopening): each names its own min and max.
 */

/** A doubling delay between `minMs` and `maxMs`; `reset()` after a pass that worked. */
export class RetryBackoff {
  private delayMs: number;

  constructor(
    private readonly minMs: number,
    private readonly maxMs: number,
  ) {
    if (!(minMs > 0 && maxMs >= minMs)) throw new RangeError(`backoff needs 0 < min <= max, got ${minMs}..${maxMs}`);
    this.delayMs = minMs;
  }

  /** The delay to wait now; the next one is twice as long, up to the max. */
  next(): number {
    const delay = this.delayMs;
    this.delayMs = Math.min(this.delayMs * 2, this.maxMs);
    return delay;
  }

  reset(): void {
    this.delayMs = this.minMs;
  }
}
