import type { PeerCertificate } from 'node:tls';
import type { OcppVersion } from './errors.js';

export type { OcppVersion } from './errors.js';

/**
 * What `authenticateStation` decided. 'pending' admits the connection but tells the handler the
 * station is not (yet) registered, so its translator can answer BootNotification with Pending
 * (OCPP 1.6 §4.2, 2.0.1 B02) instead of refusing the socket. The object form also names the tenant.
 */
export type AuthenticationDecision =
  | 'accept'
  | 'reject'
  | 'pending'
  | { readonly status: 'accept' | 'pending'; readonly tenantId?: string };

export interface HandshakeTransport {
  /** The connection came over TLS (security profile 2 or 3); the hook enforces the station's configured profile. */
  readonly tls: boolean;
  /** The peer's IP address as the socket sees it (no proxy headers): the key of wrong-password throttling. */
  readonly remoteAddress?: string;
  /**
   * Set when the station sent a client certificate that did not verify against the server's CA:
   * OpenSSL's reason (`CERT_HAS_EXPIRED`, `UNABLE_TO_VERIFY_LEAF_SIGNATURE`...). The certificate
   * itself is then not passed on.
   */
  readonly tlsAuthorizationError?: string;
}

/**
 * Decides whether a station may connect. `password` is the Basic auth password (security profiles 1
 * and 2; absent when none was sent); `tlsClientCert` is the client certificate, given only when it
 * verified against the configured CA (profile 3). The username has already been checked to equal the
 * station id (2.0.1 Part 2 A00.FR.203).
 */
export type AuthenticateStation = (
  stationId: string,
  password: string | undefined,
  tlsClientCert: PeerCertificate | undefined,
  transport: HandshakeTransport,
) => Promise<AuthenticationDecision>;

export interface ConnectionContext {
  readonly stationId: string;
  /**
   * A random id (UUID) the gateway gives each WebSocket it accepts: calls of one socket share it, a
   * reconnect gets a new one. It tells a station's sessions apart where its own ids cannot (message
   * ids restart after a reboot), e.g. for the command id of a BootNotification.
   */
  readonly connectionId: string;
  readonly ocppVersion: OcppVersion;
  readonly tenantId?: string;
  readonly admission: 'accepted' | 'pending';
  readonly remoteAddress?: string;
  readonly tlsClientCert?: PeerCertificate;
}

export interface CallContext {
  readonly stationId: string;
  readonly ocppVersion: OcppVersion;
  /** The CALL's message id: the correlationId of the events it causes (docs/design.md, "Events"). */
  readonly messageId: string;
  /** The `ConnectionContext.connectionId` of the socket the CALL came on. */
  readonly connectionId: string;
  readonly tenantId?: string;
  readonly admission: 'accepted' | 'pending';
}

export interface InvalidMessage {
  /** '-1' when the frame's id could not be read. */
  readonly messageId: string;
  readonly action?: string;
  /** The CALLERROR code sent, or undefined for a broken CALLRESULT/CALLERROR, which is not answered. */
  readonly code?: string;
  readonly description: string;
  /** The offending frame, cut to a few hundred characters for the record. */
  readonly frame?: string;
}

export type DisconnectReason =
  | 'closedByStation'
  | 'pingTimeout'
  | 'protocolError'
  | 'frameTooBig'
  /** It did not read our answers: more than `sendBufferBytesMax` waited to be written (limits.ts). */
  | 'sendBufferFull'
  | 'serverShutdown';

/**
 * The lead's translators implement this. The gateway has already validated the payload against
 * the official schema for `ocppVersion` and validates the returned payload as well.
 */
export interface OcppHandler {
  onConnected(ctx: ConnectionContext): Promise<void> | void;
  /**
   * Answers one station→CSMS CALL; calls of one station come strictly one at a time. Throw an
   * `OcppCallError` to answer with a CALLERROR; any other error is answered with InternalError,
   * logged, and the connection stays open.
   */
  handleCall(ctx: CallContext, action: string, payload: unknown): Promise<unknown>;
  /**
   * A message refused before reaching `handleCall` (bad frame, unknown action, schema violation),
   * after its CALLERROR was sent: for the record docs/design.md asks of invalid CALLs. Optional; its
   * failures are logged and never affect the connection.
   */
  onInvalidMessage?(ctx: ConnectionContext, problem: InvalidMessage): Promise<void> | void;
  /** The station's current connection ended (a connection replaced by a newer one does not count). */
  onDisconnected(ctx: ConnectionContext, reason: DisconnectReason): Promise<void> | void;
}

export interface StationCallOptions {
  /** From `call()` to the answer, queueing and reconnecting included; default `ocppCallTimeoutMs`. */
  readonly timeoutMs?: number;
}

/** How the CSMS sends calls to stations. Rejects only with `StationCallError` subclasses. */
export interface StationCaller {
  call(stationId: string, action: string, payload: unknown, options?: StationCallOptions): Promise<unknown>;
  /** The version of the station's current connection, or undefined when it is not connected. */
  versionOf(stationId: string): OcppVersion | undefined;
  connectedStationIds(): string[];
}

export interface OcppGatewayLimits {
  readonly frameBytesMax: number;
  readonly incomingCallsQueuedMax: number;
  readonly handlerTimeoutMs: number;
  readonly recentCallsMax: number;
  readonly outgoingQueueMax: number;
  readonly callTimeoutMs: number;
  readonly reconnectWindowMs: number;
  readonly pingIntervalMs: number;
  readonly handshakeTimeoutMs: number;
  readonly sendBufferBytesMax: number;
}

export interface OcppLogger {
  info(object: object, message: string): void;
  warn(object: object, message: string): void;
  error(object: object, message: string): void;
}

export interface OcppGatewayOptions {
  readonly handler: OcppHandler;
  readonly authenticateStation: AuthenticateStation;
  /** Versions we accept, most preferred first; the first one the station also offers wins. Default 2.0.1, then 1.6. */
  readonly subprotocols?: readonly OcppVersion[];
  /** URL prefix; stations connect to `${path}/{stationId}`. Default '/ocpp'. */
  readonly path?: string;
  readonly limits?: Partial<OcppGatewayLimits>;
}
