import { errorCodeFor, truncateDescription, type FailureKind, type OcppVersion } from './errors.js';
import { ocppJsonDepthMax, ocppMessageIdCharsMax } from './limits.js';

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
  return typeof value === 'string' && value.length > 0 && value.length <= ocppMessageIdCharsMax && !unstorableCharacter.test(value);
}

/**
 * U+0000 and UTF-16 surrogates that are not half of a pair. Both are valid in a JSON string escape
 * (`\u0000`, `\ud800`) and pass every OCPP schema, but PostgreSQL `jsonb` refuses them, so a
 * message carrying one could never be recorded (and its retries would hold up the station), and
 * `encodeURIComponent` throws on a lone surrogate. With the `u` flag a well-formed pair is one code
 * point, so `\p{Cs}` matches only a lone surrogate.
 */
const unstorableCharacter = /[\0\p{Cs}]/u;
const unstorableCharacters = new RegExp(unstorableCharacter.source, 'gu');

const quote = 0x22;
const backslash = 0x5c;
const openBracket = 0x5b;
const openBrace = 0x7b;
const closeBracket = 0x5d;
const closeBrace = 0x7d;

/**
 * True when arrays and objects nest deeper than `depthMax` in the JSON `text`. One pass over the
 * characters, no recursion and no allocation, so it is safe on any input, valid JSON or not
 * (brackets inside strings are skipped; for invalid JSON the answer does not matter, the parse fails).
 */
export function jsonNestingExceeds(text: string, depthMax: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const char = text.charCodeAt(i);
    if (inString) {
      if (char === backslash) i += 1; // the escaped character cannot end the string
      else if (char === quote) inString = false;
    } else if (char === quote) {
      inString = true;
    } else if (char === openBracket || char === openBrace) {
      depth += 1;
      if (depth > depthMax) return true;
    } else if (char === closeBracket || char === closeBrace) {
      depth -= 1;
    }
  }
  return false;
}

/**
 * Where `value` holds a string or property name with U+0000 or a lone surrogate: a JSON pointer-like
 * path built from the (clean) names above it, or undefined when there is none.
 */
export function findUnstorableString(value: unknown): string | undefined {
  return findInJson(value, (leaf) => typeof leaf === 'string' && unstorableCharacter.test(leaf), (key) => unstorableCharacter.test(key));
}

/**
 * Where `value` holds a number JSON.parse read as Infinity or -Infinity (`1e999`, `-1e400`): valid
 * JSON and of the schema's type (Ajv's `number` takes it), but no OCPP field can mean it, JSON.stringify
 * writes it as null and the canonical JSON of command ids throws on it, so a station retrying it
 * would get InternalError forever.
 */
export function findNonFiniteNumber(value: unknown): string | undefined {
  return findInJson(value, (leaf) => typeof leaf === 'number' && !Number.isFinite(leaf), () => false);
}

/**
 * The path of the first leaf `badLeaf` picks or of an object whose property name `badKey` picks
 * (`/(property name)` appended), built only from names `badKey` passed. Iterative, with an explicit
 * stack, so it cannot overflow whatever reaches it.
 */
function findInJson(value: unknown, badLeaf: (leaf: unknown) => boolean, badKey: (key: string) => boolean): string | undefined {
  const pending: { value: unknown; path: string }[] = [{ value, path: '' }];
  for (let next = pending.pop(); next; next = pending.pop()) {
    const { value: current, path } = next;
    if (Array.isArray(current)) {
      current.forEach((item, index) => pending.push({ value: item, path: `${path}/${index}` }));
    } else if (typeof current === 'object' && current !== null) {
      for (const [key, item] of Object.entries(current)) {
        if (badKey(key)) return `${path}/(property name)`;
        pending.push({ value: item, path: `${path}/${key}` });
      }
    } else if (badLeaf(current)) {
      return path || '/';
    }
  }
  return undefined;
}

/**
 * The first `charsMax` characters of a refused frame, fit to be recorded: U+0000 and lone surrogates
 * (also the one left by cutting a pair in two) become U+FFFD, since jsonb refuses them.
 */
export function recordableText(text: string, charsMax: number): string {
  return text.slice(0, charsMax).replace(unstorableCharacters, '\uFFFD');
}

/** The message type and id at the start of a frame, read without parsing it (for a frame too deep to parse). */
function leadingTypeAndId(text: string): { messageType: number; messageId: string | undefined } | undefined {
  // At most 216 string characters: a 36-character id written entirely as \uXXXX escapes.
  const lead = /^\s*\[\s*(\d{1,2})\s*,\s*("(?:[^"\\]|\\.){0,216}")?/.exec(text);
  if (!lead) return undefined;
  let messageId: unknown;
  try {
    messageId = lead[2] === undefined ? undefined : JSON.parse(lead[2]);
  } catch {
    messageId = undefined;
  }
  return { messageType: Number(lead[1]), messageId: isValidMessageId(messageId) ? messageId : undefined };
}

/** A frame nested deeper than `ocppJsonDepthMax`, answered (when it is a CALL) with its own id if that can be read. */
function tooDeep(text: string, depthMax: number): ParsedFrame {
  const lead = leadingTypeAndId(text);
  const isResponse = lead?.messageType === messageTypeCallResult || lead?.messageType === messageTypeCallError;
  return fault('payloadSyntax', lead?.messageId ?? unreadableMessageId, `JSON nested deeper than ${depthMax} levels`, !isResponse);
}

/** `where` names the offending string, e.g. `payload/idTag`; only clean property names are ever part of it. */
function unstorable(messageId: string, where: string, answer = true): ParsedFrame {
  return fault('property', messageId, `${where} contains U+0000 or an unpaired surrogate, which cannot be stored`, answer);
}

function outOfRange(messageId: string, where: string, answer = true): ParsedFrame {
  return fault('property', messageId, `${where} is a number beyond the range of a double (read as infinity)`, answer);
}

export function parseFrame(text: string, depthMax = ocppJsonDepthMax): ParsedFrame {
  if (jsonNestingExceeds(text, depthMax)) return tooDeep(text, depthMax);
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
    return fault('unreadable', unreadableMessageId, `message id must be a string of 1..${ocppMessageIdCharsMax} characters, without U+0000 or unpaired surrogates`, !isResponse);
  }
  switch (messageType) {
    case messageTypeCall: {
      const [, , action, payload] = message as unknown[];
      if (message.length !== 4 || typeof action !== 'string' || action.length === 0) {
        return fault('badFrame', messageId, 'a CALL is [2, messageId, action, payload]');
      }
      if (!isObject(payload)) return fault('payloadSyntax', messageId, 'CALL payload must be a JSON object');
      if (unstorableCharacter.test(action)) return unstorable(messageId, 'action');
      const badString = findUnstorableString(payload);
      if (badString !== undefined) return unstorable(messageId, `payload${badString}`);
      const badNumber = findNonFiniteNumber(payload);
      if (badNumber !== undefined) return outOfRange(messageId, `payload${badNumber}`);
      return { ok: true, frame: { type: 'call', messageId, action, payload } };
    }
    case messageTypeCallResult: {
      const [, , payload] = message as unknown[];
      if (message.length !== 3 || !isObject(payload)) {
        return fault('badFrame', messageId, 'a CALLRESULT is [3, messageId, payload]', false);
      }
      const badString = findUnstorableString(payload);
      if (badString !== undefined) return unstorable(messageId, `payload${badString}`, false);
      const badNumber = findNonFiniteNumber(payload);
      if (badNumber !== undefined) return outOfRange(messageId, `payload${badNumber}`, false);
      return { ok: true, frame: { type: 'callResult', messageId, payload } };
    }
    case messageTypeCallError: {
      const [, , code, description, details] = message as unknown[];
      // Some stations leave out errorDetails; the rest of the frame is still readable, so we accept it.
      if ((message.length !== 5 && message.length !== 4) || typeof code !== 'string' || typeof description !== 'string') {
        return fault('badFrame', messageId, 'a CALLERROR is [4, messageId, errorCode, errorDescription, errorDetails]', false);
      }
      const badString = findUnstorableString({ errorCode: code, errorDescription: description, errorDetails: details ?? {} });
      if (badString !== undefined) return unstorable(messageId, badString.slice(1), false);
      const badNumber = findNonFiniteNumber(details);
      if (badNumber !== undefined) return outOfRange(messageId, `errorDetails${badNumber === '/' ? '' : badNumber}`, false);
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
