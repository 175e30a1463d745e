import type { MeterReadingInput } from '../transaction/commands.js';

/**
 * Station reports as commands (see report-events.ts). Gateways translate; times are the station's
 * clock with a zone, except `reportedAt`, the server time for messages that carry none.
 */

export interface ReportFirmwareStatus {
  readonly type: 'ReportFirmwareStatus';
  readonly status: string;
  readonly requestId?: number | null;
  readonly reportedAt: string;
}

export interface ReportLogUploadStatus {
  readonly type: 'ReportLogUploadStatus';
  readonly status: string;
  readonly requestId?: number | null;
  readonly reportedAt: string;
}

export interface ReportSecurityEvent {
  readonly type: 'ReportSecurityEvent';
  readonly eventType: string;
  readonly eventAt: string;
  readonly techInfo?: string | null;
}

export interface ReportReservationStatus {
  readonly type: 'ReportReservationStatus';
  readonly reservationId: number;
  readonly status: string;
  readonly reportedAt: string;
}

export interface ReportChargingLimit {
  readonly type: 'ReportChargingLimit';
  readonly evseId?: number | null;
  readonly chargingLimitSource: string;
  readonly isGridCritical?: boolean | null;
  readonly cleared: boolean;
  readonly chargingScheduleCount?: number;
  readonly reportedAt: string;
}

export interface StationEventInput {
  readonly eventId: number;
  readonly eventAt: string;
  readonly trigger: string;
  readonly eventNotificationType: string;
  readonly key: string;
  /** Cut to `stationEventValueCharsMax` by the decider (a longer value is not a reason to lose the event). */
  readonly actualValue: string;
  readonly cause?: number | null;
  readonly techCode?: string | null;
  readonly techInfo?: string | null;
  readonly cleared?: boolean | null;
  readonly stationTransactionId?: string | null;
}

/** NotifyEvent: gateways pass the count and at most `stationEventsPerReportKeptMax` events. */
export interface ReportStationEvents {
  readonly type: 'ReportStationEvents';
  readonly generatedAt: string;
  readonly seqNo: number;
  readonly tbc?: boolean;
  readonly eventCount: number;
  readonly events: readonly StationEventInput[];
}

/** Readings of the station's own meters; at most `stationMeterReadingsPerCommandMax` per command. */
export interface RecordStationMeterReadings {
  readonly type: 'RecordStationMeterReadings';
  readonly evseId: number;
  readonly readings: readonly Omit<MeterReadingInput, 'triggerReason' | 'seqNo' | 'offline'>[];
}

export type StationReportCommand =
  | ReportFirmwareStatus
  | ReportLogUploadStatus
  | ReportSecurityEvent
  | ReportReservationStatus
  | ReportChargingLimit
  | ReportStationEvents
  | RecordStationMeterReadings;

export const stationReportCommandTypes = [
  'ReportFirmwareStatus',
  'ReportLogUploadStatus',
  'ReportSecurityEvent',
  'ReportReservationStatus',
  'ReportChargingLimit',
  'ReportStationEvents',
  'RecordStationMeterReadings',
] as const satisfies readonly StationReportCommand['type'][];
