import { createHash } from 'node:crypto';
import { withDeadline } from '../adapters/clock/deadline.js';
import { reportUnexpectedError } from '../adapters/observability/unexpected-errors.js';
import { errorCodeFor, isValidErrorCode, OcppCallError } from './errors.js';
import { encodeCallError, encodeCallResult } from './framing.js';
import type { OcppSchemas } from './schemas.js';
import type { CallContext, ConnectionContext, InvalidMessage, OcppGatewayLimits, OcppHandler, OcppLogger } from './types.js';

interface Answer {
  readonly frame: string;
  /** Results and the handler's own CALLERRORs are replayed on a repeat; an InternalError is not, so a retry runs again. */
  readonly replayable: boolean;
}

interface RecentCall {
  /**
   * A hash of action and payload: a station whose id counter restarted after a reboot must not get
   * an old answer to a new call. Hashed so the cache holds 32 bytes per call, not a 64 KiB payload.
   */
  readonly fingerprint: string;
  readonly action: string;
  readonly answer: Promise<Answer>;
  /** The connection the answer is owed to: the one the CALL came on, or the one it was last replayed to. */
  connectionId: string;
  /** The answer went out on that connection. */
  delivered: boolean;
}

/** Sends a frame on the connection a CALL came on; false when that connection has closed meanwhile. */
export type SendAnswer = (frame: string) => boolean;

/** The action that starts a new logical session: a station that boots again has forgotten its unanswered calls. */
const bootAction = 'BootNotification';

/**
 * The station→CSMS calls of one station, handled strictly one at a time across its connections
 * (a CALL that arrives on a new connection waits for the one still running from the old).
 */
export class IncomingCalls {
  private tail: Promise<unknown> = Promise.resolve();
  private unfinished = 0;
  private readonly recent = new Map<string, RecentCall>();

  constructor(
    private readonly schemas: OcppSchemas,
    private readonly handler: OcppHandler,
    private readonly limits: Pick<OcppGatewayLimits, 'incomingCallsQueuedMax' | 'handlerTimeoutMs' | 'recentCallsMax'>,
    private readonly log: OcppLogger,
  ) {}

  /**
   * Answers the call through `send` once its turn has come and it has been answered. Resolves when
   * the answer was handed to `send`; never rejects.
   */
  receive(ctx: CallContext, action: string, payload: unknown, connection: ConnectionContext, send: SendAnswer): Promise<void> {
    const fingerprint = fingerprintOf(action, payload);
    const repeated = this.recent.get(ctx.messageId);
    if (repeated?.fingerprint === fingerprint && mayReplay(repeated, ctx.connectionId)) {
      this.log.info({ stationId: ctx.stationId, messageId: ctx.messageId, action }, 'ocpp repeated CALL, replaying answer');
      // The answer is now owed to this connection (a resend after a reconnect moves it here).
      repeated.connectionId = ctx.connectionId;
      return repeated.answer.then((answer) => deliver(repeated, ctx.connectionId, answer.frame, send));
    }
    if (this.unfinished > this.limits.incomingCallsQueuedMax) {
      const description = `more than ${this.limits.incomingCallsQueuedMax} CALLs waiting; send one at a time (OCPP-J §4.1.1)`;
      send(encodeCallError(ctx.messageId, errorCodeFor('tooManyCalls', ctx.ocppVersion), description));
      return Promise.resolve();
    }
    this.unfinished += 1;
    const answer = this.tail
      .then(() => this.answer(ctx, action, payload, connection))
      .catch((error: unknown): Answer => {
        // answer() handles every failure it expects; this only keeps one bug from stalling the station.
        reportUnexpectedError(this.log, 'ocpp-connection', error, { stationId: ctx.stationId, messageId: ctx.messageId });
        return { frame: encodeCallError(ctx.messageId, errorCodeFor('internal', ctx.ocppVersion), 'internal error'), replayable: false };
      });
    this.tail = answer.finally(() => {
      this.unfinished -= 1;
    });
    const call: RecentCall = { fingerprint, action, answer, connectionId: ctx.connectionId, delivered: false };
    this.remember(ctx.messageId, call);
    return answer.then((result) => {
      if (!result.replayable && this.recent.get(ctx.messageId) === call) this.recent.delete(ctx.messageId);
      deliver(call, ctx.connectionId, result.frame, send);
    });
  }

  /**
   * Runs connection lifecycle work (onConnected, onDisconnected) in the same line as the calls, so
   * the handler sees connected → calls → disconnected in order. Failures are logged, not thrown.
   */
  runInTurn(stationId: string, what: string, work: () => Promise<void> | void): void {
    this.tail = this.tail.then(async () => {
      try {
        await this.withTimeout(Promise.resolve().then(work));
      } catch (error) {
        this.log.error({ err: error, stationId }, `ocpp handler ${what} failed`);
      }
    });
  }

  private remember(messageId: string, call: RecentCall): void {
    this.recent.delete(messageId);
    this.recent.set(messageId, call);
    // Map keeps insertion order: the first key is the oldest.
    while (this.recent.size > this.limits.recentCallsMax) this.recent.delete(this.recent.keys().next().value as string);
  }

  private async answer(ctx: CallContext, action: string, payload: unknown, connection: ConnectionContext): Promise<Answer> {
    const { ocppVersion: version, messageId } = ctx;
    const refuse = (code: string, description: string, details: unknown = {}): Answer => ({
      frame: encodeCallError(messageId, code, description, details),
      replayable: false,
    });
    const invalid = (code: string, description: string, details: unknown = {}): Answer => {
      reportInvalid(this.handler, this.log, connection, { messageId, action, code, description });
      return refuse(code, description, details);
    };
    if (!this.schemas.knows(version, action)) {
      return invalid(errorCodeFor('notImplemented', version), `${action} is not an OCPP ${version} action`);
    }
    if (!this.schemas.isStationInitiated(version, action)) {
      return invalid(errorCodeFor('notSupported', version), `${action} is sent by the CSMS, not by a station`);
    }
    const violation = this.schemas.validate(version, action, 'Request', payload);
    if (violation) return invalid(violation.code, violation.description, violation.details);

    const internalError = errorCodeFor('internal', version);
    let result: unknown;
    try {
      result = await this.withTimeout(this.handler.handleCall(ctx, action, payload));
    } catch (error) {
      if (error instanceof OcppCallError && isValidErrorCode(error.code, version)) {
        return { frame: encodeCallError(messageId, error.code, error.description, error.details), replayable: true };
      }
      this.log.error({ err: error, stationId: ctx.stationId, messageId, action }, 'ocpp handler failed');
      return refuse(internalError, error instanceof HandlerTimeout ? 'handler timed out' : 'internal error');
    }
    const responseViolation = this.schemas.validate(version, action, 'Response', result);
    if (responseViolation) {
      // Our bug, not the station's: never send it a response that breaks the schema.
      this.log.error({ stationId: ctx.stationId, messageId, action, violation: responseViolation }, 'ocpp handler returned an invalid response');
      return refuse(internalError, 'internal error');
    }
    return { frame: encodeCallResult(messageId, result), replayable: true };
  }

  private withTimeout<T>(work: Promise<T>): Promise<T> {
    return withDeadline(work, this.limits.handlerTimeoutMs, () => new HandlerTimeout());
  }
}

/**
 * OCPP-J §4.1.1 lets a station resend a CALL it got no answer to; the replay serves exactly that.
 * On the same connection any repeat gets the remembered answer. On a new connection only an answer
 * that never went out is replayed: one that was delivered belongs to the old session (a station
 * whose ids restart after a reboot reuses them for new calls), and a BootNotification on a new
 * connection is always a new boot, to be answered (status, currentTime) and recorded afresh.
 */
function mayReplay(call: RecentCall, connectionId: string): boolean {
  if (call.connectionId === connectionId) return true;
  return !call.delivered && call.action !== bootAction;
}

/** Sends the answer unless the call has moved to another connection since (that one gets it by replay). */
function deliver(call: RecentCall, connectionId: string, frame: string, send: SendAnswer): void {
  if (call.connectionId !== connectionId) return;
  if (send(frame)) call.delivered = true;
}

function fingerprintOf(action: string, payload: unknown): string {
  // payload comes from JSON.parse of a frame whose nesting parseFrame bounded: stringify cannot overflow.
  return createHash('sha256').update(action).update('\n').update(JSON.stringify(payload)).digest('base64url');
}

/** Fire and forget: recording a refused message must never hold up or break the station's calls. */
export function reportInvalid(handler: OcppHandler, log: OcppLogger, ctx: ConnectionContext, problem: InvalidMessage): void {
  log.warn({ stationId: ctx.stationId, ...problem }, 'ocpp message refused');
  if (!handler.onInvalidMessage) return;
  Promise.resolve()
    .then(() => handler.onInvalidMessage?.(ctx, problem))
    .catch((error: unknown) => log.error({ err: error, stationId: ctx.stationId }, 'ocpp handler onInvalidMessage failed'));
}

class HandlerTimeout extends Error {
  override readonly name = 'HandlerTimeout';
}
