import type { Decimal } from 'decimal.js';
import type { IdToken } from '../shared/values.js';
import type { AuthorizationResult, SampledValue, StopReason } from './events.js';

/**
 * Commands to the transaction aggregate. Energy is a Decimal in Wh (gateways apply the OCPP unit
 * and multiplier); times are the station's clock as ISO-8601 strings with a zone.
 */

export interface AuthorizeTransaction {
  readonly type: 'AuthorizeTransaction';
  readonly stationId: string;
  readonly evseId?: number | null;
  readonly idToken: IdToken;
  /** Decided outside the transaction (token aggregate, eMSP real-time authorization). */
  readonly result: AuthorizationResult;
  readonly authorizedAt: string;
}

export interface StartTransaction {
  readonly type: 'StartTransaction';
  /** CSMS-assigned, equal to the aggregate id. */
  readonly transactionId: string;
  readonly stationTransactionId?: string | null;
  readonly stationId: string;
  readonly evseId: number;
  readonly connectorId: number;
  readonly idToken?: IdToken | null;
  readonly meterStartWh: Decimal;
  readonly startedAt: string;
  readonly reservationId?: number | null;
}

export interface MeterReadingInput {
  readonly sampledAt: string;
  /** Energy.Active.Import.Register in Wh, if the reading has it. */
  readonly registerWh?: Decimal | null;
  readonly sampledValues?: readonly SampledValue[];
  /** Kept verbatim (any JSON the station sent). */
  readonly signedData?: unknown;
}

export interface RecordMeterReading extends MeterReadingInput {
  readonly type: 'RecordMeterReading';
}

export interface EndTransaction {
  readonly type: 'EndTransaction';
  /** Absent when the station sent none (2.0.1): the latest register reading up to endedAt is used. */
  readonly meterStopWh?: Decimal | null;
  readonly endedAt: string;
  readonly reason: StopReason;
  readonly stoppedBy?: IdToken | null;
  /** 1.6 StopTransaction.transactionData / 2.0.1 Ended meterValue: recorded as readings before the end. */
  readonly transactionData?: readonly MeterReadingInput[];
}

export type TransactionCommand = AuthorizeTransaction | StartTransaction | RecordMeterReading | EndTransaction;

export const transactionCommandTypes = [
  'AuthorizeTransaction',
  'StartTransaction',
  'RecordMeterReading',
  'EndTransaction',
] as const satisfies readonly TransactionCommand['type'][];
