import type { ConnectorStatus } from '../../../domain/station/events.js';
import { OcppCallError } from '../../errors.js';
import type { Translation } from '../shared/context.js';
import { answerDataTransfer } from '../shared/data-transfer.js';
import { recordReport } from '../shared/reports.js';
import { recordBoot, recordStatus } from '../shared/station.js';
import { authorize16, chargingStateFromStatus16, meterValues16, startTransaction16, stopTransaction16 } from './transactions.js';

/* eslint-disable @typescript-eslint/no-explicit-any -- payloads are schema-validated by the gateway */
type Payload = any;

/**
 * OCPP 1.6J (and the 1.6 security whitepaper) station→CSMS messages as domain commands, each
 * answered per spec. Payloads were validated against the official schema before they got here.
 */
export async function translate16(translation: Translation): Promise<unknown> {
  const payload: Payload = translation.payload;
  switch (translation.action) {
    case 'BootNotification': {
      const answer = await recordBoot(translation, {
        vendor: payload.chargePointVendor,
        model: payload.chargePointModel,
        serialNumber: payload.chargePointSerialNumber ?? payload.chargeBoxSerialNumber,
        firmwareVersion: payload.firmwareVersion,
      });
      return answer;
    }
    case 'Heartbeat':
      // No event per heartbeat: liveness is the connection (StationConnected/Disconnected) plus
      // `onStationSeen`, which every CALL triggers (presence in Redis, docs/design.md "Scale-out").
      return { currentTime: translation.nowIso() };
    case 'StatusNotification':
      // Connector 0 is the station itself; 1.6 connector n is EVSE n, connector 1 (domain/station/events.ts).
      await recordStatus(translation, {
        evseId: payload.connectorId,
        connectorId: payload.connectorId === 0 ? 0 : 1,
        status: payload.status as ConnectorStatus,
        errorCode: payload.errorCode,
        info: payload.info,
        vendorId: payload.vendorId,
        vendorErrorCode: payload.vendorErrorCode,
        statusAt: payload.timestamp,
      });
      await chargingStateFromStatus16(translation, payload);
      return {};
    case 'Authorize':
      return authorize16(translation, payload);
    case 'StartTransaction':
      return startTransaction16(translation, payload);
    case 'MeterValues':
      return meterValues16(translation, payload);
    case 'StopTransaction':
      return stopTransaction16(translation, payload);
    case 'DataTransfer':
      return answerDataTransfer(translation, { vendorId: payload.vendorId, messageId: payload.messageId ?? null, data: payload.data ?? null });
    // Firmware, diagnostics/log and security notifications carry no time but the security event's:
    // the report's time is ours. The confirmations are empty (1.6 §6.x; security whitepaper).
    case 'FirmwareStatusNotification':
    case 'SignedFirmwareStatusNotification':
      await recordReport(translation, { type: 'ReportFirmwareStatus', status: payload.status, requestId: payload.requestId ?? null, reportedAt: translation.nowIso() });
      return {};
    case 'DiagnosticsStatusNotification':
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
    case 'SignCertificate': {
      const sign = translation.deps.signCertificate;
      const accepted = sign
        ? await sign({ tenantId: translation.tenantId, stationId: translation.stationId, csr: payload.csr, certificateType: null })
        : false;
      return { status: accepted ? 'Accepted' : 'Rejected' };
    }
    default:
      throw new OcppCallError('NotImplemented', `${translation.action} is not handled by this CSMS`);
  }
}
