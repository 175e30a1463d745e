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
  /** Action and payload: a station whose id counter restarted after a reboot must not get an old answer to a new call. */
  readonly fingerprint: string;
  readonly answer: Promise<Answer>;
}

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

  /** Resolves to the frame to send back, once the call's turn has come and it has been answered. */
  receive(ctx: CallContext, action: string, payload: unknown, connection: ConnectionContext): Promise<string> {
    const fingerprint = `${action}\n${JSON.stringify(payload)}`;
    const repeated = this.recent.get(ctx.messageId);
    if (repeated?.fingerprint === fingerprint) {
      this.log.info({ stationId: ctx.stationId, messageId: ctx.messageId, action }, 'ocpp repeated CALL, replaying answer');
      return repeated.answer.then((answer) => answer.frame);
    }
    if (this.unfinished > this.limits.incomingCallsQueuedMax) {
      const description = `more than ${this.limits.incomingCallsQueuedMax} CALLs waiting; send one at a time (OCPP-J §4.1.1)`;
      return Promise.resolve(encodeCallError(ctx.messageId, errorCodeFor('tooManyCalls', ctx.ocppVersion), description));
    }
    this.unfinished += 1;
    const answer = this.tail
      .then(() => this.answer(ctx, action, payload, connection))
      .catch((error: unknown): Answer => {
        // answer() handles every failure it expects; this only keeps one bug from stalling the station.
        this.log.error({ err: error, stationId: ctx.stationId, messageId: ctx.messageId }, 'ocpp call processing failed');
        return { frame: encodeCallError(ctx.messageId, errorCodeFor('internal', ctx.ocppVersion), 'internal error'), replayable: false };
      });
    this.tail = answer.finally(() => {
      this.unfinished -= 1;
    });
    this.remember(ctx.messageId, { fingerprint, answer });
    void answer.then((result) => {
      if (!result.replayable && this.recent.get(ctx.messageId)?.answer === answer) this.recent.delete(ctx.messageId);
    });
    return answer.then((result) => result.frame);
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
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new HandlerTimeout()), this.limits.handlerTimeoutMs);
    });
    return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
  }
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
