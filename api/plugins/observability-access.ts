import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';

/**
 * Who may read `/metrics` and the details of `/health` (issue 9, point 13): projection names, lags
 * and partner ids are not for anyone who can reach a public port.
 * - On the main listener: a `Bearer` token that is METRICS_TOKEN or ADMIN_API_TOKEN; with neither
 *   configured, clients on this machine (loopback) only — the same rule as the operator API.
 * - On the separate metrics listener (METRICS_PORT): its address is the boundary (an internal
 *   interface a Prometheus scrapes), so it is open, unless METRICS_TOKEN is set, which it then requires.
 */

export interface ObservabilityAccess {
  /** Bearer tokens accepted; empty: none configured. */
  readonly tokens: readonly string[];
  /** Without tokens: true lets everyone in (the metrics listener), false loopback clients only. */
  readonly openWithoutToken: boolean;
}

/** The main listener's default: no token configured, loopback only. */
export const loopbackOnlyAccess: ObservabilityAccess = { tokens: [], openWithoutToken: false };

export type AccessVerdict = { readonly granted: true } | { readonly granted: false; readonly status: 401 | 403; readonly message: string };

const loopbackAddresses = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1']);

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

/** Decides a request; the tokens are hashed once, and compared as digests so timing says nothing about them. */
export function observabilityAccessCheck(access: ObservabilityAccess): (request: FastifyRequest) => AccessVerdict {
  const expected = access.tokens.map(digest);
  return (request) => {
    if (expected.length === 0) {
      if (access.openWithoutToken || loopbackAddresses.has(request.socket.remoteAddress ?? '')) return { granted: true };
      return { granted: false, status: 403, message: 'no METRICS_TOKEN or ADMIN_API_TOKEN is configured: only clients on this machine may read this' };
    }
    const match = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '');
    if (!match) return { granted: false, status: 401, message: 'send Authorization: Bearer <METRICS_TOKEN>' };
    const presented = digest(match[1]!);
    // Every token is compared (no early exit), so the time taken does not say which one matched.
    const matches = expected.map((token) => timingSafeEqual(token, presented)).some(Boolean);
    return matches ? { granted: true } : { granted: false, status: 401, message: 'wrong token' };
  };
}
