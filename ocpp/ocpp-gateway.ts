import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { TLSSocket, type PeerCertificate } from 'node:tls';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { errorCodeFor, InvalidStationCallError, StationDisconnectedError, StationNotConnectedError } from './errors.js';
import { withDeadline } from '../adapters/clock/deadline.js';
import { reportUnexpectedError } from '../adapters/observability/unexpected-errors.js';
import { encodeCallError, encodeFault, parseFrame, recordableText, unreadableMessageId, type ParsedFrame } from './framing.js';
import { basicCredentials, chooseSubprotocol, HandshakeRefusedError, refuseHandshake, stationIdFromUrl } from './handshake.js';
import { IncomingCalls, reportInvalid } from './incoming-calls.js';
import * as limits from './limits.js';
import { OutgoingCalls } from './outgoing-calls.js';
import { ocppSchemas, type OcppSchemas } from './schemas.js';
import { StationSession, type StationConnection } from './station-session.js';
import type {
  AuthenticationDecision, ConnectionContext, OcppGatewayLimits, OcppGatewayOptions, OcppLogger,
  OcppVersion, StationCallOptions, StationCaller,
} from './types.js';

export const defaultOcppLimits: OcppGatewayLimits = {
  frameBytesMax: limits.ocppFrameBytesMax,
  incomingCallsQueuedMax: limits.ocppIncomingCallsQueuedMax,
  handlerTimeoutMs: limits.ocppHandlerTimeoutMs,
  recentCallsMax: limits.ocppRecentCallsMax,
  outgoingQueueMax: limits.ocppOutgoingQueueMax,
  callTimeoutMs: limits.ocppCallTimeoutMs,
  reconnectWindowMs: limits.ocppReconnectWindowMs,
  pingIntervalMs: limits.ocppPingIntervalMs,
  handshakeTimeoutMs: limits.ocppHandshakeTimeoutMs,
  sendBufferBytesMax: limits.ocppSendBufferBytesMax,
};

/** Private-use close code (RFC 6455 §7.4.2) for "a newer connection of this station took over". */
export const closeCodeReplaced = 4000;
/** RFC 6455 §7.4.1: 1002 protocol error, used when no offered subprotocol is acceptable. */
export const closeCodeNoSubprotocol = 1002;

/** The WebSocket side of the gateway, independent of fastify: feed it 'upgrade' events. */
export class OcppGateway implements StationCaller {
  readonly limits: OcppGatewayLimits;
  private readonly sessions = new Map<string, StationSession>();
  private readonly chosenProtocol = new WeakMap<IncomingMessage, OcppVersion>();
  private readonly wss: WebSocketServer;
  private readonly pingTimer: NodeJS.Timeout;
  private readonly schemas: OcppSchemas = ocppSchemas();
  private readonly path: string;
  private readonly preference: readonly OcppVersion[];

  constructor(private readonly options: OcppGatewayOptions, private readonly log: OcppLogger) {
    this.limits = { ...defaultOcppLimits, ...options.limits };
    this.path = options.path ?? '/ocpp';
    this.preference = options.subprotocols ?? ['ocpp2.0.1', 'ocpp1.6'];
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: this.limits.frameBytesMax, // beyond it ws closes with 1009 before buffering the frame
      perMessageDeflate: false,
      // Without a protocol the handshake completes with no Sec-WebSocket-Protocol header, as
      // OCPP-J 1.6 §3.1.2 and 2.0.1 Part 4 §3.1.2 describe for refusing the offered versions.
      handleProtocols: (_offered, request) => this.chosenProtocol.get(request) ?? false,
    });
    this.pingTimer = setInterval(() => this.pingAll(), this.limits.pingIntervalMs);
    this.pingTimer.unref();
  }

  /** True when the URL belongs to the gateway (and the socket is now its business). */
  handlesUrl(url: string | undefined): boolean {
    return stationIdFromUrl(url ?? '', this.path) !== null;
  }

  async handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const swallow = (): void => {}; // a station may drop the TCP connection while we authenticate it
    socket.on('error', swallow);
    const parsed = stationIdFromUrl(request.url ?? '', this.path);
    if (!parsed?.ok) return refuseHandshake(socket, parsed ? 400 : 404);
    const { stationId } = parsed;
    const credentials = basicCredentials(request);
    // 2.0.1 Part 2 A00.FR.203: the Basic username is the station identity.
    if (credentials && credentials.username !== stationId) return refuseHandshake(socket, 401, basicChallenge);
    const tls = socket instanceof TLSSocket;
    const cert = tls && socket.authorized ? nonEmpty(socket.getPeerCertificate()) : undefined;
    const remoteAddress = request.socket.remoteAddress;
    // A certificate that was sent but did not verify: pass OpenSSL's reason on, so the refusal names it.
    const tlsAuthorizationError = tls && !socket.authorized && nonEmpty(socket.getPeerCertificate()) ? String(socket.authorizationError) : undefined;
    let decision: AuthenticationDecision;
    try {
      decision = await withDeadline(
        this.options.authenticateStation(stationId, credentials?.password, cert, {
          tls,
          ...(remoteAddress !== undefined ? { remoteAddress } : {}),
          ...(tlsAuthorizationError !== undefined ? { tlsAuthorizationError } : {}),
        }),
        this.limits.handshakeTimeoutMs,
        () => new Error(`no decision within ${this.limits.handshakeTimeoutMs} ms`),
      );
    } catch (error) {
      // "Come back later" (too many wrong passwords, password checks busy): counted by the hook, not logged per attempt.
      if (error instanceof HandshakeRefusedError) return refuseHandshake(socket, error.status, { 'Retry-After': String(error.retryAfterSeconds) });
      this.log.error({ err: error, stationId }, 'ocpp station authentication failed');
      return refuseHandshake(socket, 503);
    }
    if (decision === 'reject') {
      this.log.warn({ stationId, remoteAddress: request.socket.remoteAddress }, 'ocpp station refused: authentication');
      return refuseHandshake(socket, 401, basicChallenge);
    }
    if (socket.destroyed) return;
    const status = typeof decision === 'string' ? decision : decision.status;
    const version = chooseSubprotocol(request, this.preference);
    if (version) this.chosenProtocol.set(request, version);
    socket.off('error', swallow);
    this.wss.handleUpgrade(request, socket, head, (ws) => {
      if (!version) {
        this.log.warn({ stationId, offered: request.headers['sec-websocket-protocol'] }, 'ocpp station refused: subprotocol');
        return ws.close(closeCodeNoSubprotocol, 'no supported OCPP version offered');
      }
      this.accept(ws, {
        stationId,
        ocppVersion: version,
        admission: status === 'accept' ? 'accepted' : 'pending',
        ...(typeof decision === 'object' && decision.tenantId !== undefined ? { tenantId: decision.tenantId } : {}),
        ...(request.socket.remoteAddress ? { remoteAddress: request.socket.remoteAddress } : {}),
        ...(cert ? { tlsClientCert: cert } : {}),
      });
    });
  }

  /** Takes over an upgraded socket; every listener it adds is guarded, so nothing a station does can throw out of it. */
  private accept(ws: WebSocket, socketCtx: Omit<ConnectionContext, 'connectionId'>): void {
    const ctx: ConnectionContext = { ...socketCtx, connectionId: randomUUID() };
    const { stationId } = ctx;
    try {
      this.adopt(ws, ctx);
    } catch (error) {
      reportUnexpectedError(this.log, connectionComponent, error, { stationId });
      ws.terminate();
    }
  }

  private adopt(ws: WebSocket, ctx: ConnectionContext): void {
    const { stationId } = ctx;
    const session = this.sessions.get(stationId) ?? this.newSession(stationId, ctx.ocppVersion);
    session.cancelExpiry();
    const older = session.connection;
    if (older) {
      // Usually the older socket is half-open (the station rebooted or changed network): the newer wins.
      older.closeReason = 'replaced';
      older.ws.close(closeCodeReplaced, 'replaced by a newer connection');
      session.outgoing.detach();
    }
    const connection: StationConnection = { ws, ctx, alive: true };
    session.connection = connection;
    session.version = ctx.ocppVersion;
    this.log.info({ stationId, ocppVersion: ctx.ocppVersion, replaced: Boolean(older) }, 'ocpp station connected');

    ws.on('message', (data, isBinary) => this.onMessage(session, connection, data, isBinary));
    ws.on('pong', () => {
      connection.alive = true;
    });
    ws.on('error', (error: Error & { code?: string }) => {
      if (error.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') connection.closeReason ??= 'frameTooBig';
      else connection.closeReason ??= 'protocolError';
      this.log.warn({ stationId, err: error }, 'ocpp websocket error');
    });
    ws.on('close', () => {
      try {
        this.onClose(session, connection);
      } catch (error) {
        reportUnexpectedError(this.log, connectionComponent, error, { stationId });
      }
    });

    session.incoming.runInTurn(stationId, 'onConnected', () => this.options.handler.onConnected(ctx));
    session.outgoing.attach(
      ctx.ocppVersion,
      (frame) => session.send(connection, frame),
      (call) => new StationDisconnectedError(stationId, call.action, `reconnected with ${ctx.ocppVersion}; the call was made for another version`),
    );
  }

  private newSession(stationId: string, version: OcppVersion): StationSession {
    const session = new StationSession(
      stationId,
      version,
      new IncomingCalls(this.schemas, this.options.handler, this.limits, this.log),
      new OutgoingCalls(stationId, this.limits.outgoingQueueMax, this.schemas, this.log),
      this.limits.sendBufferBytesMax,
    );
    this.sessions.set(stationId, session);
    return session;
  }

  /**
   * One frame from a station. Nothing it holds may throw out of here (that would reach the process):
   * an unexpected error is answered InternalError when a CALL id is known, logged and counted.
   */
  private onMessage(session: StationSession, connection: StationConnection, data: RawData, isBinary: boolean): void {
    let callId: string | undefined;
    const unexpected = (error: unknown): void => {
      const { stationId, ocppVersion } = connection.ctx;
      reportUnexpectedError(this.log, connectionComponent, error, { stationId, ...(callId ? { messageId: callId } : {}) });
      if (callId === undefined) return;
      try {
        session.send(connection, encodeCallError(callId, errorCodeFor('internal', ocppVersion), 'internal error'));
      } catch (sendError) {
        reportUnexpectedError(this.log, connectionComponent, sendError, { stationId, messageId: callId });
      }
    };
    try {
      const parsed = readFrame(data, isBinary);
      if (parsed.ok && parsed.frame.type === 'call') callId = parsed.frame.messageId;
      this.onFrame(session, connection, parsed, data).catch(unexpected);
    } catch (error) {
      unexpected(error);
    }
  }

  private async onFrame(session: StationSession, connection: StationConnection, parsed: ParsedFrame, data: RawData): Promise<void> {
    const { ctx } = connection;
    if (!parsed.ok) {
      const { fault } = parsed;
      const code = fault.answer ? errorCodeFor(fault.kind, ctx.ocppVersion) : undefined;
      if (fault.answer) session.send(connection, encodeFault(ctx.ocppVersion, fault));
      const faults = countFault(connection, Date.now());
      if (faults > limits.ocppFrameFaultsPerWindowMax) return;
      if (faults === limits.ocppFrameFaultsPerWindowMax) {
        this.log.warn({ stationId: ctx.stationId, faults }, 'ocpp station keeps sending unreadable frames: further ones in this minute are answered, not logged');
      }
      reportInvalid(this.options.handler, this.log, ctx, {
        messageId: fault.messageId,
        description: fault.description,
        frame: recordableText(lossyText(data), limits.ocppInvalidFrameRecordCharsMax),
        ...(code ? { code } : {}),
      });
      return;
    }
    const { frame } = parsed;
    switch (frame.type) {
      case 'call': {
        const callCtx = {
          stationId: ctx.stationId,
          ocppVersion: ctx.ocppVersion,
          messageId: frame.messageId,
          connectionId: ctx.connectionId,
          admission: ctx.admission,
          ...(ctx.tenantId !== undefined ? { tenantId: ctx.tenantId } : {}),
        };
        return session.incoming.receive(callCtx, frame.action, frame.payload, ctx, (answer) => session.send(connection, answer));
      }
      case 'callResult':
        return session.outgoing.onCallResult(frame.messageId, frame.payload);
      case 'callError':
        return session.outgoing.onCallError(frame.messageId, frame.code, frame.description, frame.details);
    }
  }

  private onClose(session: StationSession, connection: StationConnection): void {
    if (connection.closeReason === 'replaced' || session.connection !== connection) return;
    const reason = connection.closeReason ?? 'closedByStation';
    session.connection = undefined;
    session.outgoing.detach();
    this.log.info({ stationId: session.stationId, reason }, 'ocpp station disconnected');
    session.incoming.runInTurn(session.stationId, 'onDisconnected', () => this.options.handler.onDisconnected(connection.ctx, reason));
    if (reason === 'serverShutdown') return;
    session.scheduleExpiry(this.limits.reconnectWindowMs, () => {
      this.sessions.delete(session.stationId);
      session.outgoing.failAll((call) => new StationDisconnectedError(session.stationId, call.action, 'did not reconnect in time'));
    });
  }

  private pingAll(): void {
    for (const { connection } of this.sessions.values()) {
      if (!connection) continue;
      if (!connection.alive) {
        connection.closeReason = 'pingTimeout';
        connection.ws.terminate();
        continue;
      }
      connection.alive = false;
      connection.ws.ping();
    }
  }

  call(stationId: string, action: string, payload: unknown, options: StationCallOptions = {}): Promise<unknown> {
    const session = this.sessions.get(stationId);
    if (!session) return Promise.reject(new StationNotConnectedError(stationId, action, 'not connected'));
    const { version } = session;
    if (!this.schemas.isCsmsInitiated(version, action)) {
      return Promise.reject(new InvalidStationCallError(stationId, action, `not an action the CSMS sends in ${version}`));
    }
    const violation = this.schemas.validate(version, action, 'Request', payload);
    if (violation) return Promise.reject(new InvalidStationCallError(stationId, action, `${violation.code}: ${violation.description}`));
    return session.outgoing.enqueue(version, action, payload, options.timeoutMs ?? this.limits.callTimeoutMs);
  }

  versionOf(stationId: string): OcppVersion | undefined {
    return this.sessions.get(stationId)?.connection?.ctx.ocppVersion;
  }

  connectedStationIds(): string[] {
    return [...this.sessions.values()].filter((s) => s.connection).map((s) => s.stationId);
  }

  /** Closes every station with 1001 "going away" and fails what is queued for them. */
  async close(graceMs = 1_000): Promise<void> {
    clearInterval(this.pingTimer);
    const closing: Promise<void>[] = [];
    for (const session of this.sessions.values()) {
      session.cancelExpiry();
      session.outgoing.failAll((call) => new StationDisconnectedError(session.stationId, call.action, 'server shutting down'));
      const connection = session.connection;
      if (!connection) continue;
      connection.closeReason = 'serverShutdown';
      closing.push(new Promise((resolve) => connection.ws.once('close', () => resolve())));
      connection.ws.close(1001, 'server shutting down');
    }
    const deadline = setTimeout(() => this.wss.clients.forEach((ws) => ws.terminate()), graceMs);
    await Promise.all(closing);
    clearTimeout(deadline);
    this.sessions.clear();
    this.wss.close();
  }
}

const basicChallenge = { 'WWW-Authenticate': 'Basic realm="OCPP", charset="UTF-8"' };

/** Counts one unreadable frame of the connection; returns the count in the current `ocppFrameFaultWindowMs`. */
function countFault(connection: StationConnection, nowMs: number): number {
  const current = connection.frameFaults;
  const window = current !== undefined && nowMs - current.windowStartedAtMs < limits.ocppFrameFaultWindowMs ? current : { windowStartedAtMs: nowMs, count: 0 };
  window.count += 1;
  connection.frameFaults = window;
  return window.count;
}

/** The `reportUnexpectedError` component of everything caught at the edge of a station connection. */
const connectionComponent = 'ocpp-connection';

/** Refuses bytes that are not UTF-8 instead of replacing them: a U+FFFD in a stored id would be silent corruption. */
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

function rawBytes(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  return Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
}

/**
 * OCPP-J sends text frames, whose UTF-8 ws has already checked (it closes with 1007 on bad bytes,
 * RFC 6455 §8.1). A binary frame is still read as UTF-8 JSON rather than dropped, but strictly.
 */
function readFrame(data: RawData, isBinary: boolean): ParsedFrame {
  if (!isBinary) return parseFrame(rawBytes(data).toString('utf8'));
  let text: string;
  try {
    text = strictUtf8.decode(rawBytes(data));
  } catch {
    return { ok: false, fault: { kind: 'unreadable', messageId: unreadableMessageId, description: 'binary frame is not valid UTF-8', answer: true } };
  }
  return parseFrame(text);
}

/** The frame as text for the record of a refused frame; bad bytes become U+FFFD. */
function lossyText(data: RawData): string {
  return rawBytes(data).toString('utf8');
}

function nonEmpty(cert: PeerCertificate): PeerCertificate | undefined {
  return cert && Object.keys(cert).length > 0 ? cert : undefined;
}
