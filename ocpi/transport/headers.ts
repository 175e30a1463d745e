import { randomUUID } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { invalidParameters } from './status.js';

/**
 * Unique message ids (spec 4.2): every request carries X-Request-ID and X-Correlation-ID and the
 * response repeats both. We generate the ones a client forgot, so our logs can still join them.
 * Message routing headers (spec 4.1.8): SHALL NOT be used with versions, credentials and
 * hubclientinfo; with functional modules they name the sending and the receiving party, which
 * `resolveRouting` decides once per request (the sender party every module acts for).
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

/** A party with its role, as a Credentials object lists it (country code and party id upper case). */
export interface OcpiPartyRole extends OcpiParty {
  readonly role: string;
}

export interface OcpiRouting {
  /** The sender party: whose request this is (the party a module checks ownership against). */
  readonly from: OcpiParty;
  readonly to: OcpiParty;
}

export const sameParty = (a: OcpiParty, b: OcpiParty): boolean => a.countryCode === b.countryCode && a.partyId === b.partyId;
export const partyLabel = (party: OcpiParty): string => `${party.countryCode}*${party.partyId}`;

/** The distinct parties among roles, upper case, in their order (a platform may hold several roles of one party). */
export function partiesOf(roles: readonly OcpiParty[]): OcpiParty[] {
  const parties: OcpiParty[] = [];
  for (const role of roles) {
    const party = { countryCode: role.countryCode.toUpperCase(), partyId: role.partyId.toUpperCase() };
    if (!parties.some((known) => sameParty(known, party))) parties.push(party);
  }
  return parties;
}

export const isHub = (roles: readonly OcpiPartyRole[]): boolean => roles.some((role) => role.role === 'HUB');

const countryCode = z.string().regex(/^[A-Za-z]{2}$/, 'must be 2 letters (ISO 3166 alpha-2)');
const partyId = z.string().regex(/^[A-Za-z0-9]{3}$/, 'must be 3 letters or digits');

const routingHeaders = [
  ['ocpi-from-country-code', countryCode],
  ['ocpi-from-party-id', partyId],
  ['ocpi-to-country-code', countryCode],
  ['ocpi-to-party-id', partyId],
] as const;

/** Routing refusals, counted like the other OCPI denials (docs/design.md: every denial counted): headers missing where required, naming a party the caller is not, or one we are not. */
export const ocpiRoutingRefusals = { headersRequired: 0, notYourParty: 0, notUs: 0 };

/**
 * The routing of a request to a functional module, decided here once: its `from` is the sender
 * party every module acts for. transport_and_format "Message Routing": the headers are needed
 * where a Hub or a Platform serving several parties is involved; a party talking to us directly
 * ("Party to Party (without Hub)") may leave them out, and then the sender is the one party of its
 * credentials. When present they must be all four, well formed, from a party of the caller's
 * credentials (a Hub forwards for parties we do not know one by one, so any) and to us; else 2001.
 * The response carries them swapped ("Direct response": TO the requester, FROM us).
 */
export function resolveRouting(request: FastifyRequest, reply: FastifyReply, caller: { readonly roles: readonly OcpiPartyRole[] }, us: readonly OcpiParty[]): OcpiRouting {
  const sent = routingHeadersOf(request);
  const routing = sent ?? directRouting(caller.roles, us);
  if (sent !== null) checkRoutingParties(sent, caller.roles, us);
  reply.header('OCPI-to-country-code', routing.from.countryCode);
  reply.header('OCPI-to-party-id', routing.from.partyId);
  reply.header('OCPI-from-country-code', routing.to.countryCode);
  reply.header('OCPI-from-party-id', routing.to.partyId);
  return routing;
}

/** The four headers when any is sent (all four required and well formed then: 2001), null when none is. */
function routingHeadersOf(request: FastifyRequest): OcpiRouting | null {
  if (routingHeaders.every(([name]) => request.headers[name] === undefined)) return null;
  const values: string[] = [];
  const problems: string[] = [];
  for (const [name, schema] of routingHeaders) {
    const raw = request.headers[name];
    const parsed = schema.safeParse(Array.isArray(raw) ? raw[0] : raw);
    if (!parsed.success) problems.push(`${name} ${raw === undefined ? 'is missing' : parsed.error.issues[0]?.message}`);
    else values.push(parsed.data.toUpperCase());
  }
  if (problems.length > 0) throw invalidParameters(`routing headers: ${problems.join('; ')}`);
  return { from: { countryCode: values[0]!, partyId: values[1]! }, to: { countryCode: values[2]!, partyId: values[3]! } };
}

/** Without headers: only one party on each side can be meant. */
function directRouting(roles: readonly OcpiPartyRole[], us: readonly OcpiParty[]): OcpiRouting {
  const theirs = partiesOf(roles);
  const required = (why: string) => {
    ocpiRoutingRefusals.headersRequired += 1;
    return invalidParameters(`routing headers required: ${why}`);
  };
  if (isHub(roles)) throw required('you connect as a HUB, so OCPI-from-country-code/OCPI-from-party-id must name the party the request comes from and OCPI-to-* the party it is for');
  if (theirs.length !== 1) throw required(`your credentials hold ${theirs.length} parties (${theirs.map(partyLabel).join(', ')}), so OCPI-from-country-code/OCPI-from-party-id must name the sending one`);
  if (us.length !== 1) throw required(`this platform serves ${us.map(partyLabel).join(', ')}, so OCPI-to-country-code/OCPI-to-party-id must name the one this request is for`);
  return { from: theirs[0]!, to: us[0]! };
}

function checkRoutingParties(routing: OcpiRouting, roles: readonly OcpiPartyRole[], us: readonly OcpiParty[]): void {
  if (!us.some((party) => sameParty(party, routing.to))) {
    ocpiRoutingRefusals.notUs += 1;
    throw invalidParameters(`routing headers: OCPI-to ${partyLabel(routing.to)} is not us (${us.map(partyLabel).join(', ')}); we route no requests to other parties`);
  }
  const theirs = partiesOf(roles);
  if (!isHub(roles) && !theirs.some((party) => sameParty(party, routing.from))) {
    ocpiRoutingRefusals.notYourParty += 1;
    throw invalidParameters(`routing headers: OCPI-from ${partyLabel(routing.from)} is not a party of your credentials (${theirs.map(partyLabel).join(', ') || 'none'})`);
  }
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
