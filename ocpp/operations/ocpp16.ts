import { InvalidCommandError } from '../../domain/shared/errors.js';
import type { MappingContext, OcppRequest } from './mapping.js';
import { getLogRequest } from './get-log.js';
import { unsupported } from './mapping.js';
import type { CertificateType, ChargingProfile, StationOperation, TriggeredMessage } from './operations.js';

/**
 * Version-neutral operations → OCPP 1.6 (all six feature profiles) and its security extension
 * (ExtendedTriggerMessage, GetLog, SignedUpdateFirmware, CertificateSigned, InstallCertificate,
 * GetInstalledCertificateIds, DeleteCertificate). The gateway validates the result against the
 * official schema; this file only chooses the action and renames fields.
 */

const purposes16 = { stationMax: 'ChargePointMaxProfile', txDefault: 'TxDefaultProfile', tx: 'TxProfile' } as const;

const triggers16: Partial<Record<TriggeredMessage, { action: 'TriggerMessage' | 'ExtendedTriggerMessage'; message: string }>> = {
  BootNotification: { action: 'TriggerMessage', message: 'BootNotification' },
  Heartbeat: { action: 'TriggerMessage', message: 'Heartbeat' },
  MeterValues: { action: 'TriggerMessage', message: 'MeterValues' },
  StatusNotification: { action: 'TriggerMessage', message: 'StatusNotification' },
  FirmwareStatusNotification: { action: 'TriggerMessage', message: 'FirmwareStatusNotification' },
  LogStatusNotification: { action: 'TriggerMessage', message: 'DiagnosticsStatusNotification' },
  SignStationCertificate: { action: 'ExtendedTriggerMessage', message: 'SignChargePointCertificate' },
};

/** 1.6 security CertificateUseEnumType knows only the two root types. */
const certificateUses16: Partial<Record<CertificateType, string>> = {
  csmsRoot: 'CentralSystemRootCertificate',
  manufacturerRoot: 'ManufacturerRootCertificate',
};

export function request16(operation: StationOperation, context: MappingContext): OcppRequest {
  switch (operation.name) {
    case 'startCharging':
      if (operation.chargingProfile && operation.chargingProfile.purpose !== 'tx') {
        throw new InvalidCommandError('a remote start takes a tx charging profile only (1.6 §5.11)', operation.name);
      }
      return {
        action: 'RemoteStartTransaction',
        payload: {
          connectorId: operation.evseId === undefined ? undefined : connector16(operation.evseId, undefined, operation.name),
          idTag: operation.idToken.idToken,
          chargingProfile: operation.chargingProfile && profile16(operation.chargingProfile, context),
        },
      };
    case 'stopCharging':
      return { action: 'RemoteStopTransaction', payload: { transactionId: transactionId16(operation.transactionId, context, operation.name) } };
    case 'reset':
      if (operation.evseId !== undefined) unsupported(operation, '1.6', 'a reset of one EVSE');
      return { action: 'Reset', payload: { type: operation.type === 'immediate' ? 'Hard' : 'Soft' } };
    case 'changeAvailability':
      return {
        action: 'ChangeAvailability',
        payload: { connectorId: connector16(operation.evseId, operation.connectorId, operation.name), type: operation.availability },
      };
    case 'unlockConnector':
      return { action: 'UnlockConnector', payload: { connectorId: connector16(operation.evseId, operation.connectorId, operation.name) } };
    case 'clearCache':
      return { action: 'ClearCache', payload: {} };
    case 'triggerMessage': {
      const trigger = triggers16[operation.message] ?? unsupported(operation, '1.6', `no ${operation.message} trigger`);
      const connectorId = operation.evseId === undefined ? undefined : connector16(operation.evseId, operation.connectorId, operation.name);
      return { action: trigger.action, payload: { requestedMessage: trigger.message, connectorId } };
    }
    case 'readSettings':
      for (const key of operation.keys ?? []) {
        if (key.includes('/')) throw new InvalidCommandError(`${key} is a 2.0.1 component/variable, not a 1.6 key`, operation.name);
      }
      return { action: 'GetConfiguration', payload: { key: operation.keys?.length ? [...operation.keys] : undefined } };
    case 'writeSettings': {
      if (operation.settings.length !== 1) throw new InvalidCommandError('1.6 ChangeConfiguration changes exactly one key per call', operation.name);
      const [setting] = operation.settings as [{ key: string; value: string }];
      return { action: 'ChangeConfiguration', payload: { key: setting.key, value: setting.value } };
    }
    case 'updateFirmware':
      if (operation.signingCertificate !== undefined || operation.signature !== undefined) {
        return {
          action: 'SignedUpdateFirmware',
          payload: {
            requestId: context.requestId,
            retries: operation.retries,
            retryInterval: operation.retryIntervalS,
            firmware: {
              location: operation.location,
              retrieveDateTime: operation.retrieveAt,
              installDateTime: operation.installAt,
              signingCertificate: operation.signingCertificate,
              signature: operation.signature,
            },
          },
        };
      }
      if (operation.installAt !== undefined) unsupported(operation, '1.6', 'an install time needs signed firmware (SignedUpdateFirmware)');
      return {
        action: 'UpdateFirmware',
        payload: { location: operation.location, retrieveDate: operation.retrieveAt, retries: operation.retries, retryInterval: operation.retryIntervalS },
      };
    case 'getLog':
      if (operation.logType === 'diagnostics') {
        return {
          action: 'GetDiagnostics',
          payload: {
            location: operation.remoteLocation,
            retries: operation.retries,
            retryInterval: operation.retryIntervalS,
            startTime: operation.oldestAt,
            stopTime: operation.latestAt,
          },
        };
      }
      return getLogRequest(operation, context.requestId, 'SecurityLog');
    case 'sendLocalList':
      return {
        action: 'SendLocalList',
        payload: {
          listVersion: operation.listVersion,
          updateType: operation.updateType === 'full' ? 'Full' : 'Differential',
          localAuthorizationList: operation.entries?.map((entry) => ({
            idTag: entry.idToken.idToken,
            idTagInfo:
              entry.status === undefined
                ? undefined
                : { status: entry.status, expiryDate: entry.expiresAt, parentIdTag: entry.parentIdToken?.idToken },
          })),
        },
      };
    case 'getLocalListVersion':
      return { action: 'GetLocalListVersion', payload: {} };
    case 'reserveNow':
      return {
        action: 'ReserveNow',
        payload: {
          // 1.6 §6.42: connector 0 reserves any connector of the station.
          connectorId: operation.evseId === undefined || operation.evseId === 0 ? 0 : connector16(operation.evseId, undefined, operation.name),
          expiryDate: operation.expiresAt,
          idTag: operation.idToken.idToken,
          parentIdTag: operation.parentIdToken?.idToken,
          reservationId: operation.reservationId,
        },
      };
    case 'cancelReservation':
      return { action: 'CancelReservation', payload: { reservationId: operation.reservationId } };
    case 'setChargingProfile':
      return {
        action: 'SetChargingProfile',
        payload: { connectorId: connector16(operation.evseId, undefined, operation.name), csChargingProfiles: profile16(operation.chargingProfile, context) },
      };
    case 'clearChargingProfile':
      return {
        action: 'ClearChargingProfile',
        payload: {
          id: operation.profileId,
          connectorId: operation.evseId === undefined ? undefined : connector16(operation.evseId, undefined, operation.name),
          chargingProfilePurpose: operation.purpose && purposes16[operation.purpose],
          stackLevel: operation.stackLevel,
        },
      };
    case 'getCompositeSchedule':
      return {
        action: 'GetCompositeSchedule',
        payload: { connectorId: connector16(operation.evseId, undefined, operation.name), duration: operation.durationS, chargingRateUnit: operation.rateUnit },
      };
    case 'dataTransfer':
      return {
        action: 'DataTransfer',
        payload: {
          vendorId: operation.vendorId,
          messageId: operation.messageId,
          data: operation.data === undefined || typeof operation.data === 'string' ? operation.data : JSON.stringify(operation.data),
        },
      };
    case 'certificateSigned':
      return { action: 'CertificateSigned', payload: { certificateChain: operation.certificateChain } };
    case 'installCertificate':
      return {
        action: 'InstallCertificate',
        payload: {
          certificateType: certificateUses16[operation.certificateType] ?? unsupported(operation, '1.6', `no ${operation.certificateType} certificates`),
          certificate: operation.certificate,
        },
      };
    case 'getInstalledCertificateIds': {
      // 1.6 asks for exactly one type per call.
      if (operation.certificateTypes?.length !== 1) throw new InvalidCommandError('1.6 asks for exactly one certificate type per call', operation.name);
      const [type] = operation.certificateTypes as [CertificateType];
      return {
        action: 'GetInstalledCertificateIds',
        payload: { certificateType: certificateUses16[type] ?? unsupported(operation, '1.6', `no ${type} certificates`) },
      };
    }
    case 'deleteCertificate':
      return { action: 'DeleteCertificate', payload: { certificateHashData: { ...operation.certificateHashData } } };
    case 'getChargingProfiles':
    case 'getTransactionStatus':
      return unsupported(operation, '1.6');
    case 'raw':
      return { action: operation.action, payload: { ...operation.payload } };
  }
}

/**
 * 1.6 has connectors, not EVSEs: the domain reads 1.6 connector n as EVSE n, connector 1, so only
 * connector 1 (or none) of an EVSE can be addressed; EVSE 0 is connector 0, the whole station.
 */
function connector16(evseId: number, connectorId: number | undefined, operationName: string): number {
  if (evseId === 0 && connectorId !== undefined && connectorId !== 0) {
    throw new InvalidCommandError('the station itself (EVSE 0) has no connectors', operationName);
  }
  if (evseId !== 0 && connectorId !== undefined && connectorId !== 1) {
    throw new InvalidCommandError(`1.6 addresses EVSE ${evseId} as connector ${evseId}; it has no connector ${connectorId}`, operationName);
  }
  return evseId;
}

/** 1.6 transaction ids are the integers the CSMS gave in StartTransaction.conf. */
function transactionId16(transactionId: string, context: MappingContext, operationName: string): number {
  const stationId = context.stationTransactionId(transactionId);
  if (!/^-?\d{1,10}$/.test(stationId) || !Number.isSafeInteger(Number(stationId))) {
    throw new InvalidCommandError(`transaction ${transactionId} has no 1.6 integer id (station knows it as ${stationId})`, operationName);
  }
  return Number(stationId);
}

function profile16(profile: ChargingProfile, context: MappingContext): Record<string, unknown> {
  const schedule = profile.schedule;
  return {
    chargingProfileId: profile.id,
    transactionId: profile.transactionId === undefined ? undefined : transactionId16(profile.transactionId, context, 'chargingProfile'),
    stackLevel: profile.stackLevel,
    chargingProfilePurpose: purposes16[profile.purpose],
    chargingProfileKind: profile.kind,
    recurrencyKind: profile.recurrency,
    validFrom: profile.validFrom,
    validTo: profile.validTo,
    chargingSchedule: {
      duration: schedule.durationS,
      startSchedule: schedule.startSchedule,
      chargingRateUnit: schedule.rateUnit,
      minChargingRate: schedule.minChargingRate,
      chargingSchedulePeriod: schedule.periods.map((period) => ({ startPeriod: period.startPeriodS, limit: period.limit, numberPhases: period.numberPhases })),
    },
  };
}
