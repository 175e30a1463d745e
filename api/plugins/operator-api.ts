import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Clock } from '../../adapters/clock/clock.js';
import type { EventStore } from '../../adapters/event-store/port.js';
import type { SqlDatabase } from '../../adapters/sql/port.js';
import type { CommandBus } from '../../commands/index.js';
import { IllegalStateError, InvalidCommandError } from '../../domain/shared/errors.js';
import { createStationOperations, stationOperationTimeoutMsMax } from '../../ocpp/operations/index.js';
import { OcpiError } from '../../ocpi/transport/status.js';
import type { OcpiModuleContext } from '../../ocpi/plugin.js';
import { partnerIdPattern } from '../../ocpi/credentials/service.js';
import { inviteOcpiPartner, PartnerUnreachableError, registerOcpiPartner } from '../ocpi-commands.js';
import { blockToken, issueToken, listStations, registerStation, type OperatorDeps, type StationSecurityConfig } from '../operator-commands.js';
import { locationsApiPlugin } from './locations-api.js';

/**
 * The operator REST endpoints the CLI needs from a running server (under /api):
 *   GET  /stations                 the stations read model
 *   POST /stations                 register a station (or change its security)     {stationId, password?, securityProfile?, force?}
 *   POST /tokens                   issue a token                                   {uid, type?, expires?, contractId?, issuer?, whitelist?}
 *   POST /tokens/:uid/block        block a token                                   {reason?}
 *   POST /stations/:id/calls       send any CSMS→station message, answer inline    {action, payload, timeoutMs?}
 *   POST /ocpi/partners/:id/invitation    token A for a partner to register with us (shown once)
 *   POST /ocpi/partners/:id/registration  register with a partner: {url (their versions), token (their A)};
 *                                         502 they refused, 504 they could not be reached
 * `csms station call` must come here: the station's WebSocket lives in this process. The others
 * are how the CLI works while the server holds the embedded database.
 *
 * Access: `Authorization: Bearer <ADMIN_API_TOKEN>`; without ADMIN_API_TOKEN configured, loopback
 * clients only (the embedded, single-machine mode). Every denial is logged and counted.
 */

export interface OperatorApiOptions {
  readonly db: SqlDatabase;
  readonly eventStore: EventStore;
  readonly bus: CommandBus;
  readonly clock: Clock;
  readonly tenantId: string;
  readonly adminApiToken: string | null;
  /** What this server can authenticate: a registration whose profile could never connect is refused. */
  readonly stationSecurity: StationSecurityConfig;
  /** The OCPI surface's credentials context (its partner directory and sealer), once mounted. */
  readonly ocpi?: () => OcpiModuleContext | undefined;
}

/** Refusals of the operator API so far, for metrics. */
export const operatorApiDenials = { missingToken: 0, wrongToken: 0, notLoopback: 0 };

const loopbackAddresses = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1']);
const actor = 'user:admin-api';

const stationIdSchema = z.string().min(1).max(48);
const registerBody = z.object({
  stationId: stationIdSchema,
  password: z.string().max(200).optional(),
  securityProfile: z.number().int().min(0).max(3).optional(),
  force: z.boolean().optional(),
});
const tokenBody = z.object({
  uid: z.string().min(1).max(36),
  type: z.string().max(20).optional(),
  expires: z.string().max(40).optional(),
  contractId: z.string().max(36).optional(),
  issuer: z.string().max(64).optional(),
  whitelist: z.string().max(20).optional(),
});
const blockBody = z.object({ reason: z.string().min(1).max(500).optional() }).optional();
const callBody = z.object({
  action: z.string().min(1).max(50),
  payload: z.record(z.string(), z.unknown()),
  timeoutMs: z.number().int().min(1).max(stationOperationTimeoutMsMax).optional(),
});

const partnerIdSchema = z.string().regex(partnerIdPattern, { message: "partner id must be 1 to 64 letters, digits, '_' or '.'" });
const partnerRegistrationBody = z.object({ url: z.url({ protocol: /^https?$/ }).max(2000), token: z.string().min(1).max(500) });

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

export const operatorApiPlugin: FastifyPluginAsync<OperatorApiOptions> = async (app, options) => {
  const expectedToken = options.adminApiToken === null ? null : digest(options.adminApiToken);

  app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    const refuse = (reason: keyof typeof operatorApiDenials, status: number, message: string) => {
      operatorApiDenials[reason] += 1;
      request.log.warn({ reason, remoteAddress: request.socket.remoteAddress, url: request.url }, 'operator api denied');
      return reply.code(status).send({ error: status === 401 ? 'Unauthorized' : 'Forbidden', message });
    };
    if (expectedToken === null) {
      if (!loopbackAddresses.has(request.socket.remoteAddress ?? '')) {
        return refuse('notLoopback', 403, 'no ADMIN_API_TOKEN is configured: only clients on this machine may use the operator API');
      }
      return;
    }
    const match = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '');
    if (!match) return refuse('missingToken', 401, 'send Authorization: Bearer <ADMIN_API_TOKEN>');
    // Compared as digests: equal lengths, so the comparison's time says nothing about the token.
    if (!timingSafeEqual(digest(match[1]!), expectedToken)) return refuse('wrongToken', 401, 'wrong admin token');
  });

  app.setErrorHandler(async (error, request, reply) => {
    if (error instanceof z.ZodError) return reply.code(400).send({ error: 'Bad Request', message: z.prettifyError(error) });
    if (error instanceof InvalidCommandError) return reply.code(400).send({ error: 'Bad Request', message: error.message });
    if (error instanceof IllegalStateError) return reply.code(409).send({ error: 'Conflict', message: error.message });
    // The OCPI partner never answered (refused connection, unknown host, timeout): a gateway timeout.
    if (error instanceof PartnerUnreachableError) return reply.code(504).send({ error: 'Gateway Timeout', message: error.message });
    // The OCPI partner refused or could not be used: a bad gateway, with the OCPI status code.
    if (error instanceof OcpiError) return reply.code(502).send({ error: 'Bad Gateway', message: error.message, ocpiStatusCode: error.statusCode });
    const status = (error as { statusCode?: number }).statusCode;
    if (status !== undefined && status < 500) return reply.code(status).send({ error: 'Bad Request', message: (error as Error).message });
    request.log.error({ err: error }, 'operator api failed');
    return reply.code(500).send({ error: 'Internal Server Error', message: 'see the server log' });
  });

  const deps: OperatorDeps = { bus: options.bus, clock: options.clock, tenantId: options.tenantId, actor };
  // A child plugin: it inherits this plugin's authentication hook and error handler.
  await app.register(locationsApiPlugin, { db: options.db, deps });

  app.get('/stations', async () => ({ stations: await listStations(options.db, options.tenantId) }));

  app.post('/stations', async (request, reply) => {
    const body = registerBody.parse(request.body);
    const outcome = await registerStation(deps, body, options.stationSecurity);
    // This process authenticates the station: let it see the new credentials at once.
    app.stationAuthentication?.forget(body.stationId);
    return reply.code(outcome.outcome === 'registered' ? 201 : 200).send(outcome);
  });

  app.post('/tokens', async (request, reply) => {
    const body = tokenBody.parse(request.body);
    const outcome = await issueToken(deps, {
      uid: body.uid,
      tokenType: body.type,
      validUntil: body.expires,
      contractId: body.contractId,
      issuer: body.issuer,
      whitelist: body.whitelist,
    });
    return reply.code(201).send(outcome);
  });

  app.post<{ Params: { uid: string } }>('/tokens/:uid/block', async (request) => {
    const body = blockBody.parse(request.body ?? undefined);
    return blockToken(deps, { uid: request.params.uid, reason: body?.reason });
  });

  app.post<{ Params: { id: string } }>('/stations/:id/calls', async (request, reply) => {
    const stationId = stationIdSchema.parse(request.params.id);
    const body = callBody.parse(request.body);
    const operations = createStationOperations({
      bus: options.bus,
      caller: app.ocppStations,
      clock: options.clock,
      tenantId: options.tenantId,
      eventStore: options.eventStore,
    });
    const result = await operations.run(
      stationId,
      { name: 'raw', action: body.action, payload: body.payload },
      { actor, correlationId: randomUUID(), ...(body.timeoutMs === undefined ? {} : { timeoutMs: body.timeoutMs }) },
    );
    if (result.outcome === 'answered') return result;
    const status = result.reason.kind === 'not-connected' ? 404 : result.reason.kind === 'timeout' ? 504 : 502;
    return reply.code(status).send(result);
  });

  const ocpiCredentials = (context: OcpiModuleContext | undefined) => {
    if (context === undefined) throw Object.assign(new Error('the OCPI surface is not mounted on this server'), { statusCode: 404 });
    return context.credentials;
  };

  app.post<{ Params: { id: string } }>('/ocpi/partners/:id/invitation', async (request, reply) => {
    const partnerId = partnerIdSchema.parse(request.params.id);
    const context = options.ocpi?.();
    const credentials = ocpiCredentials(context);
    const invitation = await inviteOcpiPartner(credentials, partnerId, `${context!.baseUrl(request)}/versions`, actor);
    return reply.code(201).send(invitation);
  });

  app.post<{ Params: { id: string } }>('/ocpi/partners/:id/registration', async (request, reply) => {
    const partnerId = partnerIdSchema.parse(request.params.id);
    const body = partnerRegistrationBody.parse(request.body);
    const context = options.ocpi?.();
    const credentials = ocpiCredentials(context);
    const outcome = await registerOcpiPartner(credentials, { partnerId, ...body }, `${context!.baseUrl(request)}/versions`, actor);
    return reply.code(201).send(outcome);
  });
};
