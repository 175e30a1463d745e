import { InvalidCommandError } from '../../domain/shared/errors.js';
import type { MappingContext, OcppRequest } from './mapping.js';
import { getLogRequest } from './get-log.js';
import { unsupported } from './mapping.js';
import type { CertificateType, ChargingProfile, StationOperation, TriggeredMessage } from './operations.js';
import { parseConfigurationKey } from './settings.js';

/**
 * Version-neutral operations → OCPP 2.0.1 (Part 2 use cases). The gateway validates the result
 * against the official schema; this file only chooses the action and renames fields.
 */

const purposes201 = { stationMax: 'ChargingStationMaxProfile', txDefault: 'TxDefaultProfile', tx: 'TxProfile' } as const;

const triggers201: Record<TriggeredMessage, string> = {
  BootNotification: 'BootNotification',
  Heartbeat: 'Heartbeat',
  MeterValues: 'MeterValues',
  StatusNotification: 'StatusNotification',
  FirmwareStatusNotification: 'FirmwareStatusNotification',
  LogStatusNotification: 'LogStatusNotification',
  SignStationCertificate: 'SignChargingStationCertificate',
  TransactionEvent: 'TransactionEvent',
};

const certificateTypes201: Record<CertificateType, string> = {
  csmsRoot: 'CSMSRootCertificate',
  manufacturerRoot: 'ManufacturerRootCertificate',
  v2gRoot: 'V2GRootCertificate',
  moRoot: 'MORootCertificate',
  v2gCertificateChain: 'V2GCertificateChain',
};

export function request201(operation: StationOperation, context: MappingContext): OcppRequest {
  switch (operation.name) {
    case 'startCharging':
      return {
        action: 'RequestStartTransaction',
        payload: {
          evseId: operation.evseId,
          idToken: { idToken: operation.idToken.idToken, type: operation.idToken.type },
          // F01: the station echoes remoteStartId in its TransactionEvent, linking the transaction to this operation.
          remoteStartId: context.requestId,
          chargingProfile: operation.chargingProfile && profile201(operation.chargingProfile, context),
        },
      };
    case 'stopCharging':
      return { action: 'RequestStopTransaction', payload: { transactionId: context.stationTransactionId(operation.transactionId) } };
    case 'reset':
      return { action: 'Reset', payload: { type: operation.type === 'immediate' ? 'Immediate' : 'OnIdle', evseId: operation.evseId } };
    case 'changeAvailability':
      return { action: 'ChangeAvailability', payload: { operationalStatus: operation.availability, evse: evse201(operation.evseId, operation.connectorId) } };
    case 'unlockConnector':
      // 2.0.1 always names the connector; an EVSE's first connector when not given.
      return { action: 'UnlockConnector', payload: { evseId: operation.evseId, connectorId: operation.connectorId ?? 1 } };
    case 'clearCache':
      return { action: 'ClearCache', payload: {} };
    case 'triggerMessage':
      return {
        action: 'TriggerMessage',
        payload: { requestedMessage: triggers201[operation.message], evse: operation.evseId === undefined ? undefined : evse201(operation.evseId, operation.connectorId) },
      };
    case 'readSettings':
      if (!operation.keys?.length) {
        // B07: the whole device model comes back as NotifyReport messages, recorded by the station translator.
        return { action: 'GetBaseReport', payload: { requestId: context.requestId, reportBase: 'FullInventory' } };
      }
      return {
        action: 'GetVariables',
        payload: {
          getVariableData: operation.keys.map((key) => {
            const address = parseConfigurationKey(key, operation.name);
            return { component: address.component, variable: address.variable, attributeType: address.attributeType };
          }),
        },
      };
    case 'writeSettings':
      if (operation.settings.length === 0) throw new InvalidCommandError('no settings to write', operation.name);
      return {
        action: 'SetVariables',
        payload: {
          setVariableData: operation.settings.map((setting) => {
            const address = parseConfigurationKey(setting.key, operation.name);
            return { component: address.component, variable: address.variable, attributeType: address.attributeType, attributeValue: setting.value };
          }),
        },
      };
    case 'updateFirmware':
      return {
        action: 'UpdateFirmware',
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
    case 'getLog':
      return getLogRequest(operation, context.requestId, operation.logType === 'diagnostics' ? 'DiagnosticsLog' : 'SecurityLog');
    case 'sendLocalList':
      return {
        action: 'SendLocalList',
        payload: {
          versionNumber: operation.listVersion,
          updateType: operation.updateType === 'full' ? 'Full' : 'Differential',
          localAuthorizationList: operation.entries?.map((entry) => ({
            idToken: { idToken: entry.idToken.idToken, type: entry.idToken.type },
            idTokenInfo:
              entry.status === undefined
                ? undefined
                : {
                    status: entry.status,
                    cacheExpiryDateTime: entry.expiresAt,
                    groupIdToken: entry.parentIdToken && { idToken: entry.parentIdToken.idToken, type: entry.parentIdToken.type },
                  },
          })),
        },
      };
    case 'getLocalListVersion':
      return { action: 'GetLocalListVersion', payload: {} };
    case 'reserveNow':
      return {
        action: 'ReserveNow',
        payload: {
          id: operation.reservationId,
          expiryDateTime: operation.expiresAt,
          idToken: { idToken: operation.idToken.idToken, type: operation.idToken.type },
          // H01: without evseId the reservation is for any EVSE.
          evseId: operation.evseId === 0 ? undefined : operation.evseId,
          groupIdToken: operation.parentIdToken && { idToken: operation.parentIdToken.idToken, type: operation.parentIdToken.type },
        },
      };
    case 'cancelReservation':
      return { action: 'CancelReservation', payload: { reservationId: operation.reservationId } };
    case 'setChargingProfile':
      return { action: 'SetChargingProfile', payload: { evseId: operation.evseId, chargingProfile: profile201(operation.chargingProfile, context) } };
    case 'clearChargingProfile': {
      const criteria = { evseId: operation.evseId, chargingProfilePurpose: operation.purpose && purposes201[operation.purpose], stackLevel: operation.stackLevel };
      const anyCriterion = Object.values(criteria).some((value) => value !== undefined);
      return { action: 'ClearChargingProfile', payload: { chargingProfileId: operation.profileId, chargingProfileCriteria: anyCriterion ? criteria : undefined } };
    }
    case 'getCompositeSchedule':
      return { action: 'GetCompositeSchedule', payload: { evseId: operation.evseId, duration: operation.durationS, chargingRateUnit: operation.rateUnit } };
    case 'dataTransfer':
      return { action: 'DataTransfer', payload: { vendorId: operation.vendorId, messageId: operation.messageId, data: operation.data } };
    case 'certificateSigned':
      return {
        action: 'CertificateSigned',
        payload: {
          certificateChain: operation.certificateChain,
          certificateType: operation.certificateType && (operation.certificateType === 'station' ? 'ChargingStationCertificate' : 'V2GCertificate'),
        },
      };
    case 'installCertificate':
      if (operation.certificateType === 'v2gCertificateChain') unsupported(operation, '2.0.1', 'a certificate chain is not installed this way');
      return { action: 'InstallCertificate', payload: { certificateType: certificateTypes201[operation.certificateType], certificate: operation.certificate } };
    case 'getInstalledCertificateIds':
      return { action: 'GetInstalledCertificateIds', payload: { certificateType: operation.certificateTypes?.map((type) => certificateTypes201[type]) } };
    case 'deleteCertificate':
      return { action: 'DeleteCertificate', payload: { certificateHashData: { ...operation.certificateHashData } } };
    case 'getChargingProfiles':
      return {
        action: 'GetChargingProfiles',
        payload: {
          requestId: context.requestId,
          evseId: operation.evseId,
          chargingProfile: {
            chargingProfilePurpose: operation.purpose && purposes201[operation.purpose],
            stackLevel: operation.stackLevel,
            chargingProfileId: operation.profileIds && [...operation.profileIds],
          },
        },
      };
    case 'getTransactionStatus':
      return {
        action: 'GetTransactionStatus',
        payload: { transactionId: operation.transactionId === undefined ? undefined : context.stationTransactionId(operation.transactionId) },
      };
    case 'raw':
      return { action: operation.action, payload: { ...operation.payload } };
  }
}

/** EVSE 0 is the whole station, which 2.0.1 expresses by leaving `evse` out. */
function evse201(evseId: number, connectorId: number | undefined): { id: number; connectorId?: number } | undefined {
  if (evseId === 0) {
    if (connectorId !== undefined && connectorId !== 0) throw new InvalidCommandError('the station itself (EVSE 0) has no connectors');
    return undefined;
  }
  return { id: evseId, connectorId };
}

function profile201(profile: ChargingProfile, context: MappingContext): Record<string, unknown> {
  const schedule = profile.schedule;
  return {
    id: profile.id,
    stackLevel: profile.stackLevel,
    chargingProfilePurpose: purposes201[profile.purpose],
    chargingProfileKind: profile.kind,
    recurrencyKind: profile.recurrency,
    validFrom: profile.validFrom,
    validTo: profile.validTo,
    transactionId: profile.transactionId === undefined ? undefined : context.stationTransactionId(profile.transactionId),
    chargingSchedule: [
      {
        id: schedule.id ?? 1,
        startSchedule: schedule.startSchedule,
        duration: schedule.durationS,
        chargingRateUnit: schedule.rateUnit,
        minChargingRate: schedule.minChargingRate,
        chargingSchedulePeriod: schedule.periods.map((period) => ({ startPeriod: period.startPeriodS, limit: period.limit, numberPhases: period.numberPhases })),
      },
    ],
  };
}
