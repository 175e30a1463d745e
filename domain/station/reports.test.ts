import { Decimal } from 'decimal.js';
import { describe, expect, it } from 'vitest';
import { given } from '../../test/support/given-when-then.js';
import { eventFrom } from '../shared/event-definition.js';
import { IllegalStateError, InvalidCommandError } from '../shared/errors.js';
import { stationMeterReadingsPerCommandMax } from './decide-reports.js';
import type { ReportStationEvents, StationEventInput } from './report-commands.js';
import {
  ChargingLimitReported,
  FirmwareStatusReported,
  LogUploadStatusReported,
  ReservationStatusReported,
  SecurityEventReported,
  StationBooted,
  StationEventsReported,
  stationEventsPerReportKeptMax,
  stationEventValueCharsMax,
  StationMeterReadingRecorded,
} from './events.js';
import { stationDecider } from './index.js';

const at = '2025-03-01T10:00:00.000Z';
const rejected = eventFrom(StationBooted, {
  vendor: 'ACME', model: 'X1', serialNumber: null, firmwareVersion: null, ocppVersion: '2.0.1', bootReason: null, bootStatus: 'Rejected', registered: false, bootedAt: at,
});

describe('station reports: firmware, logs, security, reservations, charging limits', () => {
  it('records a firmware status, with its request id when the station gives one', () => {
    given(stationDecider, []).when({ type: 'ReportFirmwareStatus', status: 'Installed', reportedAt: at }).then([
      eventFrom(FirmwareStatusReported, { status: 'Installed', requestId: null, reportedAt: at }),
    ]);
    given(stationDecider, []).when({ type: 'ReportFirmwareStatus', status: 'InstallVerificationFailed', requestId: 7, reportedAt: at }).then([
      eventFrom(FirmwareStatusReported, { status: 'InstallVerificationFailed', requestId: 7, reportedAt: at }),
    ]);
  });
  it('the same status again is recorded again: each report is a fact', () => {
    const installed = eventFrom(FirmwareStatusReported, { status: 'Installed', requestId: null, reportedAt: at });
    given(stationDecider, [installed]).when({ type: 'ReportFirmwareStatus', status: 'Installed', reportedAt: at }).then([installed]);
  });
  it('records diagnostics and log upload statuses', () => {
    given(stationDecider, []).when({ type: 'ReportLogUploadStatus', status: 'Uploaded', requestId: 2, reportedAt: at }).then([
      eventFrom(LogUploadStatusReported, { status: 'Uploaded', requestId: 2, reportedAt: at }),
    ]);
  });
  it('records a security event with its station time and tech info', () => {
    given(stationDecider, []).when({ type: 'ReportSecurityEvent', eventType: 'TamperDetectionActivated', eventAt: '2025-03-01T11:00:00+01:00', techInfo: 'lid' }).then([
      eventFrom(SecurityEventReported, { eventType: 'TamperDetectionActivated', eventAt: at, techInfo: 'lid' }),
    ]);
  });
  it('records reservation status updates and charging limits set or cleared', () => {
    given(stationDecider, []).when({ type: 'ReportReservationStatus', reservationId: 4, status: 'Expired', reportedAt: at }).then([
      eventFrom(ReservationStatusReported, { reservationId: 4, status: 'Expired', reportedAt: at }),
    ]);
    given(stationDecider, []).when({ type: 'ReportChargingLimit', evseId: 1, chargingLimitSource: 'EMS', isGridCritical: true, cleared: false, chargingScheduleCount: 1, reportedAt: at }).then([
      eventFrom(ChargingLimitReported, { evseId: 1, chargingLimitSource: 'EMS', isGridCritical: true, cleared: false, chargingScheduleCount: 1, reportedAt: at }),
    ]);
    given(stationDecider, []).when({ type: 'ReportChargingLimit', chargingLimitSource: 'SO', cleared: true, reportedAt: at }).then([
      eventFrom(ChargingLimitReported, { evseId: null, chargingLimitSource: 'SO', isGridCritical: null, cleared: true, chargingScheduleCount: 0, reportedAt: at }),
    ]);
  });
  it('refuses overlong text and reports from a station whose boot was rejected', () => {
    given(stationDecider, []).when({ type: 'ReportFirmwareStatus', status: 'x'.repeat(51), reportedAt: at }).thenThrows(InvalidCommandError, /status/);
    given(stationDecider, []).when({ type: 'ReportSecurityEvent', eventType: 'X', eventAt: at, techInfo: 'x'.repeat(256) }).thenThrows(InvalidCommandError, /techInfo/);
    given(stationDecider, [rejected]).when({ type: 'ReportFirmwareStatus', status: 'Installed', reportedAt: at }).thenThrows(IllegalStateError, /rejected/);
  });
});

describe('station reports: NotifyEvent summary', () => {
  const input = (eventId: number, extra: Partial<StationEventInput> = {}): StationEventInput => ({
    eventId, eventAt: at, trigger: 'Alerting', eventNotificationType: 'HardWiredNotification', key: 'EVSE@1/Problem', actualValue: 'true', ...extra,
  });
  const report = (events: StationEventInput[], eventCount = events.length): ReportStationEvents => ({ type: 'ReportStationEvents', generatedAt: at, seqNo: 0, eventCount, events });
  it('keeps the count and the first events, each bounded', () => {
    const long = 'v'.repeat(2500);
    const [event] = given(stationDecider, []).when(report([input(1, { actualValue: long, techCode: 'E12' })], 250)).then([
      eventFrom(StationEventsReported, {
        generatedAt: at, seqNo: 0, tbc: false, eventCount: 250,
        events: [{ eventId: 1, eventAt: at, trigger: 'Alerting', eventNotificationType: 'HardWiredNotification', key: 'EVSE@1/Problem', actualValue: `${long.slice(0, stationEventValueCharsMax - 1)}…`, cause: null, techCode: 'E12', techInfo: null, cleared: null, stationTransactionId: null }],
      }),
    ]);
    expect(JSON.stringify(event!.data).length).toBeLessThan(1000);
  });
  it(`refuses more than ${stationEventsPerReportKeptMax} events or a count below them`, () => {
    const many = Array.from({ length: stationEventsPerReportKeptMax + 1 }, (_, i) => input(i));
    given(stationDecider, []).when(report(many)).thenThrows(InvalidCommandError, /at most/);
    given(stationDecider, []).when(report([input(1), input(2)], 1)).thenThrows(InvalidCommandError, /eventCount/);
  });
});

describe('station reports: meter readings outside a transaction', () => {
  const sampledValues = [{ value: '230', measurand: 'Voltage', phase: 'L1-N', unit: 'V', multiplier: null, context: 'Sample.Clock', location: 'Inlet' }];
  it('records each reading of the main meter or an EVSE', () => {
    given(stationDecider, [])
      .when({ type: 'RecordStationMeterReadings', evseId: 0, readings: [{ sampledAt: at, registerWh: new Decimal('123456.5'), sampledValues }] })
      .then([eventFrom(StationMeterReadingRecorded, { evseId: 0, sampledAt: at, registerWh: '123456.5', sampledValues, signedData: null })]);
  });
  it('refuses an empty reading, too many readings or too many sampled values', () => {
    given(stationDecider, []).when({ type: 'RecordStationMeterReadings', evseId: 0, readings: [{ sampledAt: at }] }).thenThrows(InvalidCommandError, /register or sampled values/);
    const readings = Array.from({ length: stationMeterReadingsPerCommandMax + 1 }, () => ({ sampledAt: at, registerWh: new Decimal(1) }));
    given(stationDecider, []).when({ type: 'RecordStationMeterReadings', evseId: 0, readings }).thenThrows(InvalidCommandError, /readings/);
    const many = Array.from({ length: 101 }, () => sampledValues[0]!);
    given(stationDecider, []).when({ type: 'RecordStationMeterReadings', evseId: 1, readings: [{ sampledAt: at, sampledValues: many }] }).thenThrows(InvalidCommandError, /sampled values/);
  });
});
