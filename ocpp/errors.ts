import { ocppErrorDescriptionCharsMax } from './limits.js';

export type OcppVersion = 'ocpp1.6' | 'ocpp2.0.1';

/** OCPP-J 1.6 §4.2.3 table "Valid Error Codes"; the 1.6 spellings (FormationViolation, Occurence) are the spec's own. */
export const ocpp16ErrorCodes = [
  'NotImplemented',
  'NotSupported',
  'InternalError',
  'ProtocolError',
  'SecurityError',
  'FormationViolation',
  'PropertyConstraintViolation',
  'OccurenceConstraintViolation',
  'TypeConstraintViolation',
  'GenericError',
] as const;

/** OCPP 2.0.1 Part 4 §4.2.3 table "Valid Error Codes". */
export const ocpp201ErrorCodes = [
  'FormatViolation',
  'GenericError',
  'InternalError',
  'MessageTypeNotSupported',
  'NotImplemented',
  'NotSupported',
  'OccurrenceConstraintViolation',
  'PropertyConstraintViolation',
  'ProtocolError',
  'RpcFrameworkError',
  'SecurityError',
  'TypeConstraintViolation',
] as const;

export type Ocpp16ErrorCode = (typeof ocpp16ErrorCodes)[number];
export type Ocpp201ErrorCode = (typeof ocpp201ErrorCodes)[number];
export type OcppErrorCode = Ocpp16ErrorCode | Ocpp201ErrorCode;

/**
 * The kinds of failure the gateway itself detects, named once; `errorCodeFor` spells each the way
 * the connection's version does. Where 1.6 has no code of its own we pick the nearest and say why.
 */
export type FailureKind =
  | 'unreadable' // not JSON, or no message id can be read
  | 'badFrame' // a JSON array that is not a CALL/CALLRESULT/CALLERROR of the right shape
  | 'unknownMessageType'
  | 'payloadSyntax' // payload not an object, or a property the schema does not allow
  | 'occurrence'
  | 'type'
  | 'property'
  | 'notImplemented'
  | 'notSupported'
  | 'internal'
  | 'tooManyCalls';

const codes: Record<FailureKind, { 'ocpp1.6': Ocpp16ErrorCode; 'ocpp2.0.1': Ocpp201ErrorCode }> = {
  // 2.0.1: "RpcFrameworkError: content of the call is not a valid RPC request, e.g. MessageId could
  // not be read". 1.6 has no such code; FormationViolation is "syntactically incorrect".
  unreadable: { 'ocpp1.6': 'FormationViolation', 'ocpp2.0.1': 'RpcFrameworkError' },
  // 1.6 ProtocolError: "payload for Action is incomplete" is the nearest to a frame missing elements.
  badFrame: { 'ocpp1.6': 'ProtocolError', 'ocpp2.0.1': 'RpcFrameworkError' },
  unknownMessageType: { 'ocpp1.6': 'ProtocolError', 'ocpp2.0.1': 'MessageTypeNotSupported' },
  payloadSyntax: { 'ocpp1.6': 'FormationViolation', 'ocpp2.0.1': 'FormatViolation' },
  occurrence: { 'ocpp1.6': 'OccurenceConstraintViolation', 'ocpp2.0.1': 'OccurrenceConstraintViolation' },
  type: { 'ocpp1.6': 'TypeConstraintViolation', 'ocpp2.0.1': 'TypeConstraintViolation' },
  property: { 'ocpp1.6': 'PropertyConstraintViolation', 'ocpp2.0.1': 'PropertyConstraintViolation' },
  notImplemented: { 'ocpp1.6': 'NotImplemented', 'ocpp2.0.1': 'NotImplemented' },
  notSupported: { 'ocpp1.6': 'NotSupported', 'ocpp2.0.1': 'NotSupported' },
  internal: { 'ocpp1.6': 'InternalError', 'ocpp2.0.1': 'InternalError' },
  // Neither version names "too many CALLs in flight"; GenericError is the catch-all both define.
  tooManyCalls: { 'ocpp1.6': 'GenericError', 'ocpp2.0.1': 'GenericError' },
};

export function errorCodeFor(kind: FailureKind, version: OcppVersion): OcppErrorCode {
  return codes[kind][version];
}

export function isValidErrorCode(code: string, version: OcppVersion): code is OcppErrorCode {
  const valid: readonly string[] = version === 'ocpp1.6' ? ocpp16ErrorCodes : ocpp201ErrorCodes;
  return valid.includes(code);
}

export function truncateDescription(description: string): string {
  return description.length <= ocppErrorDescriptionCharsMax
    ? description
    : `${description.slice(0, ocppErrorDescriptionCharsMax - 1)}…`;
}

/**
 * Thrown by an OcppHandler to answer a CALL with a CALLERROR. The code must be valid for the
 * connection's version; an invalid one is sent as InternalError (and logged) rather than break the peer.
 */
export class OcppCallError extends Error {
  override readonly name = 'OcppCallError';
  constructor(
    readonly code: OcppErrorCode,
    readonly description: string = '',
    readonly details: Record<string, unknown> = {},
  ) {
    super(`${code}: ${description}`);
  }
}

/** Why a CSMS→station call failed; `StationCaller.call` rejects only with these. */
export abstract class StationCallError extends Error {
  abstract readonly kind:
    | 'notConnected'
    | 'disconnected'
    | 'timeout'
    | 'callError'
    | 'queueFull'
    | 'invalidRequest'
    | 'invalidResponse';
  constructor(
    readonly stationId: string,
    readonly action: string,
    message: string,
  ) {
    super(`${action} to ${stationId}: ${message}`);
  }
}

/** The station has no connection and none within the reconnect window. */
export class StationNotConnectedError extends StationCallError {
  override readonly name = 'StationNotConnectedError';
  readonly kind = 'notConnected';
}

/** The station disconnected and did not come back within the reconnect window; the call may or may not have run. */
export class StationDisconnectedError extends StationCallError {
  override readonly name = 'StationDisconnectedError';
  readonly kind = 'disconnected';
}

/** No answer within the timeout; the station may still execute the call. */
export class StationCallTimeoutError extends StationCallError {
  override readonly name = 'StationCallTimeoutError';
  readonly kind = 'timeout';
}

/** The station answered with a CALLERROR. */
export class StationCallErrorReceived extends StationCallError {
  override readonly name = 'StationCallErrorReceived';
  readonly kind = 'callError';
  constructor(
    stationId: string,
    action: string,
    readonly code: string,
    readonly description: string,
    readonly details: unknown,
  ) {
    super(stationId, action, `CALLERROR ${code}: ${description}`);
  }
}

/** `ocppOutgoingQueueMax` calls already wait for this station. */
export class StationQueueFullError extends StationCallError {
  override readonly name = 'StationQueueFullError';
  readonly kind = 'queueFull';
}

/** Our own request broke the schema or names an action the CSMS may not send: a bug on our side, never sent. */
export class InvalidStationCallError extends StationCallError {
  override readonly name = 'InvalidStationCallError';
  readonly kind = 'invalidRequest';
}

/** The station's CALLRESULT broke the schema; `payload` is what it sent. */
export class InvalidStationResponseError extends StationCallError {
  override readonly name = 'InvalidStationResponseError';
  readonly kind = 'invalidResponse';
  constructor(
    stationId: string,
    action: string,
    message: string,
    readonly payload: unknown,
  ) {
    super(stationId, action, message);
  }
}
