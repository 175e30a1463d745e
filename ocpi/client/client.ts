import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { authorizationHeader } from '../transport/auth.js';
import { routingRequestHeaders, type OcpiRouting } from '../transport/headers.js';
import { nextLink } from '../transport/pagination.js';
import { envelopeSchema, OcpiStatus } from '../transport/status.js';

/**
 * A small OCPI HTTP client on Node's fetch: Authorization (Base64 token), X-Request-ID (new per
 * attempt) and X-Correlation-ID (one per logical call) on every request, a timeout per attempt,
 * bounded retries with jittered exponential backoff on 5xx, 429 and timeouts/network errors, the
 * envelope parsed with zod, and list GETs followed through `Link: rel="next"` up to a page limit.
 */

export const ocpiRequestTimeoutMsDefault = 10_000;
export const ocpiRequestAttemptsMax = 4;
export const ocpiRetryDelayBaseMs = 200;
export const ocpiRetryDelayMaxMs = 5_000;
/** Pages followed by one list GET: 100 pages of up to the server's X-Limit each. */
export const ocpiPagesMaxDefault = 100;
/** Largest response body we read; a partner answering more is broken or hostile. */
export const ocpiResponseBytesMax = 10 * 1024 * 1024;

export type OcpiClientFailure = 'unreachable' | 'timeout' | 'http' | 'envelope' | 'status' | 'too-many-pages';

export class OcpiClientError extends Error {
  override readonly name = 'OcpiClientError';
  constructor(
    readonly kind: OcpiClientFailure,
    message: string,
    readonly details: { readonly url: string; readonly httpStatus?: number; readonly statusCode?: number } ,
  ) {
    super(`${details.url}: ${message}`);
  }
}

export interface OcpiClientOptions {
  readonly token: string;
  readonly timeoutMs?: number;
  readonly attemptsMax?: number;
  readonly retryDelayBaseMs?: number;
  readonly correlationId?: string;
  /** Functional modules only (spec 4.1.8). */
  readonly routing?: OcpiRouting;
  readonly fetch?: typeof fetch;
}

export interface OcpiRequest<T extends z.ZodType> {
  readonly method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  readonly body?: unknown;
  /** Schema of `data` on success; z.unknown() when the answer carries none. */
  readonly data: T;
}

export interface OcpiResponse<T> {
  readonly data: T;
  readonly httpStatus: number;
  readonly headers: Headers;
  readonly statusMessage: string | null;
}

const retryableHttp = (status: number) => status >= 500 || status === 429;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function ocpiRequest<T extends z.ZodType>(url: string, request: OcpiRequest<T>, options: OcpiClientOptions): Promise<OcpiResponse<z.infer<T>>> {
  const attemptsMax = Math.min(options.attemptsMax ?? ocpiRequestAttemptsMax, ocpiRequestAttemptsMax);
  const correlationId = options.correlationId ?? randomUUID();
  const doFetch = options.fetch ?? fetch;
  let lastError: OcpiClientError | null = null;
  for (let attempt = 1; attempt <= attemptsMax; attempt += 1) {
    if (attempt > 1) {
      const backoff = Math.min(ocpiRetryDelayMaxMs, (options.retryDelayBaseMs ?? ocpiRetryDelayBaseMs) * 2 ** (attempt - 2));
      await sleep(backoff / 2 + Math.random() * (backoff / 2));
    }
    let response: Response;
    try {
      response = await doFetch(url, {
        method: request.method ?? 'GET',
        headers: {
          Authorization: authorizationHeader(options.token),
          'X-Request-ID': randomUUID(),
          'X-Correlation-ID': correlationId,
          Accept: 'application/json',
          ...(request.body === undefined ? {} : { 'Content-Type': 'application/json' }),
          ...(options.routing ? routingRequestHeaders(options.routing) : {}),
        },
        ...(request.body === undefined ? {} : { body: JSON.stringify(request.body) }),
        signal: AbortSignal.timeout(options.timeoutMs ?? ocpiRequestTimeoutMsDefault),
        redirect: 'error',
      });
    } catch (error) {
      const timedOut = (error as Error).name === 'TimeoutError' || (error as Error).name === 'AbortError';
      lastError = new OcpiClientError(timedOut ? 'timeout' : 'unreachable', timedOut ? 'timed out' : `cannot connect: ${(error as Error).message}`, { url });
      continue;
    }
    if (retryableHttp(response.status) && attempt < attemptsMax) {
      await response.body?.cancel().catch(() => {});
      lastError = new OcpiClientError('http', `HTTP ${response.status}`, { url, httpStatus: response.status });
      continue;
    }
    return readEnvelope(url, response, request.data);
  }
  throw lastError ?? new OcpiClientError('unreachable', 'no attempt made', { url });
}

async function readEnvelope<T extends z.ZodType>(url: string, response: Response, data: T): Promise<OcpiResponse<z.infer<T>>> {
  const length = Number(response.headers.get('content-length') ?? '0');
  if (length > ocpiResponseBytesMax) throw new OcpiClientError('http', `response of ${length} bytes is over ${ocpiResponseBytesMax}`, { url, httpStatus: response.status });
  const text = await response.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new OcpiClientError(response.ok ? 'envelope' : 'http', `HTTP ${response.status}, not JSON: ${text.slice(0, 200)}`, { url, httpStatus: response.status });
  }
  const envelope = envelopeSchema(z.unknown()).safeParse(json);
  if (!envelope.success) {
    throw new OcpiClientError(response.ok ? 'envelope' : 'http', `HTTP ${response.status}, not an OCPI response: ${z.prettifyError(envelope.error)}`, { url, httpStatus: response.status });
  }
  const { status_code: statusCode, status_message: statusMessage } = envelope.data;
  if (!response.ok || statusCode < OcpiStatus.success || statusCode >= 2000) {
    throw new OcpiClientError(response.ok ? 'status' : 'http', `HTTP ${response.status}, OCPI ${statusCode}: ${statusMessage ?? ''}`, { url, httpStatus: response.status, statusCode });
  }
  const parsed = data.safeParse(envelope.data.data);
  if (!parsed.success) throw new OcpiClientError('envelope', `unexpected data: ${z.prettifyError(parsed.error)}`, { url, httpStatus: response.status, statusCode });
  return { data: parsed.data, httpStatus: response.status, headers: response.headers, statusMessage: statusMessage ?? null };
}

/** Every object of a paginated list GET, following `Link: rel="next"`, at most `pagesMax` pages. */
export async function ocpiGetAll<T extends z.ZodType>(url: string, item: T, options: OcpiClientOptions & { readonly pagesMax?: number }): Promise<z.infer<T>[]> {
  const pagesMax = options.pagesMax ?? ocpiPagesMaxDefault;
  const correlationId = options.correlationId ?? randomUUID();
  const all: z.infer<T>[] = [];
  let next: string | null = url;
  for (let page = 0; next !== null; page += 1) {
    if (page >= pagesMax) throw new OcpiClientError('too-many-pages', `more than ${pagesMax} pages`, { url });
    const response: OcpiResponse<z.infer<T>[]> = await ocpiRequest(next, { data: z.array(item) }, { ...options, correlationId });
    all.push(...response.data);
    next = nextLink(response.headers.get('link'));
  }
  return all;
}
