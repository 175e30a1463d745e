import { isDatabaseUnavailable } from '../sql/errors.js';
import { reportUnexpectedError, type FaultLog } from './unexpected-errors.js';

/**
 * What every background loop of `csms serve` (projection runners, CDR issuer, OCPI push producer
 * and worker) does with an error: back off (doubling, capped) and go on from its checkpoint. The
 * database being away is expected and told in one line; anything else is an unexpected error,
 * logged and counted in `csms_unexpected_errors_total{component}` (issue 9, point 4): one worker
 * must never stop, or take down, the others.
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

/** A FaultLog over a line logger (the CLI's stderr): the message, then the error's stack. */
export function lineFaultLog(log: (line: string) => void): FaultLog {
  return {
    error(object, message) {
      const { err, ...context } = object as { err?: unknown };
      const detail = err instanceof Error ? (err.stack ?? err.message) : String(err);
      const extra = Object.keys(context).length > 0 ? ` ${JSON.stringify(context)}` : '';
      log(`${message}${extra}: ${detail}`);
    },
  };
}

/** Tells one failed pass of a loop: a line when the database is away, the last line of defence otherwise. */
export function reportLoopFailure(log: (line: string) => void, component: string, error: unknown, retryInMs: number): void {
  if (isDatabaseUnavailable(error)) {
    log(`${component}: database unavailable, retrying in ${retryInMs} ms: ${error instanceof Error ? error.message : String(error)}`);
    return;
  }
  reportUnexpectedError(lineFaultLog(log), component, error, { retryInMs });
}
