import Fastify, { type FastifyInstance, type FastifyPluginAsync, type FastifyReply } from 'fastify';
import { systemClock, type Clock } from '../adapters/clock/clock.js';
import type { EventStore } from '../adapters/event-store/port.js';
import type { SqlDatabase } from '../adapters/sql/port.js';
import { createCommandBus, type CommandBus } from '../commands/index.js';
import {
  heartbeatIntervalSecondsDefault,
  pingIntervalSecondsDefault,
  tenantIdDefault,
  unknownStationPolicyDefault,
  unknownTokenPolicyDefault,
  type Config,
  type LogLevel,
} from './config.js';
import { healthPlugin } from './plugins/health.js';
import { metricsPlugin } from './plugins/metrics.js';
import type { ObservabilityAccess } from './plugins/observability-access.js';
import { tlsProfileDefault, tlsProtocolOptions, type TlsProfile } from './tls-profile.js';
import { notYetImplemented } from './plugins/not-yet.js';
import { registerOcpp } from './plugins/ocpp.js';
import { operatorApiPlugin } from './plugins/operator-api.js';
import { ocpiFunctionalModules } from '../ocpi/modules/index.js';
import { createOcpiStationCommands } from './ocpi-station-commands.js';
import { answerOcpiFrameworkError, ocpiPlugin, ocpiSettingsDefault, ourParty, type OcpiModule, type OcpiModuleContext, type OcpiSettings } from '../ocpi/plugin.js';
import { createTokenSealer } from '../ocpi/credentials/seal.js';
import { createRealtimeAuthorizer } from '../ocpi/tokens/realtime.js';
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
/**
 * A client (an OCPP handshake included) must have sent all its headers within this. Node's default
 * is 60 s; half-sent handshakes are the cheapest way to hold sockets open (slow-loris), and a
 * station sends its few header lines at once. Node checks it every 30 s (connectionsCheckingInterval).
 */
export const httpHeadersTimeoutMs = 10_000;

export interface ServerDeps {
  readonly db: SqlDatabase;
  readonly eventStore: EventStore;
  readonly logLevel?: LogLevel;
  /** Default: a bus of its own on `eventStore`. */
  readonly bus?: CommandBus;
  readonly clock?: Clock;
  readonly tenantId?: string;
  /** Default: the defaults of api/config.ts (unknown stations pending, unknown tokens rejected). */
  readonly ocpp?: Config['ocpp'];
  /**
   * PEM contents: serve HTTPS/WSS; with `ca`, request client certificates (security profile 3).
   * `profile`/`ciphers`: protocol versions and suites (api/tls-profile.ts; default intermediate).
   */
  readonly https?: {
    readonly key: string | Buffer;
    readonly cert: string | Buffer;
    readonly ca?: string | Buffer;
    readonly profile?: TlsProfile;
    readonly ciphers?: string | null;
  } | null;
  /**
   * Access to /metrics and /health details (api/plugins/observability-access.ts). `metricsToken`
   * (METRICS_TOKEN) and the admin token are accepted on the main listener; with `separateListener`
   * a second, plain-HTTP server (`app.metricsListener`, not listening yet) serves both to whoever
   * reaches its address, or with METRICS_TOKEN only when one is set. Default: no token, no listener.
   */
  readonly observability?: { readonly metricsToken: string | null; readonly separateListener: boolean };
  /** See api/plugins/operator-api.ts; null: loopback clients only. */
  readonly adminApiToken?: string | null;
  /** OCPI identity, public URL and token secret; default: ocpi/plugin.ts ocpiSettingsDefault. */
  readonly ocpi?: OcpiSettings;
  /** OCPI functional modules to mount (each adds its routes and lists itself in /ocpi/2.2.1). */
  readonly ocpiModules?: readonly OcpiModule[];
  /** Deadline of an OCPI real-time authorization (all eMSPs asked); default ocpi/tokens/realtime.ts. */
  readonly ocpiRealtimeTimeoutMs?: number;
  /** NODE_ID, recorded with each station connection (api/settle-node.ts); absent: not recorded. */
  readonly nodeId?: string;
}

export const ocppSettingsDefault: Config['ocpp'] = {
  unknownStations: unknownStationPolicyDefault,
  unknownTokens: unknownTokenPolicyDefault,
  heartbeatIntervalSeconds: heartbeatIntervalSecondsDefault,
  pingIntervalSeconds: pingIntervalSecondsDefault,
  allowUnsecured: false,
};

interface Surface {
  readonly prefix: string;
  readonly plugin: FastifyPluginAsync;
}


/** Is the request's path the surface's prefix or below it (`/ocpi`, `/ocpi/...`, not `/ocpix`)? */
function isUnder(url: string, prefix: string): boolean {
  const path = url.split('?')[0]!;
  return path === prefix || path.startsWith(`${prefix}/`);
}

/** Surfaces still to come; OCPP, OCPI and the operator endpoints of REST are registered in buildServer. */
function surfaces(): Surface[] {
  return [
    { prefix: surfacePrefixes.graphql, plugin: notYetImplemented('the GraphQL API') },
    { prefix: surfacePrefixes.rest, plugin: notYetImplemented('the REST API') },
  ];
}

export async function buildServer(deps: ServerDeps): Promise<FastifyInstance> {
  const https = deps.https
    ? // rejectUnauthorized false: profile 2 stations bring no certificate; station-auth decides per station.
      {
        key: deps.https.key,
        cert: deps.https.cert,
        ...tlsProtocolOptions(deps.https.profile ?? tlsProfileDefault, deps.https.ciphers ?? null),
        ...(deps.https.ca ? { ca: deps.https.ca, requestCert: true, rejectUnauthorized: false } : {}),
      }
    : null;
  const clock = deps.clock ?? systemClock;
  const app = Fastify({
    ...(https ? { https } : {}),
    logger: { level: deps.logLevel ?? 'info' },
    bodyLimit: httpBodyBytesMax,
    routerOptions: { maxParamLength: httpParamLengthMax },
    // Router errors (a parameter over maxParamLength, a malformed URL) come before any plugin:
    // OCPI answers them with its envelope, the other surfaces keep fastify's answer.
    frameworkErrors: (error, request, reply) =>
      isUnder(request.url, surfacePrefixes.ocpi)
        ? answerOcpiFrameworkError(error, request, reply, { now: clock.now(), paramLengthMax: httpParamLengthMax })
        : (reply as FastifyReply).code(error.statusCode ?? 500).send(error),
    requestTimeout: httpRequestTimeoutMs,
    keepAliveTimeout: httpKeepAliveTimeoutMs,
    // On close, answer new requests on kept-alive connections with 503 instead of serving them.
    return503OnClosing: true,
    forceCloseConnections: 'idle',
  }) as unknown as FastifyInstance; // the https variant differs only in the server type
  app.server.headersTimeout = httpHeadersTimeoutMs;
  await registerObservability(app, deps, mainListenerAccess(deps));
  app.decorate('metricsListener', await buildMetricsListener(app, deps));
  const bus = deps.bus ?? createCommandBus({ eventStore: deps.eventStore, clock });
  const tenantId = deps.tenantId ?? tenantIdDefault;
  await registerOcpp(app, {
    db: deps.db,
    eventStore: deps.eventStore,
    bus,
    clock,
    tenantId,
    settings: deps.ocpp ?? ocppSettingsDefault,
    path: surfacePrefixes.ocpp,
    ...(deps.nodeId === undefined ? {} : { nodeId: deps.nodeId }),
    // Stations' Authorize asks the token's eMSP (OCPI real-time authorization) when one is registered.
    realtimeAuthorizer: createRealtimeAuthorizer({
      db: deps.db,
      tenantId,
      sealer: createTokenSealer((deps.ocpi ?? ocpiSettingsDefault).secret),
      us: ourParty(deps.ocpi ?? ocpiSettingsDefault),
      ...(deps.ocpiRealtimeTimeoutMs === undefined ? {} : { timeoutMs: deps.ocpiRealtimeTimeoutMs }),
      onError: (error) => app.log.warn({ err: error }, 'OCPI real-time authorization failed; deciding locally'),
    }),
  });
  // The operator API's OCPI endpoints (csms ocpi invite | register) share the OCPI surface's
  // partner directory and sealer, which exist once the OCPI plugin below is registered.
  let ocpiContext: OcpiModuleContext | undefined;
  await app.register(operatorApiPlugin, {
    prefix: surfacePrefixes.rest,
    db: deps.db,
    eventStore: deps.eventStore,
    bus,
    clock,
    tenantId,
    adminApiToken: deps.adminApiToken ?? null,
    stationSecurity: {
      allowUnsecured: (deps.ocpp ?? ocppSettingsDefault).allowUnsecured,
      tls: deps.https != null,
      clientCertificates: deps.https?.ca != null,
    },
    ocpi: () => ocpiContext,
  });
  const captureOcpiContext: OcpiModule = (context) => void (ocpiContext = context);
  await app.register(ocpiPlugin, {
    prefix: surfacePrefixes.ocpi,
    db: deps.db,
    bus,
    clock,
    tenantId,
    settings: deps.ocpi ?? ocpiSettingsDefault,
    modules: [...ocpiFunctionalModules, ...(deps.ocpiModules ?? []), captureOcpiContext],
    stationCommands: createOcpiStationCommands({ bus, stations: () => app.ocppStations, clock, tenantId, eventStore: deps.eventStore }),
    eventReader: deps.eventStore,
  });
  for (const surface of surfaces()) await app.register(surface.plugin, { prefix: surface.prefix });
  return app;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** The separate /metrics + /health listener (METRICS_PORT), to `listen` after the main one; closed with it. */
    metricsListener: FastifyInstance | null;
  }
}

function mainListenerAccess(deps: ServerDeps): ObservabilityAccess {
  const tokens = [deps.observability?.metricsToken ?? null, deps.adminApiToken ?? null].filter((token): token is string => token !== null);
  return { tokens, openWithoutToken: false };
}

/** /health and /metrics with the given access; station authentication counters are read from `source` at scrape time. */
async function registerObservability(app: FastifyInstance, deps: ServerDeps, access: ObservabilityAccess, source: FastifyInstance = app): Promise<void> {
  await app.register(healthPlugin, { db: deps.db, eventStore: deps.eventStore, access });
  await app.register(metricsPlugin, {
    db: deps.db,
    clock: deps.clock ?? systemClock,
    access,
    stationAuthentication: () => (source.hasDecorator('stationAuthentication') ? source.stationAuthentication : undefined),
  });
}

async function buildMetricsListener(main: FastifyInstance, deps: ServerDeps): Promise<FastifyInstance | null> {
  if (!deps.observability?.separateListener) return null;
  const token = deps.observability.metricsToken;
  const listener = Fastify({
    logger: { level: deps.logLevel ?? 'info' },
    requestTimeout: httpRequestTimeoutMs,
    keepAliveTimeout: httpKeepAliveTimeoutMs,
    forceCloseConnections: 'idle',
  }) as unknown as FastifyInstance;
  await registerObservability(listener, deps, { tokens: token === null ? [] : [token], openWithoutToken: token === null }, main);
  main.addHook('onClose', async () => {
    await listener.close();
  });
  return listener;
}
