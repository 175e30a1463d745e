import { randomUUID } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { invalidParameters } from './status.js';

/**
 * Unique message ids (spec 4.2): every request carries X-Request-ID and X-Correlation-ID and the
 * response repeats both. We generate the ones a client forgot, so our logs can still join them.
 * Message routing headers (spec 4.1.8): SHALL be used with functional modules and SHALL NOT with
 * versions, credentials and hubclientinfo, so routes of functional modules call `requireRouting`.
 */

export const requestIdHeader = 'x-request-id';
export const correlationIdHeader = 'x-correlation-id';
/** Longest id we echo; a longer one is replaced, so a client cannot make us emit huge headers. */
export const messageIdCharsMax = 255;

const validId = (value: unknown): value is string => typeof value === 'string' && value.length > 0 && value.length <= messageIdCharsMax && /^[\x21-\x7e]+$/.test(value);

export interface OcpiMessageIds {
  readonly requestId: string;
  readonly correlationId: string;
}

export function messageIdsOf(request: FastifyRequest): OcpiMessageIds {
  const requestId = request.headers[requestIdHeader];
  const correlationId = request.headers[correlationIdHeader];
  return { requestId: validId(requestId) ? requestId : randomUUID(), correlationId: validId(correlationId) ? correlationId : randomUUID() };
}

export function echoMessageIds(reply: FastifyReply, ids: OcpiMessageIds): void {
  reply.header('X-Request-ID', ids.requestId);
  reply.header('X-Correlation-ID', ids.correlationId);
}

export interface OcpiParty {
  /** CiString(2), kept upper case. */
  readonly countryCode: string;
  /** CiString(3), kept upper case. */
  readonly partyId: string;
}

export interface OcpiRouting {
  readonly from: OcpiParty;
  readonly to: OcpiParty;
}

const countryCode = z.string().regex(/^[A-Za-z]{2}$/, 'must be 2 letters (ISO 3166 alpha-2)');
const partyId = z.string().regex(/^[A-Za-z0-9]{3}$/, 'must be 3 letters or digits');

const routingHeaders = [
  ['ocpi-from-country-code', countryCode],
  ['ocpi-from-party-id', partyId],
  ['ocpi-to-country-code', countryCode],
  ['ocpi-to-party-id', partyId],
] as const;

/**
 * For functional modules: the four routing headers, required and well formed (else 2001). The
 * response carries them swapped (spec 4.1.8.6, "Direct response": TO the requester, FROM us).
 */
export function requireRouting(request: FastifyRequest, reply: FastifyReply): OcpiRouting {
  const values: string[] = [];
  const problems: string[] = [];
  for (const [name, schema] of routingHeaders) {
    const raw = request.headers[name];
    const parsed = schema.safeParse(Array.isArray(raw) ? raw[0] : raw);
    if (!parsed.success) problems.push(`${name} ${raw === undefined ? 'is missing' : parsed.error.issues[0]?.message}`);
    else values.push(parsed.data.toUpperCase());
  }
  if (problems.length > 0) throw invalidParameters(`routing headers: ${problems.join('; ')}`);
  const routing: OcpiRouting = {
    from: { countryCode: values[0]!, partyId: values[1]! },
    to: { countryCode: values[2]!, partyId: values[3]! },
  };
  reply.header('OCPI-to-country-code', routing.from.countryCode);
  reply.header('OCPI-to-party-id', routing.from.partyId);
  reply.header('OCPI-from-country-code', routing.to.countryCode);
  reply.header('OCPI-from-party-id', routing.to.partyId);
  return routing;
}

/** The headers a request of ours to a functional module carries. */
export function routingRequestHeaders(routing: OcpiRouting): Record<string, string> {
  return {
    'OCPI-from-country-code': routing.from.countryCode,
    'OCPI-from-party-id': routing.from.partyId,
    'OCPI-to-country-code': routing.to.countryCode,
    'OCPI-to-party-id': routing.to.partyId,
  };
}
