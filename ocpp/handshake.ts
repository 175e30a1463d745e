import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { STATUS_CODES } from 'node:http';
import type { OcppVersion } from './errors.js';
import { ocppStationIdCharsMax } from './limits.js';

/**
 * The HTTP side of the OCPP-J handshake (OCPP-J 1.6 §3, 2.0.1 Part 4 §3): station identity from
 * the URL, Basic credentials, subprotocol choice.
 */

/**
 * 2.0.1 Part 2 identifierString (a-z A-Z 0-9 * - _ = : + | @ .) without ':', which Part 4 §3.1.1
 * forbids in the identity because it separates user and password in Basic auth. 1.6 sets no
 * character set; we hold 1.6 stations to the same rule so one id works in both versions.
 */
const stationIdPattern = /^[A-Za-z0-9*\-_=+|@.]+$/;

export type StationIdResult = { ok: true; stationId: string } | { ok: false; reason: string };

/** `url` is the request target; `prefix` is e.g. '/ocpp'. Null when the URL is not under the prefix at all. */
export function stationIdFromUrl(url: string, prefix: string): StationIdResult | null {
  const path = url.split('?', 1)[0] ?? '';
  if (!path.startsWith(`${prefix}/`)) return null;
  const encoded = path.slice(prefix.length + 1);
  let stationId: string;
  try {
    stationId = decodeURIComponent(encoded); // the identity is percent-encoded in the URL (Part 4 §3.1.1)
  } catch {
    return { ok: false, reason: 'station id is not valid percent-encoding' };
  }
  if (stationId.length === 0 || stationId.length > ocppStationIdCharsMax) {
    return { ok: false, reason: `station id must have 1..${ocppStationIdCharsMax} characters` };
  }
  if (!stationIdPattern.test(stationId)) return { ok: false, reason: 'station id has characters outside identifierString' };
  return { ok: true, stationId };
}

export type BasicCredentials = { username: string; password: string };

/** RFC 7617 Basic credentials, or undefined when the header is absent or not Basic. */
export function basicCredentials(request: IncomingMessage): BasicCredentials | undefined {
  const header = request.headers.authorization;
  const match = header ? /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header) : null;
  if (!match) return undefined;
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/** The first of our preferred versions that the station offers, or undefined. */
export function chooseSubprotocol(request: IncomingMessage, preference: readonly OcppVersion[]): OcppVersion | undefined {
  const offered = new Set(
    (request.headers['sec-websocket-protocol'] ?? '')
      .split(',')
      .map((protocol) => protocol.trim())
      .filter((protocol) => protocol.length > 0),
  );
  return preference.find((version) => offered.has(version));
}

/** Answers the upgrade request with a plain HTTP error and drops the socket. */
export function refuseHandshake(socket: Duplex, status: number, headers: Record<string, string> = {}): void {
  if (socket.destroyed) return;
  const lines = [
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}`,
    'Connection: close',
    'Content-Length: 0',
    ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`),
  ];
  socket.end(`${lines.join('\r\n')}\r\n\r\n`, () => socket.destroy());
}

/**
 * Thrown by `authenticateStation` to refuse a handshake for now, not for good: 429 (this station id
 * or address is sending too many wrong passwords) or 503 (the server is busy checking passwords),
 * both with Retry-After (RFC 6585 §4, RFC 9110 §10.2.3) so a station knows when to come back
 * without being told its credentials are wrong.
 */
export class HandshakeRefusedError extends Error {
  override readonly name: string = 'HandshakeRefusedError';
  constructor(
    readonly status: 429 | 503,
    readonly retryAfterSeconds: number,
    message: string,
  ) {
    super(message);
  }
}
