import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { WebSocket, type ClientOptions, type RawData } from 'ws';

/**
 * A charging station of our own, OCPP-J 1.6 or 2.0.1, for tests and the load benchmark (so: no
 * test-framework imports). It speaks the RPC layer only; the caller chooses the messages.
 */

export type CsmsCallHandler = (payload: unknown, call: { messageId: string; action: string }) => unknown;

export interface StationSimulatorOptions {
  /** Endpoint without the station id, e.g. ws://127.0.0.1:8080/ocpp. */
  readonly url: string;
  readonly stationId: string;
  /** Offered subprotocols, in the station's preference order. */
  readonly protocols: readonly string[];
  readonly password?: string;
  /** Basic auth username; defaults to the station id (set it to test a mismatch). */
  readonly username?: string;
  readonly tls?: { ca?: string | Buffer; cert?: string | Buffer; key?: string | Buffer };
  /** Answers to CSMS→station calls by action; unknown actions get NotImplemented. A promise that never settles means "never answer". */
  readonly handlers?: Readonly<Record<string, CsmsCallHandler>>;
  /** False makes a dead peer: pings are not answered. Default true. */
  readonly autoPong?: boolean;
  readonly callTimeoutMs?: number;
}

export type CallOutcome =
  | { readonly type: 'result'; readonly messageId: string; readonly payload: unknown }
  | { readonly type: 'error'; readonly messageId: string; readonly code: string; readonly description: string; readonly details: unknown };

export class HandshakeRefusedError extends Error {
  constructor(readonly status: number) {
    super(`handshake refused with HTTP ${status}`);
  }
}

export class SimulatorCallError extends Error {
  constructor(readonly code: string, readonly description: string) {
    super(`CALLERROR ${code}: ${description}`);
  }
}

interface Waiter {
  readonly predicate: (frame: unknown) => boolean;
  readonly resolve: (frame: unknown) => void;
}

export class StationSimulator {
  /** Every frame received, parsed (or the raw text when it is not JSON), in order. */
  readonly received: unknown[] = [];
  /** CSMS→station calls received. */
  readonly callsReceived: { messageId: string; action: string; payload: unknown }[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  private readonly pending = new Map<string, (outcome: CallOutcome) => void>();
  private waiters: Waiter[] = [];
  private nextId = 1;

  private constructor(
    readonly options: StationSimulatorOptions,
    readonly ws: WebSocket,
  ) {
    this.closed = new Promise((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
    ws.on('message', (data) => this.onMessage(data));
  }

  static connect(options: StationSimulatorOptions): Promise<StationSimulator> {
    const clientOptions: ClientOptions = { autoPong: options.autoPong ?? true, perMessageDeflate: false };
    if (options.password !== undefined) {
      const credentials = Buffer.from(`${options.username ?? options.stationId}:${options.password}`).toString('base64');
      clientOptions.headers = { authorization: `Basic ${credentials}` };
    }
    if (options.tls) Object.assign(clientOptions, options.tls);
    const ws = new WebSocket(`${options.url}/${encodeURIComponent(options.stationId)}`, [...options.protocols], clientOptions);
    const simulator = new StationSimulator(options, ws);
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(simulator));
      ws.once('unexpected-response', (_request, response: IncomingMessage) => {
        reject(new HandshakeRefusedError(response.statusCode ?? 0));
        ws.terminate();
      });
      ws.once('error', reject);
    });
  }

  /** A new connection with the same options (the old one is left as it is: close it first, or not, to test takeover). */
  reconnect(overrides: Partial<StationSimulatorOptions> = {}): Promise<StationSimulator> {
    return StationSimulator.connect({ ...this.options, ...overrides });
  }

  get protocol(): string {
    return this.ws.protocol;
  }

  /** Sends a CALL and waits for its CALLRESULT or CALLERROR. */
  send(action: string, payload: unknown, options: { messageId?: string; timeoutMs?: number } = {}): Promise<CallOutcome> {
    const messageId = options.messageId ?? `${this.nextId++}-${randomUUID().slice(0, 8)}`;
    const timeoutMs = options.timeoutMs ?? this.options.callTimeoutMs ?? 10_000;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(messageId);
        reject(new Error(`${action} ${messageId}: no answer within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(messageId, (outcome) => {
        clearTimeout(timer);
        resolve(outcome);
      });
      this.ws.send(JSON.stringify([2, messageId, action, payload]));
    });
  }

  /** Like `send`, but resolves to the result payload and rejects with SimulatorCallError on a CALLERROR. */
  async call(action: string, payload: unknown, options: { messageId?: string; timeoutMs?: number } = {}): Promise<unknown> {
    const outcome = await this.send(action, payload, options);
    if (outcome.type === 'error') throw new SimulatorCallError(outcome.code, outcome.description);
    return outcome.payload;
  }

  sendRaw(frame: string | Buffer): void {
    this.ws.send(frame);
  }

  /** The first received frame (past or future) matching `predicate`, which is then consumed. */
  waitForFrame(predicate: (frame: unknown) => boolean, timeoutMs = 5_000): Promise<unknown> {
    const index = this.received.findIndex(predicate);
    if (index >= 0) return Promise.resolve(this.received.splice(index, 1)[0]);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new Error(`no matching frame within ${timeoutMs} ms`));
      }, timeoutMs);
      const waiter: Waiter = {
        predicate,
        resolve: (frame) => {
          clearTimeout(timer);
          resolve(frame);
        },
      };
      this.waiters.push(waiter);
    });
  }

  async close(code = 1000, reason = ''): Promise<{ code: number; reason: string }> {
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) this.ws.close(code, reason);
    return this.closed;
  }

  terminate(): void {
    this.ws.terminate();
  }

  private onMessage(data: RawData): void {
    const text = (data as Buffer).toString('utf8');
    let frame: unknown;
    try {
      frame = JSON.parse(text);
    } catch {
      frame = text;
    }
    if (Array.isArray(frame) && (frame[0] === 3 || frame[0] === 4) && this.pending.has(String(frame[1]))) {
      const settle = this.pending.get(String(frame[1]))!;
      this.pending.delete(String(frame[1]));
      const [, messageId, a, b, c] = frame as [number, string, unknown, unknown, unknown];
      settle(frame[0] === 3 ? { type: 'result', messageId, payload: a } : { type: 'error', messageId, code: String(a), description: String(b), details: c });
      return;
    }
    if (Array.isArray(frame) && frame[0] === 2) {
      void this.answerCsmsCall(frame as [number, string, string, unknown]);
      return;
    }
    const waiter = this.waiters.find((w) => w.predicate(frame));
    if (waiter) {
      this.waiters = this.waiters.filter((w) => w !== waiter);
      waiter.resolve(frame);
    } else {
      this.received.push(frame);
    }
  }

  private async answerCsmsCall([, messageId, action, payload]: [number, string, string, unknown]): Promise<void> {
    this.callsReceived.push({ messageId, action, payload });
    const handler = this.options.handlers?.[action];
    let reply: unknown[];
    if (!handler) {
      reply = [4, messageId, 'NotImplemented', `simulator has no handler for ${action}`, {}];
    } else {
      try {
        reply = [3, messageId, await handler(payload, { messageId, action })];
      } catch (error) {
        reply = [4, messageId, 'InternalError', (error as Error).message, {}];
      }
    }
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(reply));
  }
}
