import type { AddressInfo } from 'node:net';
import type { PeerCertificate } from 'node:tls';
import Fastify, { type FastifyInstance } from 'fastify';
import { OcppCallError, ocppGatewayPlugin } from '../../ocpp/gateway.js';
import type {
  AuthenticateStation, CallContext, ConnectionContext, DisconnectReason, InvalidMessage, OcppGatewayOptions, OcppHandler,
} from '../../ocpp/gateway.js';
import { StationSimulator, type StationSimulatorOptions } from '../support/station-simulator.js';

/** A real fastify server on 127.0.0.1 with the gateway and a small handler that records what it saw. */

export const passwords: Record<string, string> = { 'CP-1': 'secret-1', 'CP-2': 'secret-2', 'CP-P': 'pending-1' };

export const bootNotification16 = { chargePointVendor: 'Acme', chargePointModel: 'Fast-1' };
export const bootNotification201 = { reason: 'PowerUp', chargingStation: { vendorName: 'Acme', model: 'Fast-1' } };

export class RecordingHandler implements OcppHandler {
  readonly calls: { ctx: CallContext; action: string; payload: unknown }[] = [];
  readonly events: { type: 'connected' | 'disconnected'; stationId: string; reason?: DisconnectReason; ctx: ConnectionContext }[] = [];
  readonly invalid: InvalidMessage[] = [];
  running = 0;
  runningMax = 0;

  onInvalidMessage(_ctx: ConnectionContext, problem: InvalidMessage): void {
    this.invalid.push(problem);
  }

  onConnected(ctx: ConnectionContext): void {
    this.events.push({ type: 'connected', stationId: ctx.stationId, ctx });
  }

  onDisconnected(ctx: ConnectionContext, reason: DisconnectReason): void {
    this.events.push({ type: 'disconnected', stationId: ctx.stationId, reason, ctx });
  }

  async handleCall(ctx: CallContext, action: string, payload: unknown): Promise<unknown> {
    this.calls.push({ ctx, action, payload });
    this.running += 1;
    this.runningMax = Math.max(this.runningMax, this.running);
    try {
      return await this.answer(ctx, action, payload as Record<string, unknown>);
    } finally {
      this.running -= 1;
    }
  }

  callsOf(action: string): number {
    return this.calls.filter((c) => c.action === action).length;
  }

  private async answer(ctx: CallContext, action: string, payload: Record<string, unknown>): Promise<unknown> {
    const currentTime = new Date().toISOString();
    switch (action) {
      case 'Heartbeat':
        return { currentTime };
      case 'BootNotification':
        return { status: ctx.admission === 'accepted' ? 'Accepted' : 'Pending', currentTime, interval: 300 };
      case 'Authorize': {
        // The idTag (1.6) or idToken (2.0.1) steers the failure cases.
        const id = (payload.idTag ?? (payload.idToken as { idToken?: string } | undefined)?.idToken) as string;
        if (id === 'THROW') throw new Error('database down');
        if (id === 'REFUSE') throw new OcppCallError('SecurityError', 'not for you', { hint: 1 });
        if (id === 'BADCODE') throw new OcppCallError('FormatViolation', 'a 2.0.1 code on a 1.6 connection');
        if (id === 'INVALID') return { idTagInfo: { status: 'Maybe' } };
        if (id === 'HANG') return new Promise(() => {});
        return ctx.ocppVersion === 'ocpp1.6' ? { idTagInfo: { status: 'Accepted' } } : { idTokenInfo: { status: 'Accepted' } };
      }
      case 'DataTransfer': {
        // `data` is a delay in ms: a slow call, to see calls queue behind it.
        await new Promise((resolve) => setTimeout(resolve, Number(payload.data ?? 0)));
        return { status: 'Accepted', data: String(this.calls.length) };
      }
      default:
        throw new OcppCallError('NotSupported', `${action} not handled by the test handler`);
    }
  }
}

export const authenticateByPassword: AuthenticateStation = async (stationId, password, cert) => {
  if (cert) return cert.subject?.CN === stationId ? 'accept' : 'reject';
  if (password === undefined || passwords[stationId] === undefined) return 'reject';
  if (password !== passwords[stationId]) return 'reject';
  return stationId === 'CP-P' ? 'pending' : { status: 'accept', tenantId: 't1' };
};

export interface TestGateway {
  readonly app: FastifyInstance;
  readonly handler: RecordingHandler;
  /** e.g. ws://127.0.0.1:PORT/ocpp */
  readonly url: string;
  connect(stationId: string, protocols: string[], extra?: Partial<StationSimulatorOptions>): Promise<StationSimulator>;
  close(): Promise<void>;
}

export async function startGateway(
  options: Partial<OcppGatewayOptions> = {},
  server: { https?: import('node:https').ServerOptions } = {},
): Promise<TestGateway> {
  const handler = options.handler instanceof RecordingHandler ? options.handler : new RecordingHandler();
  const app = (server.https
    ? Fastify({ logger: false, forceCloseConnections: true, https: server.https })
    : Fastify({ logger: false, forceCloseConnections: true })) as unknown as FastifyInstance;
  await app.register(ocppGatewayPlugin, { authenticateStation: authenticateByPassword, ...options, handler });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as AddressInfo;
  const url = `${server.https ? 'wss' : 'ws'}://127.0.0.1:${port}/ocpp`;
  const simulators: StationSimulator[] = [];
  return {
    app,
    handler,
    url,
    async connect(stationId, protocols, extra = {}) {
      const password = passwords[stationId];
      const simulator = await StationSimulator.connect({
        url,
        stationId,
        protocols,
        ...(password !== undefined ? { password } : {}),
        ...extra,
      });
      simulators.push(simulator);
      return simulator;
    },
    async close() {
      for (const simulator of simulators) simulator.terminate();
      await app.close();
    },
  };
}

export function isCallError(frame: unknown, code?: string, messageId?: string): boolean {
  return Array.isArray(frame) && frame[0] === 4 && (code === undefined || frame[2] === code) && (messageId === undefined || frame[1] === messageId);
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export async function eventually(check: () => boolean, timeoutMs = 3_000): Promise<void> {
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start > timeoutMs) throw new Error('condition not met in time');
    await sleep(10);
  }
}

export type { PeerCertificate };
