import type { Decimal } from 'decimal.js';
import type { IdToken } from '../shared/values.js';
import type { AuthorizationBasis, AuthorizationResult, AuthorizingParty, ChargingProfileType, ChargingState, MessageContext, SampledValue, StopReason } from './events.js';

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
  /** What decided the result: a known token, the unknown-token policy, the offline whitelist, the eMSP, a remote start. */
  readonly basis: AuthorizationBasis;
  readonly authorizedAt: string;
  /** The eMSP's authorization_reference (real-time answer or START_SESSION), when it gave one. */
  readonly authorizationReference?: string | null;
  /** basis 'remoteStart': the station operation that sent it. */
  readonly remoteStartOperationId?: string | null;
  /** The eMSP whose real-time answer or START_SESSION authorized it, when one did. */
  readonly authorizingParty?: AuthorizingParty | null;
}

export interface StartTransaction extends MessageContext {
  readonly type: 'StartTransaction';
  /** CSMS-assigned, equal to the aggregate id. */
  readonly transactionId: string;
  readonly stationTransactionId?: string | null;
  readonly stationId: string;
  readonly evseId: number;
  readonly connectorId: number;
  readonly idToken?: IdToken | null;
  /** Absent when the station sent no register with its start (2.0.1): the first register reading stands for it. */
  readonly meterStartWh?: Decimal | null;
  readonly startedAt: string;
  readonly reservationId?: number | null;
}

export interface MeterReadingInput extends MessageContext {
  readonly sampledAt: string;
  /** Energy.Active.Import.Register in Wh, if the reading has it. */
  readonly registerWh?: Decimal | null;
  readonly sampledValues?: readonly SampledValue[];
  /** Kept verbatim (any JSON the station sent). */
  readonly signedData?: unknown;
}

/**
 * The station naming the transaction. Gateways always send it, so a station cannot write to
 * another station's transaction (refused with IllegalStateError); operator tools may leave it out.
 */
interface FromStation {
  readonly stationId?: string | null;
}

export interface RecordMeterReading extends MeterReadingInput, FromStation {
  readonly type: 'RecordMeterReading';
}

export interface EndTransaction extends MessageContext, FromStation {
  readonly type: 'EndTransaction';
  /** Absent when the station sent none (2.0.1): the latest register reading up to endedAt is used. */
  readonly meterStopWh?: Decimal | null;
  readonly endedAt: string;
  readonly reason: StopReason;
  readonly stoppedBy?: IdToken | null;
  /** 1.6 StopTransaction.transactionData / 2.0.1 Ended meterValue: recorded as readings before the end. */
  readonly transactionData?: readonly MeterReadingInput[];
}

export interface RecordChargingState extends MessageContext, FromStation {
  readonly type: 'RecordChargingState';
  readonly state: ChargingState;
  /** Station time of the change. */
  readonly changedAt: string;
}

/** The driver's preferences from their eMSP (OCPI ChargingPreferences); only a running session takes them. */
export interface SetChargingPreferences {
  readonly type: 'SetChargingPreferences';
  readonly profileType: ChargingProfileType;
  readonly departureTime?: string | null;
  readonly energyNeedKwh?: Decimal | null;
  readonly dischargeAllowed?: boolean | null;
  /** Partner time of the request. */
  readonly setAt: string;
}

export type TransactionCommand = AuthorizeTransaction | StartTransaction | RecordMeterReading | EndTransaction | RecordChargingState | SetChargingPreferences;

export const transactionCommandTypes = [
  'AuthorizeTransaction',
  'StartTransaction',
  'RecordMeterReading',
  'EndTransaction',
  'RecordChargingState',
  'SetChargingPreferences',
] as const satisfies readonly TransactionCommand['type'][];
