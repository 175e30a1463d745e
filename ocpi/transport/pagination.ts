import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { parseOcpi } from './validate.js';

/**
 * Pagination of every list GET (spec 4.1.4.1): `offset`, `limit`, `date_from` (inclusive) and
 * `date_to` (exclusive) on `last_updated`; oldest objects first so a crawl sees a stable
 * sequence; `Link: <next>; rel="next"` (keeping the filters) unless this is the last page,
 * `X-Total-Count` (matches of the filters, ignoring offset/limit) and `X-Limit` (our upper bound).
 */

/** Largest page we serve; a client asking more gets this many and learns it from X-Limit. */
export const ocpiPageLimitMax = 100;
/** Largest offset we accept: deeper crawls should narrow with date_from instead. */
export const ocpiPageOffsetMax = 10_000_000;

const dateTime = z.string().refine((text) => /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})?$/.test(text) && !Number.isNaN(Date.parse(text.endsWith('Z') || /[+-]\d{2}:\d{2}$/.test(text) ? text : `${text}Z`)), {
  message: 'must be an RFC 3339 date-time, e.g. 2024-01-31T12:00:00Z',
});
const wholeNumber = (max: number) =>
  z
    .string()
    .regex(/^\d{1,12}$/, 'must be a whole number')
    .transform(Number)
    .refine((value) => value <= max, { message: `must be at most ${max}` });

const pageQuery = z.object({
  offset: wholeNumber(ocpiPageOffsetMax).optional(),
  limit: wholeNumber(Number.MAX_SAFE_INTEGER).optional(),
  date_from: dateTime.optional(),
  date_to: dateTime.optional(),
});

export interface PageRequest {
  readonly offset: number;
  /** Already capped at the server maximum. */
  readonly limit: number;
  readonly limitMax: number;
  /** Inclusive lower bound on last_updated. */
  readonly dateFrom: Date | null;
  /** Exclusive upper bound on last_updated. */
  readonly dateTo: Date | null;
}

/** OCPI DateTime without a zone is UTC (spec 16.2). */
const asUtc = (text: string) => new Date(/Z$|[+-]\d{2}:\d{2}$/.test(text) ? text : `${text}Z`);

export function parsePageRequest(query: unknown, limitMax: number = ocpiPageLimitMax): PageRequest {
  const raw = (query ?? {}) as Record<string, unknown>;
  const picked = Object.fromEntries(['offset', 'limit', 'date_from', 'date_to'].filter((key) => raw[key] !== undefined).map((key) => [key, raw[key]]));
  const parsed = parseOcpi(pageQuery, picked, 'pagination parameters');
  const dateFrom = parsed.date_from === undefined ? null : asUtc(parsed.date_from);
  const dateTo = parsed.date_to === undefined ? null : asUtc(parsed.date_to);
  const limit = Math.min(parsed.limit ?? limitMax, limitMax);
  return { offset: parsed.offset ?? 0, limit, limitMax, dateFrom, dateTo };
}

export interface Page<T> {
  readonly items: readonly T[];
  /** Objects matching the filters, before offset and limit. */
  readonly total: number;
}

/**
 * Sets the pagination headers of a list response. `baseUrl` is our public base (scheme and host)
 * so the Link is absolute; the path and every query parameter but offset/limit come from the
 * request, so the next page keeps the client's filters.
 */
export function setPageHeaders(request: FastifyRequest, reply: FastifyReply, page: PageRequest, result: Page<unknown>, baseUrl: string): void {
  reply.header('X-Total-Count', String(result.total));
  reply.header('X-Limit', String(page.limitMax));
  const nextOffset = page.offset + result.items.length;
  if (result.items.length === 0 || nextOffset >= result.total) return;
  const url = new URL(request.url, baseUrl);
  url.searchParams.set('offset', String(nextOffset));
  url.searchParams.set('limit', String(page.limit));
  reply.header('Link', `<${url.toString()}>; rel="next"`);
}

/**
 * The whole rule on an in-memory list: filter on last_updated, oldest first (ties by id so the
 * order is total), then offset and limit. Read models do the same in SQL; this is the reference.
 */
export function paginateInMemory<T>(items: readonly T[], lastUpdatedOf: (item: T) => string, idOf: (item: T) => string, page: PageRequest): Page<T> {
  const matching = items
    .filter((item) => {
      const at = Date.parse(lastUpdatedOf(item));
      return (page.dateFrom === null || at >= page.dateFrom.getTime()) && (page.dateTo === null || at < page.dateTo.getTime());
    })
    .sort((a, b) => Date.parse(lastUpdatedOf(a)) - Date.parse(lastUpdatedOf(b)) || idOf(a).localeCompare(idOf(b)));
  return { items: matching.slice(page.offset, page.offset + page.limit), total: matching.length };
}

/** The `next` URL of a Link header, or null on the last page. */
export function nextLink(linkHeader: string | null | undefined): string | null {
  if (!linkHeader) return null;
  for (const part of linkHeader.split(',')) {
    const match = /<([^>]+)>\s*;\s*rel="?next"?/i.exec(part.trim());
    if (match) return match[1]!;
  }
  return null;
}
