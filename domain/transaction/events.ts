import { Decimal } from 'decimal.js';
import { z } from 'zod';
import { defineEvent, type EventOf } from '../shared/event-definition.js';
import { idTokenSchema, isoTimestamp, nonNegativeDecimalString } from '../shared/values.js';

/**
 * Events of the `transaction` aggregate (stream `transaction-<tenant>-<transactionId>`, where the
 * id is the CSMS-assigned transaction id). Times are station time, normalized ISO-8601 UTC.
 */

export const transactionAggregateType = 'transaction';

/** OCPP 2.0.1 AuthorizationStatusEnumType, a superset of 1.6 AuthorizationStatus. */
export const authorizationResults = [
  'Accepted',
  'Blocked',
  'ConcurrentTx',
  'Expired',
  'Invalid',
  'NoCredit',
  'NotAllowedTypeEVSE',
  'NotAtThisLocation',
  'NotAtThisTime',
  'Unknown',
] as const;
export type AuthorizationResult = (typeof authorizationResults)[number];

/**
 * Union of OCPP 1.6 Reason and 2.0.1 StoppedReasonEnumType, one vocabulary for billing and APIs.
 * 1.6 sends no reason for a normal stop: gateways record 'Local' (1.6 §7.45 default).
 */
export const stopReasons = [
  'DeAuthorized',
  'EmergencyStop',
  'EnergyLimitReached',
  'EVDisconnected',
  'GroundFault',
  'HardReset',
  'ImmediateReset',
  'Local',
  'LocalOutOfCredit',
  'MasterPass',
  'Other',
  'OvercurrentFault',
  'PowerLoss',
  'PowerQuality',
  'Reboot',
  'Remote',
  'SOCLimitReached',
  'SoftReset',
  'StoppedByEV',
  'TimeLimitReached',
  'Timeout',
  'UnlockCommand',
] as const;
export type StopReason = (typeof stopReasons)[number];

/** One sampled value besides the energy register, kept as the station gave it. */
export const sampledValueSchema = z.object({
  value: z.string().max(100),
  measurand: z.string().max(100).nullable(),
  phase: z.string().max(20).nullable(),
  unit: z.string().max(20).nullable(),
  /** OCPP 2.0.1 unitOfMeasure.multiplier (power of ten); null for 1.6. */
  multiplier: z.number().int().nullable(),
  context: z.string().max(50).nullable(),
  location: z.string().max(20).nullable(),
});
export type SampledValue = z.infer<typeof sampledValueSchema>;

/**
 * Signed meter data exactly as received: a 1.6 string (format SignedData) or the 2.0.1
 * signedMeterValue object. Never parsed or normalized, so the signature still verifies.
 */
export const signedDataSchema = z.json();

export const sampledValuesPerReadingMax = 100;

export const TransactionAuthorized = defineEvent({
  type: 'TransactionAuthorized',
  aggregateType: transactionAggregateType,
  schemaVersion: 1,
  schema: z.object({
    stationId: z.string().min(1).max(48),
    evseId: z.number().int().min(1).nullable(),
    idToken: idTokenSchema,
    result: z.enum(authorizationResults),
    authorizedAt: isoTimestamp,
  }),
});

export const TransactionStarted = defineEvent({
  type: 'TransactionStarted',
  aggregateType: transactionAggregateType,
  schemaVersion: 1,
  schema: z.object({
    /** CSMS-assigned id, the stream's id. */
    transactionId: z.string().min(1).max(64),
    /** The id the station uses in its messages: 2.0.1 its own transactionId, 1.6 the integer we gave it. */
    stationTransactionId: z.string().min(1).max(64).nullable(),
    stationId: z.string().min(1).max(48),
    evseId: z.number().int().min(1),
    connectorId: z.number().int().min(1),
    /** null: 2.0.1 transactions may start before any authorization (e.g. cable plugged in). */
    idToken: idTokenSchema.nullable(),
    meterStartWh: nonNegativeDecimalString,
    startedAt: isoTimestamp,
    reservationId: z.number().int().nullable(),
  }),
});

const meterReadingV2 = z.object({
  sampledAt: isoTimestamp,
  /** Energy.Active.Import.Register in Wh; null when the reading carried only other measurands. */
  registerWh: nonNegativeDecimalString.nullable(),
  sampledValues: z.array(sampledValueSchema).max(sampledValuesPerReadingMax),
  signedData: signedDataSchema.nullable(),
  /** The register is out of order with another reading (went down): kept, never refused. */
  suspicious: z.boolean(),
  /** Sampled before a reading already recorded, or after the transaction ended (offline queue). */
  late: z.boolean(),
});

/** Version 1, as first stored: the register in kWh, no other sampled values, no late flag. */
export const meterReadingRecordedV1 = z.object({
  sampledAt: isoTimestamp,
  registerKwh: nonNegativeDecimalString,
  signedData: z.string().nullable(),
  suspicious: z.boolean(),
});

export const MeterReadingRecorded = defineEvent({
  type: 'MeterReadingRecorded',
  aggregateType: transactionAggregateType,
  schemaVersion: 2,
  schema: meterReadingV2,
  upcasters: {
    1: {
      schema: meterReadingRecordedV1,
      up: (stored: unknown): z.infer<typeof meterReadingV2> => {
        const v1 = meterReadingRecordedV1.parse(stored);
        return {
          sampledAt: v1.sampledAt,
          registerWh: new Decimal(v1.registerKwh).times(1000).toFixed(),
          sampledValues: [],
          signedData: v1.signedData,
          suspicious: v1.suspicious,
          // Version 1 code did not flag late readings; nothing stored lets us tell now.
          late: false,
        };
      },
    },
  },
});

export const TransactionEnded = defineEvent({
  type: 'TransactionEnded',
  aggregateType: transactionAggregateType,
  schemaVersion: 1,
  schema: z.object({
    meterStopWh: nonNegativeDecimalString,
    /** 'lastReading': the station sent no meterStop (2.0.1 may omit it); the latest register was used. */
    meterStopSource: z.enum(['station', 'lastReading']),
    endedAt: isoTimestamp,
    reason: z.enum(stopReasons),
    stoppedBy: idTokenSchema.nullable(),
    /** meterStop below meterStart or below an earlier reading, or endedAt before startedAt. */
    suspicious: z.boolean(),
  }),
});

export const transactionEventDefinitions = [
  TransactionAuthorized,
  TransactionStarted,
  MeterReadingRecorded,
  TransactionEnded,
] as const;

export type TransactionEvent = EventOf<(typeof transactionEventDefinitions)[number]>;
export type TransactionEventType = TransactionEvent['type'];
export type TransactionEventData<T extends TransactionEventType> = Extract<TransactionEvent, { type: T }>['data'];
