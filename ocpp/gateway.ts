import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import { OcppGateway } from './ocpp-gateway.js';
import { refuseHandshake } from './handshake.js';
import type { OcppGatewayOptions, StationCaller } from './types.js';

export { OcppGateway, closeCodeNoSubprotocol, closeCodeReplaced, defaultOcppLimits } from './ocpp-gateway.js';
export * from './errors.js';
export * from './types.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** Sends CSMS→station calls through the gateway (see StationCaller). */
    ocppStations: StationCaller;
  }
}

/**
 * The OCPP-J endpoint `${path}/{stationId}` (docs/design.md, "OCPP gateway") on the fastify server's
 * own HTTP(S) server: listen with `https: { ..., requestCert: true, rejectUnauthorized: false, ca }`
 * for security profiles 2 and 3; the verified client certificate reaches `authenticateStation`.
 *
 * Handshake answers: 400 malformed station id, 401 credentials refused (Basic challenge), 503 the
 * credential check failed or took longer than `handshakeTimeoutMs`; no acceptable subprotocol:
 * 101 without Sec-WebSocket-Protocol and an immediate close 1002 (OCPP-J §3.1.2).
 */
const plugin: FastifyPluginAsync<OcppGatewayOptions> = async (fastify: FastifyInstance, options) => {
  const gateway = new OcppGateway(options, fastify.log);
  fastify.decorate('ocppStations', gateway);

  const onUpgrade = (request: Parameters<OcppGateway['handleUpgrade']>[0], socket: Parameters<OcppGateway['handleUpgrade']>[1], head: Buffer): void => {
    if (!gateway.handlesUrl(request.url)) {
      // Other upgrade listeners may own other paths; if there are none, nobody would answer.
      if (fastify.server.listenerCount('upgrade') === 1) refuseHandshake(socket, 404);
      return;
    }
    gateway.handleUpgrade(request, socket, head).catch((error: unknown) => {
      fastify.log.error({ err: error }, 'ocpp upgrade failed');
      refuseHandshake(socket, 500);
    });
  };
  fastify.server.on('upgrade', onUpgrade);

  // preClose runs before the HTTP server stops accepting: upgraded sockets would otherwise keep it open.
  fastify.addHook('preClose', async () => {
    fastify.server.off('upgrade', onUpgrade);
    await gateway.close();
  });
};

// Like fastify-plugin: the decoration is visible to the whole server, not only inside this plugin.
(plugin as unknown as Record<symbol, unknown>)[Symbol.for('skip-override')] = true;
(plugin as unknown as Record<symbol, unknown>)[Symbol.for('fastify.display-name')] = 'ocpp-gateway';

export const ocppGatewayPlugin = plugin;
