import type { OcppVersion } from '../../shared/values.js';
import type { StationOperationFailure } from './events.js';

/**
 * Commands to the `stationOperation` aggregate; the aggregate id is the operation id. Sent by the
 * operation runner (ocpp/operations), which does the I/O: the decider only keeps the lifecycle
 * straight (one request, then exactly one outcome). Times are server time, ISO-8601 with a zone.
 */

type JsonObject = { readonly [key: string]: unknown };

export interface RequestStationOperation {
  readonly type: 'RequestStationOperation';
  readonly operationId: string;
  readonly stationId: string;
  readonly operation: { readonly name: string; readonly params: JsonObject };
  /** null (with action and request) when the station is not connected. */
  readonly ocppVersion: OcppVersion | null;
  readonly action: string | null;
  readonly request: JsonObject | null;
  readonly requestedBy: string;
  readonly requestedAt: string;
}

export interface RecordStationOperationAnswer {
  readonly type: 'RecordStationOperationAnswer';
  readonly operationId: string;
  readonly answer: JsonObject;
  readonly answeredAt: string;
}

export interface RecordStationOperationFailure {
  readonly type: 'RecordStationOperationFailure';
  readonly operationId: string;
  readonly reason: StationOperationFailure;
  readonly failedAt: string;
}

export type StationOperationCommand = RequestStationOperation | RecordStationOperationAnswer | RecordStationOperationFailure;

export const stationOperationCommandTypes = [
  'RequestStationOperation',
  'RecordStationOperationAnswer',
  'RecordStationOperationFailure',
] as const satisfies readonly StationOperationCommand['type'][];
