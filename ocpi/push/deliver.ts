import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { Clock } from '../../adapters/clock/clock.js';
import type { SqlExecutor } from '../../adapters/sql/port.js';
import { ocpiRequest, OcpiClientError, type OcpiClientOptions } from '../client/client.js';
import { partnerEndpointUrl, routingTo, type PartnerConnection } from '../client/partners.js';
import type { OcpiParty } from '../transport/headers.js';
import type { AttemptRecord, ClaimedPush, PushOutcome } from './claims.js';
import { partnerHolds } from './outbox.js';
import type { PushModule, PushSource } from './source.js';

/**
 * One delivery attempt of one claimed push: build the request from the read models as they are
 * now, send it once (the outbox does its own retries), and classify the answer: delivered,
 * retry later (the partner or the network failed), or rejected (the partner refused what we
 * sent: retrying the same would be refused again).
 */

/** Per attempt; a slow partner holds one of its own two slots this long, nobody else's. */
export const pushRequestTimeoutMsDefault = 10_000;
export const pushRetryDelayBaseMsDefault = 1_000;
export const pushRetryDelayMaxMs = 10 * 60_000;
/** A success body read back for its status code only; larger ones are not parsed twice. */
const statusPeekBytesMax = 64 * 1024;
/**
 * 2003 (spec: Unknown Location; eMSPs answer it for any object they do not have) to a part of an
 * object (PushRequest.partOf): the partner does not hold the whole, whatever we recorded (it lost
 * it, or a Session PUT of ours never reached it). Retrying the part would be refused again; the
 * hold is forgotten and the next attempt, due at once, sends the whole. At most one such turn per
 * attempt: the whole carries no partOf, so a 2003 to it is an ordinary refusal.
 */
const unknownObjectStatus = 2003;

export interface DeliverDeps {
  readonly db: SqlExecutor;
  readonly tenantId: string;
  readonly us: OcpiParty;
  readonly clock: Clock;
  readonly sources: ReadonlyMap<PushModule, PushSource>;
  readonly client: Omit<OcpiClientOptions, 'token' | 'correlationId' | 'routing'>;
  readonly retryDelayBaseMs: number;
}

/** Exponential, capped, jittered (half fixed, half random) so a recovering partner is not hit by every push at once. */
export function retryDelayMs(attempts: number, baseMs: number, random = Math.random()): number {
  const exponent = Math.min(Math.max(attempts - 1, 0), 30);
  const delay = Math.min(pushRetryDelayMaxMs, baseMs * 2 ** exponent);
  return delay / 2 + random * (delay / 2);
}

export interface DeliveryResult {
  readonly attempt: AttemptRecord | null;
  readonly outcome: PushOutcome;
}

export async function deliverPush(deps: DeliverDeps, push: ClaimedPush, connection: PartnerConnection | null): Promise<DeliveryResult> {
  const retry = (error: string): PushOutcome => ({
    kind: 'retry',
    error,
    nextAttemptAt: new Date(deps.clock.now().getTime() + retryDelayMs(push.attempts + 1, deps.retryDelayBaseMs)),
  });
  if (connection === null) return { attempt: null, outcome: { kind: 'rejected', error: `partner ${push.partnerId} is not registered` } };
  const endpoint = partnerEndpointUrl(connection, push.module, 'RECEIVER');
  if (endpoint === null) return { attempt: null, outcome: { kind: 'rejected', error: `partner ${push.partnerId} has no ${push.module} RECEIVER endpoint` } };
  const source = deps.sources.get(push.module);
  if (source === undefined) return { attempt: null, outcome: { kind: 'rejected', error: `no push source for module ${push.module}` } };
  let request;
  try {
    request = await source.build(
      {
        db: deps.db,
        tenantId: deps.tenantId,
        us: deps.us,
        partner: { partnerId: connection.partnerId, parties: connection.roles },
        now: deps.clock.now(),
        holds: (objectId) => partnerHolds(deps.db, { tenantId: deps.tenantId, partnerId: connection.partnerId, module: push.module, objectId }),
      },
      push.objectKey,
      push.change,
    );
  } catch (error) {
    // A read model query failing is an outage of ours, not the partner's refusal.
    return { attempt: null, outcome: retry(`build failed: ${(error as Error).message}`) };
  }
  if (request === null) return { attempt: null, outcome: { kind: 'delivered', responseLocation: null, note: 'nothing to send' } };

  const url = `${endpoint.replace(/\/+$/, '')}${request.path}`;
  const correlationId = randomUUID();
  let requestId: string | null = null;
  let successStatus: number | null = null;
  const baseFetch = deps.client.fetch ?? fetch;
  // ocpiRequest makes the X-Request-ID and reads the envelope; we keep both for the audit log.
  const recordingFetch: typeof fetch = async (input, init) => {
    requestId = new Headers(init?.headers).get('x-request-id');
    const response = await baseFetch(input, init);
    const length = Number(response.headers.get('content-length') ?? '0');
    if (response.ok && length <= statusPeekBytesMax) {
      successStatus = await response
        .clone()
        .json()
        .then((body: unknown) => {
          const code = (body as { status_code?: unknown } | null)?.status_code;
          return typeof code === 'number' ? code : null;
        })
        .catch(() => null);
    }
    return response;
  };
  const at = deps.clock.now();
  const started = performance.now();
  const attempt = (fields: Partial<AttemptRecord>): AttemptRecord => ({
    at,
    method: request.method,
    url,
    httpStatus: null,
    ocpiStatus: null,
    requestId,
    correlationId,
    durationMs: performance.now() - started,
    error: null,
    ...fields,
  });
  try {
    const response = await ocpiRequest(
      url,
      { method: request.method, ...(request.body === undefined ? {} : { body: request.body }), data: z.unknown() },
      {
        timeoutMs: pushRequestTimeoutMsDefault,
        ...deps.client,
        fetch: recordingFetch,
        token: connection.token,
        correlationId,
        attemptsMax: 1,
        ...withRouting(routingTo(connection, deps.us, 'EMSP')),
      },
    );
    // CDRs: the partner answers POST with where it keeps the CDR (spec 10.2.2), needed to GET it back.
    const location = push.module === 'cdrs' ? response.headers.get('location') : null;
    return {
      attempt: attempt({ httpStatus: response.httpStatus, ocpiStatus: successStatus }),
      outcome: { kind: 'delivered', responseLocation: location, note: null, establishes: request.establishes ?? null, releases: request.releases ?? null },
    };
  } catch (error) {
    if (!(error instanceof OcpiClientError)) throw error;
    const record = attempt({ httpStatus: error.details.httpStatus ?? null, ocpiStatus: error.details.statusCode ?? null, error: error.message });
    if (request.partOf !== undefined && error.details.statusCode === unknownObjectStatus) {
      return { attempt: record, outcome: { kind: 'retry', error: error.message, nextAttemptAt: deps.clock.now(), forgets: request.partOf } };
    }
    if (!isRefusal(error)) return { attempt: record, outcome: retry(error.message) };
    return { attempt: record, outcome: { kind: 'rejected', error: error.message, releases: request.releases ?? null } };
  }
}

const withRouting = (routing: ReturnType<typeof routingTo>) => (routing === undefined ? {} : { routing });

/**
 * The partner refused what we sent (OCPI 2xxx client errors, or an HTTP 4xx other than 408/429):
 * the same request would be refused again. Everything else (5xx, 429, timeouts, unreachable,
 * malformed answers, OCPI 3xxx server errors) may pass later.
 */
function isRefusal(error: OcpiClientError): boolean {
  const http = error.details.httpStatus;
  if (http !== undefined && (http >= 500 || http === 429 || http === 408)) return false;
  const status = error.details.statusCode;
  if (status !== undefined) return status >= 2000 && status < 3000;
  return error.kind === 'http' && http !== undefined && http >= 400 && http < 500;
}
