import type { FastifyInstance } from 'fastify';
import type { Clock } from '../../adapters/clock/clock.js';
import type { EventStore } from '../../adapters/event-store/port.js';
import type { SqlDatabase } from '../../adapters/sql/port.js';
import type { CommandBus } from '../../commands/index.js';
import type { RegistrationPolicy } from '../../domain/station/commands.js';
import { createCsmsOcppHandler } from '../../ocpp/csms-handler.js';
import { ocppGatewayPlugin } from '../../ocpp/gateway.js';
import { postgresTransactionIdAllocator } from '../../ocpp/transaction-ids.js';
import type { RealtimeAuthorizer } from '../../ocpp/translate/shared/authorization.js';
import type { Config } from '../config.js';
import { createStationAuthenticator, createStationCredentialsLookup, type StationAuthenticator } from '../station-auth.js';

/**
 * The OCPP surface: the gateway (transport, ocpp/gateway.ts) with the CSMS handler (translators →
 * command bus) and station authentication by security profile (api/station-auth.ts).
 * Stations connect to `${path}/{stationId}`; `app.ocppStations` sends CSMS→station calls and
 * `app.stationAuthentication` exposes the denial counters and cache control.
 */

declare module 'fastify' {
  interface FastifyInstance {
    stationAuthentication: StationAuthenticator;
  }
}

export interface OcppWiringOptions {
  readonly db: SqlDatabase;
  readonly eventStore: EventStore;
  readonly bus: CommandBus;
  readonly clock: Clock;
  readonly tenantId: string;
  readonly settings: Config['ocpp'];
  /** URL prefix, '/ocpp'. */
  readonly path: string;
  /** OCPI real-time authorization with eMSPs (ocpi/tokens/realtime.ts); absent: tokens are decided locally. */
  readonly realtimeAuthorizer?: RealtimeAuthorizer;
  /** NODE_ID, recorded with each station connection. */
  readonly nodeId?: string;
}

/** Each unknown-station policy as the answer to BootNotification (the handshake part is in station-auth.ts). */
const registrationPolicies: Record<Config['ocpp']['unknownStations'], RegistrationPolicy> = {
  reject: { unknownStation: 'Rejected' },
  // The translator answers Pending to stations admitted as pending whatever this says; Pending here too for clarity.
  pending: { unknownStation: 'Pending' },
  accept: { unknownStation: 'Accepted' },
};

/** Registers at the root (not under a prefix): the gateway listens on the HTTP server's upgrade event. */
export async function registerOcpp(app: FastifyInstance, options: OcppWiringOptions): Promise<void> {
  const transactionIds = await postgresTransactionIdAllocator(options.db);
  const authenticator = createStationAuthenticator({
    lookup: createStationCredentialsLookup({ db: options.db, eventStore: options.eventStore }),
    tenantId: options.tenantId,
    unknownStations: options.settings.unknownStations,
    allowUnsecured: options.settings.allowUnsecured,
    log: app.log,
  });
  app.decorate('stationAuthentication', authenticator);
  const handler = createCsmsOcppHandler({
    bus: options.bus,
    eventStore: options.eventStore,
    clock: options.clock,
    transactionIds,
    defaultTenantId: options.tenantId,
    registrationPolicy: registrationPolicies[options.settings.unknownStations],
    heartbeatIntervalSeconds: options.settings.heartbeatIntervalSeconds,
    unknownTokenPolicy: options.settings.unknownTokens,
    ...(options.realtimeAuthorizer ? { realtimeAuthorizer: options.realtimeAuthorizer } : {}),
    ...(options.nodeId === undefined ? {} : { nodeId: options.nodeId }),
    onUnrecorded: (message) => app.log.info(message, 'ocpp message answered but not recorded'),
  });
  await app.register(ocppGatewayPlugin, {
    handler,
    authenticateStation: authenticator.authenticateStation,
    path: options.path,
    limits: { pingIntervalMs: options.settings.pingIntervalSeconds * 1000 },
  });
  // A plain HTTP request (a browser, a misconfigured station) learns what the endpoint wants.
  const upgradeRequired = async (_request: unknown, reply: import('fastify').FastifyReply) =>
    reply.code(426).header('upgrade', 'websocket').send({ error: 'Upgrade Required', message: 'OCPP-J: open a WebSocket with subprotocol ocpp1.6 or ocpp2.0.1' });
  app.get(`${options.path}/*`, upgradeRequired);
  app.get(options.path, upgradeRequired);
}
