import type { ConnectorStatus } from '../../../domain/station/events.js';
import { OcppCallError } from '../../errors.js';
import { ocpp201IdTokenInfo } from '../shared/authorization.js';
import type { Translation } from '../shared/context.js';
import { answerDataTransfer } from '../shared/data-transfer.js';
import { readingsFrom201 } from '../shared/meter-values.js';
import { recordReport, recordStationMeterValues } from '../shared/reports.js';
import { recordBoot, recordStatus } from '../shared/station.js';
import { authorizeStationToken } from '../shared/transactions.js';
import { notifyEvent201, notifyReport201 } from './report.js';
import { transactionEvent201, usableIdToken } from './transaction-event.js';

/* eslint-disable @typescript-eslint/no-explicit-any -- payloads are schema-validated by the gateway */
type Payload = any;

/** Messages acknowledged with the empty response their schema defines, recording nothing yet. */
const acknowledgedOnly = new Set([
  'NotifyMonitoringReport',
  'ReportChargingProfiles',
  'NotifyCustomerInformation',
  'NotifyDisplayMessages',
  'PublishFirmwareStatusNotification',
]);

/** OCPP 2.0.1 station→CSMS messages as domain commands, each answered per spec (Part 2). */
export async function translate201(translation: Translation): Promise<unknown> {
  const payload: Payload = translation.payload;
  const action = translation.action;
  if (acknowledgedOnly.has(action)) {
    translation.unrecorded(`${action}: no domain event yet`);
    return {};
  }
  switch (action) {
    case 'BootNotification':
      return recordBoot(translation, {
        vendor: payload.chargingStation.vendorName,
        model: payload.chargingStation.model,
        serialNumber: payload.chargingStation.serialNumber,
        firmwareVersion: payload.chargingStation.firmwareVersion,
        bootReason: payload.reason,
      });
    case 'Heartbeat':
      // No event per heartbeat: see v16/index.ts (last seen is `onStationSeen`).
      return { currentTime: translation.nowIso() };
    case 'StatusNotification':
      await recordStatus(translation, {
        evseId: payload.evseId,
        connectorId: payload.connectorId,
        status: payload.connectorStatus as ConnectorStatus,
        statusAt: payload.timestamp,
      });
      return {};
    case 'Authorize': {
      const token = usableIdToken(payload.idToken);
      // NoAuthorization names nobody to check; such a station does not need our permission.
      if (!token) return { idTokenInfo: { status: 'Accepted' } };
      return { idTokenInfo: ocpp201IdTokenInfo(await authorizeStationToken(translation, token)) };
    }
    case 'TransactionEvent':
      return transactionEvent201(translation, payload);
    case 'MeterValues':
      // Outside any transaction (J01): evseId 0 is the station's main meter.
      await recordStationMeterValues(translation, payload.evseId, readingsFrom201(payload.meterValue));
      return {};
    case 'FirmwareStatusNotification':
      await recordReport(translation, { type: 'ReportFirmwareStatus', status: payload.status, requestId: payload.requestId ?? null, reportedAt: translation.nowIso() });
      return {};
    case 'LogStatusNotification':
      await recordReport(translation, { type: 'ReportLogUploadStatus', status: payload.status, requestId: payload.requestId ?? null, reportedAt: translation.nowIso() });
      return {};
    case 'SecurityEventNotification':
      await recordReport(
        translation,
        { type: 'ReportSecurityEvent', eventType: payload.type, eventAt: payload.timestamp, techInfo: payload.techInfo ?? null },
        payload.timestamp,
      );
      return {};
    case 'ReservationStatusUpdate':
      await recordReport(translation, {
        type: 'ReportReservationStatus',
        reservationId: payload.reservationId,
        status: payload.reservationUpdateStatus,
        reportedAt: translation.nowIso(),
      });
      return {};
    case 'NotifyChargingLimit':
      await recordReport(translation, {
        type: 'ReportChargingLimit',
        evseId: payload.evseId ?? null,
        chargingLimitSource: payload.chargingLimit.chargingLimitSource,
        isGridCritical: payload.chargingLimit.isGridCritical ?? null,
        cleared: false,
        chargingScheduleCount: payload.chargingSchedule?.length ?? 0,
        reportedAt: translation.nowIso(),
      });
      return {};
    case 'ClearedChargingLimit':
      await recordReport(translation, {
        type: 'ReportChargingLimit',
        evseId: payload.evseId ?? null,
        chargingLimitSource: payload.chargingLimitSource,
        cleared: true,
        reportedAt: translation.nowIso(),
      });
      return {};
    case 'NotifyEvent':
      return notifyEvent201(translation, payload);
    case 'NotifyReport':
      return notifyReport201(translation, payload);
    case 'DataTransfer':
      return answerDataTransfer(translation, { vendorId: payload.vendorId, messageId: payload.messageId ?? null, data: payload.data ?? null });
    case 'SignCertificate': {
      const sign = translation.deps.signCertificate;
      const accepted = sign
        ? await sign({ tenantId: translation.tenantId, stationId: translation.stationId, csr: payload.csr, certificateType: payload.certificateType ?? null })
        : false;
      return { status: accepted ? 'Accepted' : 'Rejected' };
    }
    case 'NotifyEVChargingNeeds':
      // K17: Rejected = the CSMS will not provide a charging schedule (no smart charging yet).
      translation.unrecorded('NotifyEVChargingNeeds: no smart charging yet');
      return { status: 'Rejected' };
    case 'NotifyEVChargingSchedule':
      translation.unrecorded('NotifyEVChargingSchedule: no smart charging yet');
      return { status: 'Accepted' };
    case 'Get15118EVCertificate':
      // No ISO 15118 certificate pool behind this CSMS: Failed is the honest answer (M01/M02).
      return { status: 'Failed', exiResponse: '' };
    case 'GetCertificateStatus':
      return { status: 'Failed' };
    default:
      throw new OcppCallError('NotImplemented', `${action} is not handled by this CSMS`);
  }
}
