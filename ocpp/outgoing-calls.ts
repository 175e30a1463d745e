import { randomUUID } from 'node:crypto';
import {
  InvalidStationResponseError,
  StationCallErrorReceived,
  StationCallTimeoutError,
  StationQueueFullError,
  type StationCallError,
} from './errors.js';
import { encodeCall } from './framing.js';
import type { OcppSchemas } from './schemas.js';
import type { OcppLogger, OcppVersion } from './types.js';

interface PendingCall {
  readonly messageId: string;
  readonly action: string;
  readonly version: OcppVersion;
  readonly frame: string;
  sent: boolean;
  readonly timer: NodeJS.Timeout;
  readonly resolve: (payload: unknown) => void;
  readonly reject: (error: StationCallError) => void;
}

/**
 * The CSMS→station calls of one station. OCPP-J 1.6 §4.1.1 and 2.0.1 Part 4 §4.1.1: a sender has
 * at most one CALL unanswered, and may send the next once it is answered or timed out. The head of
 * `queue` is the one in flight once `sent`. It outlives a connection: when the station reconnects
 * the head is sent again with the same message id, so a station that keeps recent ids can tell a repeat.
 */
export class OutgoingCalls {
  private readonly queue: PendingCall[] = [];
  private send: ((frame: string) => void) | undefined;

  constructor(
    private readonly stationId: string,
    private readonly queueMax: number,
    private readonly schemas: OcppSchemas,
    private readonly log: OcppLogger,
  ) {}

  get size(): number {
    return this.queue.length;
  }

  /** The caller has validated `payload` for `version` already. */
  enqueue(version: OcppVersion, action: string, payload: unknown, timeoutMs: number): Promise<unknown> {
    if (this.queue.length >= this.queueMax) {
      return Promise.reject(new StationQueueFullError(this.stationId, action, `${this.queueMax} calls already queued`));
    }
    return new Promise((resolve, reject) => {
      const messageId = randomUUID();
      const timer = setTimeout(() => this.timeOut(messageId), timeoutMs);
      this.queue.push({ messageId, action, version, frame: encodeCall(messageId, action, payload), sent: false, timer, resolve, reject });
      this.pump();
    });
  }

  /** A connection (re)opened with `version`; calls made for another version cannot be sent on it. */
  attach(version: OcppVersion, send: (frame: string) => void, failOtherVersion: (call: { action: string }) => StationCallError): void {
    for (const call of [...this.queue]) {
      if (call.version !== version) this.settle(call, () => call.reject(failOtherVersion(call)));
    }
    this.send = send;
    const head = this.queue[0];
    if (head) head.sent = false; // re-send what was in flight on the previous connection
    this.pump();
  }

  detach(): void {
    this.send = undefined;
  }

  onCallResult(messageId: string, payload: unknown): void {
    const head = this.inFlight(messageId);
    if (!head) return;
    const violation = this.schemas.validate(head.version, head.action, 'Response', payload);
    this.settle(head, () =>
      violation
        ? head.reject(new InvalidStationResponseError(this.stationId, head.action, `${violation.code}: ${violation.description}`, payload))
        : head.resolve(payload),
    );
  }

  onCallError(messageId: string, code: string, description: string, details: unknown): void {
    const head = this.inFlight(messageId);
    if (!head) return;
    this.settle(head, () => head.reject(new StationCallErrorReceived(this.stationId, head.action, code, description, details)));
  }

  failAll(error: (call: { action: string }) => StationCallError): void {
    for (const call of [...this.queue]) this.settle(call, () => call.reject(error(call)));
  }

  private inFlight(messageId: string): PendingCall | undefined {
    const head = this.queue[0];
    if (head?.sent && head.messageId === messageId) return head;
    // A late answer to a call that timed out, or a station answering an id it never got.
    this.log.warn({ stationId: this.stationId, messageId }, 'ocpp answer for no call in flight, ignored');
    return undefined;
  }

  private timeOut(messageId: string): void {
    const call = this.queue.find((c) => c.messageId === messageId);
    if (!call) return;
    this.settle(call, () => call.reject(new StationCallTimeoutError(this.stationId, call.action, call.sent ? 'no answer in time' : 'not sent in time')));
  }

  private settle(call: PendingCall, finish: () => void): void {
    clearTimeout(call.timer);
    const index = this.queue.indexOf(call);
    if (index >= 0) this.queue.splice(index, 1);
    finish();
    this.pump();
  }

  private pump(): void {
    const head = this.queue[0];
    if (!head || head.sent || !this.send) return;
    head.sent = true;
    this.send(head.frame);
  }
}
