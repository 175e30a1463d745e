import { z } from 'zod';
import { assertNever } from '../shared/assert.js';
import { eventFrom } from '../shared/event-definition.js';
import { IllegalStateError, InvalidCommandError } from '../shared/errors.js';
import { checkNonNegativeInteger, checkText, normalizeTimestamp, whToString } from '../shared/values.js';
import { sampledValueSchema, sampledValuesPerReadingMax, signedDataSchema } from '../transaction/events.js';
import type { RecordStationMeterReadings, ReportStationEvents, StationEventInput, StationReportCommand } from './report-commands.js';
import {
  ChargingLimitReported,
  FirmwareStatusReported,
  LogUploadStatusReported,
  ReservationStatusReported,
  SecurityEventReported,
  StationEventsReported,
  stationEventsPerReportKeptMax,
  stationEventValueCharsMax,
  StationMeterReadingRecorded,
  type StationEventDataRecorded,
} from './report-events.js';
import type { StationEvent } from './events.js';
import type { StationState } from './state.js';

/** One MeterValues message's worth of readings per append; gateways split larger ones. */
export const stationMeterReadingsPerCommandMax = 100;

/**
 * Every report is recorded, even one equal to the last: a second "Installed" or a repeated
 * security event is a fact of its own. A retried CALL is caught before this, by its command id.
 */
export function decideReport(command: StationReportCommand, state: StationState): StationEvent[] {
  // A Rejected station must not send anything but BootNotification (OCPP 1.6 §4.2, 2.0.1 use case B03).
  if (state.boot?.bootStatus === 'Rejected') throw new IllegalStateError('station boot was rejected', command.type);
  const type = command.type;
  switch (command.type) {
    case 'ReportFirmwareStatus':
      return [
        eventFrom(FirmwareStatusReported, {
          status: checkText(command.status, 'status', 50, type),
          requestId: optionalInteger(command.requestId, 'requestId', type),
          reportedAt: normalizeTimestamp(command.reportedAt, 'reportedAt', type),
        }),
      ];
    case 'ReportLogUploadStatus':
      return [
        eventFrom(LogUploadStatusReported, {
          status: checkText(command.status, 'status', 50, type),
          requestId: optionalInteger(command.requestId, 'requestId', type),
          reportedAt: normalizeTimestamp(command.reportedAt, 'reportedAt', type),
        }),
      ];
    case 'ReportSecurityEvent':
      return [
        eventFrom(SecurityEventReported, {
          eventType: checkText(command.eventType, 'eventType', 50, type),
          eventAt: normalizeTimestamp(command.eventAt, 'eventAt', type),
          techInfo: command.techInfo == null || command.techInfo === '' ? null : checkText(command.techInfo, 'techInfo', 255, type),
        }),
      ];
    case 'ReportReservationStatus':
      return [
        eventFrom(ReservationStatusReported, {
          reservationId: integer(command.reservationId, 'reservationId', type),
          status: checkText(command.status, 'status', 50, type),
          reportedAt: normalizeTimestamp(command.reportedAt, 'reportedAt', type),
        }),
      ];
    case 'ReportChargingLimit':
      return [
        eventFrom(ChargingLimitReported, {
          evseId: command.evseId == null ? null : checkNonNegativeInteger(command.evseId, 'evseId', type),
          chargingLimitSource: checkText(command.chargingLimitSource, 'chargingLimitSource', 20, type),
          isGridCritical: command.isGridCritical ?? null,
          cleared: command.cleared === true,
          chargingScheduleCount: checkNonNegativeInteger(command.chargingScheduleCount ?? 0, 'chargingScheduleCount', type),
          reportedAt: normalizeTimestamp(command.reportedAt, 'reportedAt', type),
        }),
      ];
    case 'ReportStationEvents':
      return [stationEventsReported(command)];
    case 'RecordStationMeterReadings':
      return stationMeterReadings(command);
    default:
      return assertNever(command, 'station report command');
  }
}

function integer(value: number, field: string, commandType: string): number {
  if (!Number.isSafeInteger(value)) throw new InvalidCommandError(`${field} must be an integer: ${String(value)}`, commandType);
  return value;
}

function optionalInteger(value: number | null | undefined, field: string, commandType: string): number | null {
  return value == null ? null : integer(value, field, commandType);
}

function optionalText(value: string | null | undefined, field: string, lengthMax: number, commandType: string): string | null {
  return value == null || value === '' ? null : checkText(value, field, lengthMax, commandType);
}

function stationEventsReported(command: ReportStationEvents) {
  const type = command.type;
  if (command.events.length > stationEventsPerReportKeptMax) {
    throw new InvalidCommandError(`at most ${stationEventsPerReportKeptMax} events are kept per report; send the count and the first ones`, type);
  }
  const eventCount = checkNonNegativeInteger(command.eventCount, 'eventCount', type);
  if (eventCount < command.events.length) throw new InvalidCommandError('eventCount is below the events given', type);
  const event = (input: StationEventInput): StationEventDataRecorded => ({
    eventId: integer(input.eventId, 'eventId', type),
    eventAt: normalizeTimestamp(input.eventAt, 'eventAt', type),
    trigger: checkText(input.trigger, 'trigger', 20, type),
    eventNotificationType: checkText(input.eventNotificationType, 'eventNotificationType', 30, type),
    key: checkText(input.key, 'key', 500, type),
    // A long monitored value is cut, not refused: the event matters more than its full text.
    actualValue:
      input.actualValue.length <= stationEventValueCharsMax ? input.actualValue : `${input.actualValue.slice(0, stationEventValueCharsMax - 1)}…`,
    cause: optionalInteger(input.cause, 'cause', type),
    techCode: optionalText(input.techCode, 'techCode', 50, type),
    techInfo: optionalText(input.techInfo, 'techInfo', 500, type),
    cleared: input.cleared ?? null,
    stationTransactionId: optionalText(input.stationTransactionId, 'stationTransactionId', 36, type),
  });
  return eventFrom(StationEventsReported, {
    generatedAt: normalizeTimestamp(command.generatedAt, 'generatedAt', type),
    seqNo: checkNonNegativeInteger(command.seqNo, 'seqNo', type),
    tbc: command.tbc === true,
    eventCount,
    events: command.events.map(event),
  });
}

const sampledValuesSchema = z.array(sampledValueSchema).max(sampledValuesPerReadingMax);

function stationMeterReadings(command: RecordStationMeterReadings): StationEvent[] {
  const type = command.type;
  const evseId = checkNonNegativeInteger(command.evseId, 'evseId', type);
  if (command.readings.length === 0 || command.readings.length > stationMeterReadingsPerCommandMax) {
    throw new InvalidCommandError(`readings must number 1 to ${stationMeterReadingsPerCommandMax}`, type);
  }
  return command.readings.map((input) => {
    const sampledValues = sampledValuesSchema.safeParse(input.sampledValues ?? []);
    if (!sampledValues.success) throw new InvalidCommandError(`invalid sampled values: ${sampledValues.error.message}`, type);
    const signedData = input.signedData == null ? null : signedDataSchema.safeParse(input.signedData);
    if (signedData && !signedData.success) throw new InvalidCommandError('signed data is not JSON', type);
    const registerWh = input.registerWh == null ? null : whToString(input.registerWh, 'registerWh', type);
    if (registerWh === null && sampledValues.data.length === 0) throw new InvalidCommandError('a reading needs a register or sampled values', type);
    return eventFrom(StationMeterReadingRecorded, {
      evseId,
      sampledAt: normalizeTimestamp(input.sampledAt, 'sampledAt', type),
      registerWh,
      sampledValues: sampledValues.data,
      signedData: signedData ? signedData.data : null,
    });
  });
}
