/**
 * Is this error "the database is not there right now" (restart, failover, a terminated backend,
 * the network), as opposed to a refusal or a bug? Background loops retry both with backoff, but
 * only the others are unexpected: a PostgreSQL restart is an event the system is built to ride
 * through, not a fault to count (issue 9, point 2).
 */

/** Node socket errors of a connection that failed or broke. */
const unreachableErrorCodes = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);
/**
 * SQLSTATEs of a server going away or not yet back: class 08 (connection exception), 57P01
 * admin_shutdown (fast stop, pg_terminate_backend), 57P02 crash_shutdown (immediate stop),
 * 57P03 cannot_connect_now (starting up, recovering), 53300 too_many_connections.
 */
const unavailableSqlStates = new Set(['57P01', '57P02', '57P03', '53300']);
/** pg reports a socket that closed under it, and a connect timeout, only by message. */
const unavailableMessages = [/^Connection terminated/, /timeout exceeded when trying to connect/i, /Client has encountered a connection error and is not queryable/];
/** How deep a chain of `cause`s is followed (a wrapped error wraps once or twice). */
const causeDepthMax = 5;

export function isDatabaseUnavailable(error: unknown): boolean {
  let current: unknown = error;
  for (let depth = 0; depth < causeDepthMax && current instanceof Error; depth += 1) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && (unreachableErrorCodes.has(code) || unavailableSqlStates.has(code) || code.startsWith('08'))) return true;
    const message = current.message;
    if (unavailableMessages.some((pattern) => pattern.test(message))) return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}
