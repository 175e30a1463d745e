import { isDatabaseUnavailable } from '../sql/errors.js';
import { reportUnexpectedError, type FaultLog } from './unexpected-errors.js';

/**
 * What every background loop of `csms serve` (projection runners, CDR issuer, OCPI push producer
 * and worker) does with an error: back off (RetryBackoff, adapters/clock/backoff.ts) and go on from
 * its checkpoint. The database being away is expected and told in one line; anything else is an unexpected error,
 * logged and counted in `csms_unexpected_errors_total{component}` (issue 9, point 4): one worker
 * must never stop, or take down, the others.
 */

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
