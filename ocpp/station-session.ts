import type { WebSocket } from 'ws';
import type { IncomingCalls } from './incoming-calls.js';
import type { OutgoingCalls } from './outgoing-calls.js';
import type { ConnectionContext, DisconnectReason, OcppVersion } from './types.js';

/** One WebSocket of a station. `closeReason` is set by whoever decides to end it, before ending it. */
export interface StationConnection {
  readonly ws: WebSocket;
  readonly ctx: ConnectionContext;
  /** Cleared at each ping, set by the pong; still clear at the next ping means the peer is gone. */
  alive: boolean;
  /** Unreadable frames in the current window (gateway's `ocppFrameFaultsPerWindowMax`). */
  frameFaults?: { windowStartedAtMs: number; count: number };
  closeReason?: DisconnectReason | 'replaced';
}

/**
 * What the gateway keeps about a station: its current connection (if any) and what must outlive
 * a reconnect, namely the outgoing queue and the recent answers. Dropped `reconnectWindowMs`
 * after its last connection closed.
 */
export class StationSession {
  connection: StationConnection | undefined;
  /** The version of the current or the last connection: what queued calls are validated against. */
  version: OcppVersion;
  private expiry: NodeJS.Timeout | undefined;

  constructor(
    readonly stationId: string,
    version: OcppVersion,
    readonly incoming: IncomingCalls,
    readonly outgoing: OutgoingCalls,
    private readonly sendBufferBytesMax: number,
  ) {
    this.version = version;
  }

  /**
   * Sends on `connection` if it is still open; false when it is not. A frame for a connection that
   * has closed meanwhile is dropped: a repeated CALL on the next connection gets the answer from the
   * recent-calls cache instead (incoming-calls.ts replays only answers that never went out).
   */
  send(connection: StationConnection, frame: string): boolean {
    const { ws } = connection;
    if (ws.readyState !== ws.OPEN) return false;
    if (ws.bufferedAmount + Buffer.byteLength(frame) > this.sendBufferBytesMax) {
      // A peer that does not read what it asked for: buffering on would let it grow our memory
      // without end (limits.ts, ocppSendBufferBytesMax). Terminate, not close: a close frame
      // would queue behind the same unread bytes.
      connection.closeReason ??= 'sendBufferFull';
      ws.terminate();
      return false;
    }
    ws.send(frame);
    return true;
  }

  scheduleExpiry(windowMs: number, expire: () => void): void {
    this.cancelExpiry();
    this.expiry = setTimeout(expire, windowMs);
    this.expiry.unref();
  }

  cancelExpiry(): void {
    if (this.expiry) clearTimeout(this.expiry);
    this.expiry = undefined;
  }
}
