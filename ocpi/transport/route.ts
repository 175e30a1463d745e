import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest, HTTPMethods } from 'fastify';
import type { Clock } from '../../adapters/clock/clock.js';
import { credentialsTokenCandidates } from './auth.js';
import { echoMessageIds, messageIdsOf, resolveRouting, type OcpiMessageIds, type OcpiParty, type OcpiPartyRole, type OcpiRouting } from './headers.js';
import { OcpiError, OcpiStatus, ocpiFailure, ocpiSuccess, unauthorized } from './status.js';

/**
 * How an OCPI route is declared: its module, whether it is functional (routed: a sender and a
 * receiving party) and a handler that returns the `data` of a success envelope. Authentication,
 * message ids, routing (the sender party) and the envelope are done here once for every module.
 */

/** Configuration modules (spec 4.1.8.2): no routing headers; the only ones token A may call (4.1.2). */
export const configurationModules: ReadonlySet<string> = new Set(['versions', 'credentials', 'hubclientinfo']);
const modulesOpenToUnregistered: ReadonlySet<string> = new Set(['versions', 'credentials']);

export interface OcpiCaller {
  readonly partnerId: string;
  /** False while only a registration token (A, or our B during our own handshake) is known. */
  readonly registered: boolean;
  /** The credentials token as presented (never stored; GET credentials answers with it). */
  readonly token: string;
  /**
   * The roles of its credentials as they are for this token (upper case): the parties it may
   * send as, and whether it is a HUB. Empty while only a registration token is known.
   */
  readonly roles: readonly OcpiPartyRole[];
}

export interface OcpiAuthenticator {
  /**
   * The partner one of the candidate tokens belongs to (first match), or null. `need`
   * 'registered': the caller needs a registered partner's token (functional modules), so an
   * answer short of that is worth making sure of (credentials/directory.ts).
   */
  authenticate(candidates: readonly string[], need?: 'any' | 'registered'): Promise<OcpiCaller | null>;
}

export interface OcpiRequestContext {
  readonly caller: OcpiCaller;
  readonly ids: OcpiMessageIds;
  /** Set for functional modules (`from`: the sender party, see headers.ts `resolveRouting`), null for configuration modules. */
  readonly routing: OcpiRouting | null;
  readonly now: Date;
}

export interface OcpiRouteResult {
  readonly data?: unknown;
  /** 200 unless the handler says otherwise (201 for a created object). */
  readonly httpStatus?: number;
  /** Status code and message instead of 1000, with `data` still sent (commands: 2003 with a REJECTED CommandResponse). */
  readonly status?: { readonly code: number; readonly message: string };
}

export interface OcpiRouteSpec {
  readonly method: HTTPMethods;
  readonly url: string;
  readonly module: string;
  handler(request: FastifyRequest, reply: FastifyReply, context: OcpiRequestContext): Promise<OcpiRouteResult>;
}

/** Refusals of OCPI authentication so far, for metrics (docs/design.md: every denial counted). */
export const ocpiAuthDenials = { missingToken: 0, unknownToken: 0, registrationTokenOnFunctionalModule: 0 };

declare module 'fastify' {
  interface FastifyRequest {
    ocpiIds?: OcpiMessageIds;
  }
}

export interface OcpiTransport {
  readonly authenticator: OcpiAuthenticator;
  readonly clock: Clock;
  /** Our parties (the roles we serve): the only ones a request may be routed to (OCPI-to-*). */
  readonly us: readonly OcpiParty[];
}

/**
 * Installs on an (encapsulated) fastify instance what every OCPI answer shares: message ids on
 * every response, errors as envelopes, unknown paths as 404 envelopes.
 */
export function installOcpiTransport(app: FastifyInstance, transport: OcpiTransport): void {
  app.addHook('onRequest', async (request, reply) => {
    request.ocpiIds = messageIdsOf(request);
    echoMessageIds(reply, request.ocpiIds);
  });
  app.setErrorHandler(async (error: FastifyError | OcpiError, request, reply) => {
    const now = transport.clock.now();
    if (error instanceof OcpiError) {
      if (error.httpStatus === 401) request.log.warn({ url: request.url, reason: error.message }, 'ocpi request denied');
      return reply.code(error.httpStatus).send(ocpiFailure(error.statusCode, error.message, now));
    }
    const status = (error as FastifyError).statusCode;
    if (status !== undefined && status >= 400 && status < 500) {
      // Unreadable JSON is a transport error: HTTP 400 (spec 5); too large a body 413.
      return reply.code(status).send(ocpiFailure(OcpiStatus.invalidOrMissingParameters, error.message, now));
    }
    request.log.error({ err: error }, 'ocpi request failed');
    return reply.code(500).send(ocpiFailure(OcpiStatus.serverError, 'internal error; see the server log', now));
  });
  app.setNotFoundHandler(async (request, reply) => {
    return reply.code(404).send(ocpiFailure(OcpiStatus.clientError, `no OCPI endpoint ${request.method} ${request.url.split('?')[0]}`, transport.clock.now()));
  });
}

export function ocpiRoute(app: FastifyInstance, transport: OcpiTransport, spec: OcpiRouteSpec): void {
  const functional = !configurationModules.has(spec.module);
  app.route({
    method: spec.method,
    url: spec.url,
    handler: async (request, reply) => {
      const ids = request.ocpiIds ?? messageIdsOf(request);
      const caller = await authenticate(request, transport.authenticator, spec.module);
      const routing = functional ? resolveRouting(request, reply, caller, transport.us) : null;
      const now = transport.clock.now();
      const result = await spec.handler(request, reply, { caller, ids, routing, now });
      const envelope = ocpiSuccess(result.data, now);
      return reply.code(result.httpStatus ?? 200).send(result.status ? { ...envelope, status_code: result.status.code, status_message: result.status.message } : envelope);
    },
  });
}

async function authenticate(request: FastifyRequest, authenticator: OcpiAuthenticator, module: string): Promise<OcpiCaller> {
  const candidates = credentialsTokenCandidates(request.headers.authorization);
  if (candidates.length === 0) {
    ocpiAuthDenials.missingToken += 1;
    throw unauthorized('send Authorization: Token <base64 of your credentials token>');
  }
  const caller = await authenticator.authenticate(candidates, modulesOpenToUnregistered.has(module) ? 'any' : 'registered');
  if (caller === null) {
    ocpiAuthDenials.unknownToken += 1;
    throw unauthorized('unknown credentials token');
  }
  if (!caller.registered && !modulesOpenToUnregistered.has(module)) {
    ocpiAuthDenials.registrationTokenOnFunctionalModule += 1;
    throw unauthorized(`a registration token may only call versions and credentials, not ${module}`);
  }
  return caller;
}
