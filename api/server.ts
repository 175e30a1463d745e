import Fastify, { type FastifyInstance, type FastifyPluginAsync } from 'fastify';
import type { EventStore } from '../adapters/event-store/port.js';
import type { SqlDatabase } from '../adapters/sql/port.js';
import type { LogLevel } from './config.js';
import { healthPlugin } from './plugins/health.js';
import { notYetImplemented } from './plugins/not-yet.js';
import { surfacePrefixes } from './surfaces.js';

/**
 * The HTTP/WebSocket server. Each surface is a fastify plugin under its own prefix, owning its
 * routes and decorations (encapsulated), so later issues replace a placeholder in `surfaces`
 * without touching the others.
 */

/**
 * Largest request body we parse. OCPI's biggest payloads (a location with many EVSEs, a CDR with
 * hundreds of charging periods) stay well under 1 MiB; anything larger is refused with 413
 * before it is buffered.
 */
export const httpBodyBytesMax = 1024 * 1024;
/** Longest URL path parameter (a station id is at most 48 chars in OCPP 2.0.1; OCPI ids 36). */
export const httpParamLengthMax = 256;
/** A client must send its whole request within this; guards against slow-loris connections. */
export const httpRequestTimeoutMs = 30_000;
/** Idle keep-alive connections are closed after this, so shutdown does not wait on them long. */
export const httpKeepAliveTimeoutMs = 5_000;

export interface ServerDeps {
  readonly db: SqlDatabase;
  readonly eventStore: EventStore;
  readonly logLevel?: LogLevel;
}

interface Surface {
  readonly prefix: string;
  readonly plugin: FastifyPluginAsync;
}


function surfaces(): Surface[] {
  return [
    { prefix: surfacePrefixes.ocpp, plugin: notYetImplemented('the OCPP WebSocket endpoint (/ocpp/{stationId})') },
    { prefix: surfacePrefixes.ocpi, plugin: notYetImplemented('OCPI 2.2.1') },
    { prefix: surfacePrefixes.graphql, plugin: notYetImplemented('the GraphQL API') },
    { prefix: surfacePrefixes.rest, plugin: notYetImplemented('the REST API') },
  ];
}

export async function buildServer(deps: ServerDeps): Promise<FastifyInstance> {
  const app = Fastify({
    logger: { level: deps.logLevel ?? 'info' },
    bodyLimit: httpBodyBytesMax,
    routerOptions: { maxParamLength: httpParamLengthMax },
    requestTimeout: httpRequestTimeoutMs,
    keepAliveTimeout: httpKeepAliveTimeoutMs,
    // On close, answer new requests on kept-alive connections with 503 instead of serving them.
    return503OnClosing: true,
    forceCloseConnections: 'idle',
  });
  await app.register(healthPlugin, { db: deps.db, eventStore: deps.eventStore });
  for (const surface of surfaces()) await app.register(surface.plugin, { prefix: surface.prefix });
  return app;
}
