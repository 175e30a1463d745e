import { Decimal } from 'decimal.js';
import { z } from 'zod';
import { defineEvent, type EventOf } from '../shared/event-definition.js';
import { ocpiTokenTypes } from '../shared/token-type.js';
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

/**
 * Why an authorization has its result: 'token' our copy of a known token decided; 'unknownTokenPolicy'
 * the token was unknown and the CSMS policy decided (an open site's free vend is 'Accepted' by policy,
 * not by any token); 'offlineWhitelist' an OCPI token with whitelist ALLOWED_OFFLINE was accepted
 * because the eMSP could not be asked; 'realtime' the eMSP answered an OCPI real-time authorization;
 * 'remoteStart' a remote start the station was sent (OCPI START_SESSION, an operator) names this
 * transaction: the token in the command was the authorization (OCPI AuthMethod COMMAND).
 */
export const authorizationBases = ['token', 'unknownTokenPolicy', 'offlineWhitelist', 'realtime', 'remoteStart'] as const;
export type AuthorizationBasis = (typeof authorizationBases)[number];

/**
 * An eMSP's reference for an authorization it gave (OCPI authorization_reference): CiString(36),
 * printable ASCII, as OCPI Sessions and CDRs must carry it.
 */
export const authorizationReferenceSchema = z.string().min(1).max(36).regex(/^[\x20-\x7E]+$/, 'printable ASCII');

/**
 * The eMSP (OCPI party, upper case) whose authorization a session ran on: the one that allowed the
 * token in real time, or whose START_SESSION named it. It pays for the session (its CDR's
 * cdr_token and receivable), even when we never held the token. `contractId`/`tokenType`: what
 * its Token said (START_SESSION's, the real-time answer's), so the Session and CDR name its
 * contract_id and OCPI type for a token we do not hold (OCPI 2.2.1 13.3.5). Optional: absent when
 * it did not say, and on events stored before they existed, which replay unchanged.
 */
export const authorizingPartySchema = z.object({
  countryCode: z.string().regex(/^[A-Z]{2}$/),
  partyId: z.string().regex(/^[A-Z0-9]{3}$/),
  contractId: z.string().min(1).max(36).regex(/^[\x20-\x7E]+$/, 'printable ASCII').optional(),
  tokenType: z.enum(ocpiTokenTypes).optional(),
});
export type AuthorizingParty = z.infer<typeof authorizingPartySchema>;

const transactionAuthorizedV1 = z.object({
  stationId: z.string().min(1).max(48),
  evseId: z.number().int().min(1).nullable(),
  idToken: idTokenSchema,
  result: z.enum(authorizationResults),
  authorizedAt: isoTimestamp,
});

const transactionAuthorizedV2 = transactionAuthorizedV1.extend({
  /**
   * null only for events stored at v1, which did not keep it: an unknown token accepted by policy
   * and a known one cannot be told apart there, and guessing 'token' would be a false fact.
   */
  basis: z.enum(authorizationBases).nullable(),
  /**
   * The eMSP's reference for this authorization (OCPI authorization_reference, CiString(36)): from
   * its real-time answer or its START_SESSION. Optional: absent when none was given, and on events
   * stored before it existed, so no new version was needed.
   */
  authorizationReference: authorizationReferenceSchema.optional(),
  /** basis 'remoteStart': the station operation that sent the remote start (its stream's id). */
  remoteStartOperationId: z.string().min(1).max(100).optional(),
  /**
   * basis 'realtime' or 'remoteStart': the eMSP that authorized it (its real-time answer, its
   * START_SESSION). Optional: an authorization from our own list has none, nor do events stored
   * before it existed, which replay unchanged.
   */
  authorizingParty: authorizingPartySchema.optional(),
});

/** v2 added `basis`: a required field for new events (decide always knows it), so a version, not an optional field. */
export const TransactionAuthorized = defineEvent({
  type: 'TransactionAuthorized',
  aggregateType: transactionAggregateType,
  schemaVersion: 2,
  schema: transactionAuthorizedV2,
  upcasters: {
    1: {
      schema: transactionAuthorizedV1,
      up: (stored: unknown): z.infer<typeof transactionAuthorizedV2> => ({ ...transactionAuthorizedV1.parse(stored), basis: null }),
    },
  },
});

/**
 * Where a fact came from in the station's message, kept for audit and ordering (2.0.1
 * TransactionEvent triggerReason, seqNo, offline). Optional: 1.6 has none, and events stored
 * before these fields existed read as absent, so adding them needed no new version.
 */
export const messageContextFields = {
  /** 2.0.1 TriggerReasonEnumType (MeterValuePeriodic, ChargingStateChanged, ...). */
  triggerReason: z.string().min(1).max(50).optional(),
  /** 2.0.1 TransactionEvent seqNo: the station's own order of its messages. */
  seqNo: z.number().int().min(0).optional(),
  /** 2.0.1 TransactionEvent offline: the station queued it while offline. */
  offline: z.boolean().optional(),
};
export const messageContextSchema = z.object(messageContextFields);
export type MessageContext = z.infer<typeof messageContextSchema>;

/** Version 1: meter start always known. */
const transactionStartedV1 = z.object({
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
});

const transactionStartedV2 = transactionStartedV1.extend({
  /**
   * null: the station sent no energy register with its start (2.0.1 Started may carry no meter
   * value). The first register reading by station time then stands for the start (state.ts
   * `meterStartOf`); counting from 0 Wh would bill the car for the meter's whole lifetime.
   */
  meterStartWh: nonNegativeDecimalString.nullable(),
  ...messageContextFields,
});

export const TransactionStarted = defineEvent({
  type: 'TransactionStarted',
  aggregateType: transactionAggregateType,
  schemaVersion: 2,
  schema: transactionStartedV2,
  upcasters: {
    // Every v1 start had a meter start: the data is already valid v2.
    1: { schema: transactionStartedV1, up: (stored: unknown): z.infer<typeof transactionStartedV2> => transactionStartedV1.parse(stored) },
  },
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
  ...messageContextFields,
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
    /**
     * meterStop below meterStart or 1 Wh or more below an earlier reading (less is a 1.6 stop's
     * whole-Wh rounding), or endedAt before startedAt; or no
     * register at all was ever known (no meter start, readings or meter stop): meterStopWh is then
     * '0' and stands for nothing.
     */
    suspicious: z.boolean(),
    ...messageContextFields,
  }),
});

/** 2.0.1 ChargingStateEnumType; 1.6 gateways derive it from the connector status during a transaction. */
export const chargingStates = ['Charging', 'EVConnected', 'SuspendedEV', 'SuspendedEVSE', 'Idle'] as const;
export type ChargingState = (typeof chargingStates)[number];

/**
 * The EV's charging state changed (2.0.1 transactionInfo.chargingState; 1.6 StatusNotification
 * Charging/SuspendedEV/SuspendedEVSE/Finishing during a transaction). The periods between changes
 * are what idle and parking-time pricing (OCPI PARKING_TIME) charge for.
 */
export const ChargingStateChanged = defineEvent({
  type: 'ChargingStateChanged',
  aggregateType: transactionAggregateType,
  schemaVersion: 1,
  schema: z.object({
    state: z.enum(chargingStates),
    /** Station time of the change. */
    changedAt: isoTimestamp,
    /** Changed before a change already recorded, or recorded after the transaction ended. */
    late: z.boolean(),
    ...messageContextFields,
  }),
});

/** OCPI 2.2.1 ProfileType: what the driver asks the charging to optimise for. */
export const chargingProfileTypes = ['CHEAP', 'FAST', 'GREEN', 'REGULAR'] as const;
export type ChargingProfileType = (typeof chargingProfileTypes)[number];

/**
 * The driver's charging preferences for this session, as their eMSP sent them (OCPI sessions
 * PUT charging_preferences). Recorded only: acting on them through smart charging comes later.
 */
export const ChargingPreferencesSet = defineEvent({
  type: 'ChargingPreferencesSet',
  aggregateType: transactionAggregateType,
  schemaVersion: 1,
  schema: z.object({
    profileType: z.enum(chargingProfileTypes),
    departureTime: isoTimestamp.nullable(),
    /** kWh the EV needs, a decimal string (never a float). */
    energyNeedKwh: nonNegativeDecimalString.nullable(),
    dischargeAllowed: z.boolean().nullable(),
    /** Partner time of the request. */
    setAt: isoTimestamp,
  }),
});

export const transactionEventDefinitions = [
  TransactionAuthorized,
  TransactionStarted,
  MeterReadingRecorded,
  TransactionEnded,
  ChargingStateChanged,
  ChargingPreferencesSet,
] as const;

export type TransactionEvent = EventOf<(typeof transactionEventDefinitions)[number]>;
export type TransactionEventType = TransactionEvent['type'];
export type TransactionEventData<T extends TransactionEventType> = Extract<TransactionEvent, { type: T }>['data'];
