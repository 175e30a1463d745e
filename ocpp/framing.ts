import { errorCodeFor, truncateDescription, type FailureKind, type OcppVersion } from './errors.js';
import { ocppMessageIdCharsMax } from './limits.js';

/**
 * OCPP-J RPC frames (OCPP-J 1.6 §4.2, 2.0.1 Part 4 §4.2): a JSON array whose first element is the
 * message type. 5 (CALLRESULTERROR) and 6 (SEND) belong to OCPP 2.1 and are unknown to both our versions.
 */
export const messageTypeCall = 2;
export const messageTypeCallResult = 3;
export const messageTypeCallError = 4;

/** The message id answered when the frame's own id cannot be read (2.0.1 Part 4 §4.2.3; we use it for 1.6 too). */
export const unreadableMessageId = '-1';

export type Frame =
  | { readonly type: 'call'; readonly messageId: string; readonly action: string; readonly payload: unknown }
  | { readonly type: 'callResult'; readonly messageId: string; readonly payload: unknown }
  | {
      readonly type: 'callError';
      readonly messageId: string;
      readonly code: string;
      readonly description: string;
      readonly details: unknown;
    };

export interface FrameFault {
  readonly kind: FailureKind;
  /** The id to answer with; `unreadableMessageId` when none could be read. */
  readonly messageId: string;
  readonly description: string;
  /**
   * False for a broken CALLRESULT or CALLERROR: neither may be answered with a CALLERROR (the peer
   * has no CALL waiting for it), so we only log it.
   */
  readonly answer: boolean;
}

export type ParsedFrame = { readonly ok: true; readonly frame: Frame } | { readonly ok: false; readonly fault: FrameFault };

const fault = (kind: FailureKind, messageId: string, description: string, answer = true): ParsedFrame => ({
  ok: false,
  fault: { kind, messageId, description, answer },
});

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isValidMessageId(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= ocppMessageIdCharsMax;
}

export function parseFrame(text: string): ParsedFrame {
  let message: unknown;
  try {
    message = JSON.parse(text);
  } catch {
    return fault('unreadable', unreadableMessageId, 'message is not valid JSON');
  }
  if (!Array.isArray(message) || message.length === 0) {
    return fault('unreadable', unreadableMessageId, 'message is not an OCPP-J array');
  }
  const [messageType, messageId] = message as unknown[];
  if (!isValidMessageId(messageId)) {
    const isResponse = messageType === messageTypeCallResult || messageType === messageTypeCallError;
    return fault('unreadable', unreadableMessageId, `message id must be a string of 1..${ocppMessageIdCharsMax} characters`, !isResponse);
  }
  switch (messageType) {
    case messageTypeCall: {
      const [, , action, payload] = message as unknown[];
      if (message.length !== 4 || typeof action !== 'string' || action.length === 0) {
        return fault('badFrame', messageId, 'a CALL is [2, messageId, action, payload]');
      }
      if (!isObject(payload)) return fault('payloadSyntax', messageId, 'CALL payload must be a JSON object');
      return { ok: true, frame: { type: 'call', messageId, action, payload } };
    }
    case messageTypeCallResult: {
      const [, , payload] = message as unknown[];
      if (message.length !== 3 || !isObject(payload)) {
        return fault('badFrame', messageId, 'a CALLRESULT is [3, messageId, payload]', false);
      }
      return { ok: true, frame: { type: 'callResult', messageId, payload } };
    }
    case messageTypeCallError: {
      const [, , code, description, details] = message as unknown[];
      // Some stations leave out errorDetails; the rest of the frame is still readable, so we accept it.
      if ((message.length !== 5 && message.length !== 4) || typeof code !== 'string' || typeof description !== 'string') {
        return fault('badFrame', messageId, 'a CALLERROR is [4, messageId, errorCode, errorDescription, errorDetails]', false);
      }
      return { ok: true, frame: { type: 'callError', messageId, code, description, details: details ?? {} } };
    }
    default:
      return fault('unknownMessageType', messageId, `message type ${JSON.stringify(messageType)} is not supported`);
  }
}

export function encodeCall(messageId: string, action: string, payload: unknown): string {
  return JSON.stringify([messageTypeCall, messageId, action, payload]);
}

export function encodeCallResult(messageId: string, payload: unknown): string {
  return JSON.stringify([messageTypeCallResult, messageId, payload]);
}

export function encodeCallError(messageId: string, code: string, description: string, details: unknown = {}): string {
  return JSON.stringify([messageTypeCallError, messageId, code, truncateDescription(description), isObject(details) ? details : {}]);
}

/** The CALLERROR for a frame fault, spelled for the connection's version. */
export function encodeFault(version: OcppVersion, frameFault: FrameFault): string {
  return encodeCallError(frameFault.messageId, errorCodeFor(frameFault.kind, version), frameFault.description);
}
