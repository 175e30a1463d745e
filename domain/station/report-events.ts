import { z } from 'zod';
import { defineEvent } from '../shared/event-definition.js';
import { isoTimestamp, nonNegativeDecimalString } from '../shared/values.js';
import { sampledValueSchema, sampledValuesPerReadingMax, signedDataSchema } from '../transaction/events.js';

/**
 * What a station reports about itself besides boot, status and configuration: firmware and log
 * jobs, security events, reservations, charging limits, monitoring events, and meter readings
 * outside any transaction. Events of the `station` aggregate (stream `station-<tenant>-<id>`),
 * each bounded in size: a station cannot grow its stream by sending large notifications.
 * `reportedAt` is server time where the OCPP message carries no time of its own.
 */

const stationAggregateType = 'station';

/** Free-text status words as the station spelled them (1.6 and 2.0.1 enums differ; both are kept). */
const statusText = z.string().min(1).max(50);

/** 1.6 FirmwareStatusNotification / SignedFirmwareStatusNotification, 2.0.1 FirmwareStatusNotification. */
export const FirmwareStatusReported = defineEvent({
  type: 'FirmwareStatusReported',
  aggregateType: stationAggregateType,
  schemaVersion: 1,
  schema: z.object({
    status: statusText,
    /** The UpdateFirmware request it answers; null for 1.6 FirmwareStatusNotification, which has none. */
    requestId: z.number().int().nullable(),
    reportedAt: isoTimestamp,
  }),
});

/** 1.6 DiagnosticsStatusNotification and LogStatusNotification, 2.0.1 LogStatusNotification. */
export const LogUploadStatusReported = defineEvent({
  type: 'LogUploadStatusReported',
  aggregateType: stationAggregateType,
  schemaVersion: 1,
  schema: z.object({
    status: statusText,
    /** The GetLog request it answers; null for 1.6 DiagnosticsStatusNotification. */
    requestId: z.number().int().nullable(),
    reportedAt: isoTimestamp,
  }),
});

/** SecurityEventNotification (1.6 security whitepaper, 2.0.1 A04). */
export const SecurityEventReported = defineEvent({
  type: 'SecurityEventReported',
  aggregateType: stationAggregateType,
  schemaVersion: 1,
  schema: z.object({
    /** e.g. TamperDetectionActivated, FirmwareUpdated, InvalidCsmsCertificate (CiString50). */
    eventType: z.string().min(1).max(50),
    /** Station time of the security event. */
    eventAt: isoTimestamp,
    techInfo: z.string().max(255).nullable(),
  }),
});

/** 2.0.1 ReservationStatusUpdate (H05): a reservation Expired or was Removed by the station. */
export const ReservationStatusReported = defineEvent({
  type: 'ReservationStatusReported',
  aggregateType: stationAggregateType,
  schemaVersion: 1,
  schema: z.object({ reservationId: z.number().int(), status: statusText, reportedAt: isoTimestamp }),
});

/**
 * 2.0.1 NotifyChargingLimit (K12) and ClearedChargingLimit (K13): an external limit (EMS, SO...)
 * set or cleared. The schedules themselves are not kept (up to 1,024 periods each); their count is.
 */
export const ChargingLimitReported = defineEvent({
  type: 'ChargingLimitReported',
  aggregateType: stationAggregateType,
  schemaVersion: 1,
  schema: z.object({
    /** null: the whole station. */
    evseId: z.number().int().min(0).nullable(),
    chargingLimitSource: z.string().min(1).max(20),
    isGridCritical: z.boolean().nullable(),
    /** true: ClearedChargingLimit. */
    cleared: z.boolean(),
    chargingScheduleCount: z.number().int().min(0),
    reportedAt: isoTimestamp,
  }),
});

/** NotifyEvent data kept per message: the first ones in full, the rest counted. */
export const stationEventsPerReportKeptMax = 10;
/** An event's actualValue (2.0.1: up to 2,500 characters) is kept up to this, cut with '…'. */
export const stationEventValueCharsMax = 500;

export const stationEventDataSchema = z.object({
  eventId: z.number().int(),
  /** Station time. */
  eventAt: isoTimestamp,
  /** Alerting, Delta, Periodic. */
  trigger: z.string().min(1).max(20),
  /** HardWiredNotification, HardWiredMonitor, PreconfiguredMonitor, CustomMonitor. */
  eventNotificationType: z.string().min(1).max(30),
  /** Component and variable as one key (commands.ts `configurationKey`). */
  key: z.string().min(1).max(500),
  actualValue: z.string().max(stationEventValueCharsMax),
  cause: z.number().int().nullable(),
  techCode: z.string().max(50).nullable(),
  techInfo: z.string().max(500).nullable(),
  cleared: z.boolean().nullable(),
  /** The station's transaction id the event concerns, if any. */
  stationTransactionId: z.string().max(36).nullable(),
});
export type StationEventDataRecorded = z.infer<typeof stationEventDataSchema>;

/** 2.0.1 NotifyEvent (N07/N08): a bounded summary of one message. */
export const StationEventsReported = defineEvent({
  type: 'StationEventsReported',
  aggregateType: stationAggregateType,
  schemaVersion: 1,
  schema: z.object({
    generatedAt: isoTimestamp,
    seqNo: z.number().int().min(0),
    /** "To be continued": more messages of the same report follow. */
    tbc: z.boolean(),
    /** How many events the message carried; `events` holds the first of them. */
    eventCount: z.number().int().min(0),
    events: z.array(stationEventDataSchema).max(stationEventsPerReportKeptMax),
  }),
});

/** MeterValues outside a transaction (1.6 without transactionId, 2.0.1 MeterValues): the station's own meters. */
export const StationMeterReadingRecorded = defineEvent({
  type: 'StationMeterReadingRecorded',
  aggregateType: stationAggregateType,
  schemaVersion: 1,
  schema: z.object({
    /** 0: the station's main meter (1.6 connector 0, 2.0.1 evseId 0); n: EVSE n (1.6 connector n). */
    evseId: z.number().int().min(0),
    sampledAt: isoTimestamp,
    /** Energy.Active.Import.Register in Wh, if the reading has it. */
    registerWh: nonNegativeDecimalString.nullable(),
    sampledValues: z.array(sampledValueSchema).max(sampledValuesPerReadingMax),
    signedData: signedDataSchema.nullable(),
  }),
});

export const stationReportEventDefinitions = [
  FirmwareStatusReported,
  LogUploadStatusReported,
  SecurityEventReported,
  ReservationStatusReported,
  ChargingLimitReported,
  StationEventsReported,
  StationMeterReadingRecorded,
] as const;
