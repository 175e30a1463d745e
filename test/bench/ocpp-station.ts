import { performance } from 'node:perf_hooks';
import { WebSocket, type RawData } from 'ws';
import {
  bootNotification, chargingPowerW, meterValues, statusNotification, transactionEnded, transactionStarted,
  type BenchCall, type BenchOcppVersion,
} from './ocpp-messages.js';

/**
 * A lean simulated station for the load benchmark: one ws client, one CALL in flight (OCPP-J
 * §4.1.1), no per-call timer or promise chain kept beyond the one pending call. The test
 * StationSimulator keeps every frame it receives, which at 10,000 stations and hours of
 * MeterValues would measure the generator's memory instead of the server's.
 */

/** Latencies kept exactly up to this many; beyond it, reservoir sampling keeps the percentiles honest and the memory bounded (8 B each). */
export const latencySamplesMax = 4_000_000;

export class LatencyRecorder {
  private samples = new Float64Array(1024);
  count = 0;
  private seen = 0;

  record(ms: number): void {
    this.seen += 1;
    if (this.count < latencySamplesMax) {
      if (this.count === this.samples.length) {
        const grown = new Float64Array(Math.min(this.samples.length * 2, latencySamplesMax));
        grown.set(this.samples);
        this.samples = grown;
      }
      this.samples[this.count++] = ms;
      return;
    }
    const slot = Math.floor(Math.random() * this.seen);
    if (slot < latencySamplesMax) this.samples[slot] = ms;
  }

  percentiles(): { p50: number; p95: number; p99: number; max: number } {
    if (this.count === 0) return { p50: NaN, p95: NaN, p99: NaN, max: NaN };
    const sorted = this.samples.slice(0, this.count).sort();
    const at = (q: number) => sorted[Math.min(this.count - 1, Math.floor(q * this.count))]!;
    return { p50: at(0.5), p95: at(0.95), p99: at(0.99), max: sorted[this.count - 1]! };
  }
}

/** What one phase of the run counted, across all stations. */
export class PhaseCounters {
  readonly latency = new LatencyRecorder();
  sent = 0;
  answered = 0;
  callErrors = 0;
  timeouts = 0;
  /** Calls lost because the connection closed while they were pending. */
  dropped = 0;
  readonly callErrorCodes = new Map<string, number>();
  readonly bootStatuses = new Map<string, number>();
}

type Settle = (outcome: { ok: true; payload: unknown } | { ok: false; reason: string }) => void;

interface PendingCall {
  readonly messageId: string;
  readonly action: string;
  readonly sentAtMs: number;
  readonly settle: Settle;
}

export interface LeanStationOptions {
  readonly url: string;
  readonly stationId: string;
  readonly version: BenchOcppVersion;
  readonly password?: string;
  readonly handshakeTimeoutMs: number;
}

export class LeanStation {
  ws: WebSocket | null = null;
  private pending: PendingCall | null = null;
  /** Never reset, not even on reconnect: the gateway replays a cached answer for a repeated id with the same payload, which would make the storm look cheaper than it is. */
  private nextMessageId = 1;
  counters: PhaseCounters;
  // Charging session state.
  private meterWh = 0;
  private sessions = 0;
  private transaction: { id16: number; id201: string; seqNo: number; meterValuesLeft: number } | null = null;
  csmsCallsReceived = 0;
  closesSeen = 0;

  constructor(readonly options: LeanStationOptions, counters: PhaseCounters) {
    this.counters = counters;
  }

  get open(): boolean {
    return this.ws?.readyState === WebSocket.OPEN;
  }

  connect(): Promise<void> {
    const { url, stationId, version, password, handshakeTimeoutMs } = this.options;
    const headers: Record<string, string> = {};
    if (password !== undefined) headers.authorization = `Basic ${Buffer.from(`${stationId}:${password}`).toString('base64')}`;
    const ws = new WebSocket(`${url}/${stationId}`, [version], { perMessageDeflate: false, handshakeTimeout: handshakeTimeoutMs, headers });
    this.ws = ws;
    return new Promise((resolve, reject) => {
      ws.once('open', () => {
        if (ws.protocol !== version) {
          ws.terminate();
          reject(new Error(`subprotocol ${ws.protocol || '(none)'} instead of ${version}`));
          return;
        }
        resolve();
      });
      ws.once('unexpected-response', (_request, response) => {
        ws.terminate();
        reject(new Error(`handshake refused with HTTP ${response.statusCode ?? 0}`));
      });
      ws.once('error', (error) => reject(error));
      ws.on('message', (data) => this.onMessage(data));
      ws.on('close', () => {
        this.closesSeen += 1;
        if (this.ws === ws && this.pending) this.failPending('connection closed');
      });
    });
  }

  /** Drops the connection without a close handshake, as a station losing power or network does. */
  drop(): void {
    const ws = this.ws;
    this.ws = null;
    if (this.pending) this.failPending('dropped');
    ws?.terminate();
  }

  /** Sends one CALL (the previous must be settled) and resolves when it is answered, refused, or given up. */
  call(request: BenchCall): Promise<{ ok: true; payload: unknown } | { ok: false; reason: string }> {
    if (this.pending) throw new Error(`${this.options.stationId}: a CALL is already in flight`);
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) return Promise.resolve({ ok: false, reason: 'not connected' });
    const messageId = String(this.nextMessageId++);
    const counters = this.counters;
    counters.sent += 1;
    return new Promise((resolve) => {
      this.pending = { messageId, action: request.action, sentAtMs: performance.now(), settle: resolve };
      ws.send(`[2,"${messageId}","${request.action}",${JSON.stringify(request.payload)}]`);
    });
  }

  /** Called by the generator's sweep: gives up a call older than `timeoutMs`. */
  expirePending(nowMs: number, timeoutMs: number): void {
    if (this.pending && nowMs - this.pending.sentAtMs > timeoutMs) {
      this.counters.timeouts += 1;
      const { settle } = this.pending;
      this.pending = null;
      settle({ ok: false, reason: 'timeout' });
    }
  }

  async boot(): Promise<boolean> {
    const boot = await this.call(bootNotification(this.options.version));
    if (!boot.ok) return false;
    const status = (boot.payload as { status?: string } | undefined)?.status ?? '(none)';
    this.counters.bootStatuses.set(status, (this.counters.bootStatuses.get(status) ?? 0) + 1);
    const statusNotified = await this.call(statusNotification(this.options.version, new Date().toISOString()));
    return statusNotified.ok;
  }

  /**
   * One tick of the charging cycle: StartTransaction / TransactionEvent(Started), then
   * `meterValuesPerSession` MeterValues / TransactionEvent(Updated), then the stop; one message per tick.
   */
  async tick(meterIntervalS: number, meterValuesPerSession: number): Promise<void> {
    const { version, stationId } = this.options;
    const timestamp = new Date().toISOString();
    const tx = this.transaction;
    if (!tx) {
      this.sessions += 1;
      const id201 = `${stationId}-${this.sessions}`;
      const started = await this.call(transactionStarted(version, timestamp, this.meterWh, id201));
      if (!started.ok) return;
      const id16 = (started.payload as { transactionId?: number } | undefined)?.transactionId ?? 0;
      this.transaction = { id16, id201, seqNo: 1, meterValuesLeft: meterValuesPerSession };
      return;
    }
    this.meterWh += Math.round((chargingPowerW * meterIntervalS) / 3600);
    if (tx.meterValuesLeft > 0) {
      tx.meterValuesLeft -= 1;
      const answer = await this.call(meterValues(version, timestamp, this.meterWh, tx));
      if (answer.ok) tx.seqNo += 1;
      return;
    }
    this.transaction = null;
    await this.call(transactionEnded(version, timestamp, this.meterWh, tx));
  }

  private failPending(reason: string): void {
    const pending = this.pending!;
    this.pending = null;
    this.counters.dropped += 1;
    pending.settle({ ok: false, reason });
  }

  private onMessage(data: RawData): void {
    let frame: unknown;
    try {
      frame = JSON.parse((data as Buffer).toString('utf8'));
    } catch {
      return;
    }
    if (!Array.isArray(frame)) return;
    if (frame[0] === 2) {
      // A CSMS→station call (e.g. a configuration change after boot): the lean station implements none.
      this.csmsCallsReceived += 1;
      this.ws?.send(JSON.stringify([4, frame[1], 'NotImplemented', 'bench station', {}]));
      return;
    }
    const pending = this.pending;
    if (!pending || frame[1] !== pending.messageId) return;
    this.pending = null;
    const counters = this.counters;
    if (frame[0] === 3) {
      counters.answered += 1;
      counters.latency.record(performance.now() - pending.sentAtMs);
      pending.settle({ ok: true, payload: frame[2] });
    } else {
      counters.callErrors += 1;
      const code = `${pending.action}:${String(frame[2])}`;
      counters.callErrorCodes.set(code, (counters.callErrorCodes.get(code) ?? 0) + 1);
      pending.settle({ ok: false, reason: code });
    }
  }
}
