import { createHash } from 'node:crypto';
import { InvalidCommandError } from '../../domain/shared/errors.js';
import type { OcppVersion } from '../errors.js';
import type { StationOperation } from './operations.js';
import { request16 } from './ocpp16.js';
import { request201 } from './ocpp201.js';

/** What goes over the wire for one operation: the version's action and its payload. */
export interface OcppRequest {
  readonly action: string;
  readonly payload: Record<string, unknown>;
}

export interface MappingContext {
  /**
   * A positive 31-bit integer derived from the operation id, for the payload fields that want one
   * (2.0.1 requestId and remoteStartId, 1.6 security requestId): the station's later notifications
   * (LogStatusNotification, TransactionEvent...) carry it, and the recorded request links it back.
   */
  readonly requestId: number;
  /** The id the station knows for a CSMS transaction id (looked up by the runner beforehand). */
  stationTransactionId(transactionId: string): string;
}

/** Maps a version-neutral operation to the connection's version; refuses what that version cannot express. */
export function ocppRequestFor(version: OcppVersion, operation: StationOperation, context: MappingContext): OcppRequest {
  const request = version === 'ocpp1.6' ? request16(operation, context) : request201(operation, context);
  return { action: request.action, payload: withoutUndefined(request.payload) };
}

/** Deterministic, so a retried `run` with the same operation id sends the same request. */
export function requestIdFor(operationId: string): number {
  const id = createHash('sha256').update(operationId).digest().readUInt32BE(0) & 0x7fffffff;
  return id === 0 ? 1 : id;
}

export function unsupported(operation: StationOperation, version: string, why = ''): never {
  throw new InvalidCommandError(`${operation.name} is not available in OCPP ${version}${why ? `: ${why}` : ''}`, operation.name);
}

/** Absent fields must be absent on the wire (and in event data), not present as undefined. */
function withoutUndefined(value: Record<string, unknown>): Record<string, unknown> {
  return JSON.parse(JSON.stringify(value)) as Record<string, unknown>;
}
