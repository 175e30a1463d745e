import type { IdToken } from '../../domain/shared/values.js';
import type { AuthorizingParty } from '../../domain/transaction/events.js';

/**
 * The CSMS→station operations, named once for both OCPP versions (docs/design.md: "billing and the
 * APIs never see OCPP versions"). ocpp16.ts and ocpp201.ts map each to its version's action and
 * payload; `raw` passes anything version-specific through (`csms station call ID ACTION --payload`).
 *
 * Conventions: EVSE ids as the domain has them (1.6 connector n is EVSE n, connector 1; EVSE 0 is
 * the station); transaction ids are the CSMS's (the transaction aggregate's id), mapped to the id
 * the station knows; durations in seconds and times ISO-8601, as OCPP has them.
 */

export interface ChargingSchedulePeriod {
  readonly startPeriodS: number;
  /** In the schedule's rate unit (W or A). */
  readonly limit: number;
  readonly numberPhases?: number;
}

export interface ChargingSchedule {
  /** 2.0.1 only (required there): defaults to 1. */
  readonly id?: number;
  readonly startSchedule?: string;
  readonly durationS?: number;
  readonly rateUnit: 'W' | 'A';
  readonly minChargingRate?: number;
  readonly periods: readonly ChargingSchedulePeriod[];
}

export interface ChargingProfile {
  readonly id: number;
  readonly stackLevel: number;
  /** stationMax: 1.6 ChargePointMaxProfile, 2.0.1 ChargingStationMaxProfile. */
  readonly purpose: 'stationMax' | 'txDefault' | 'tx';
  readonly kind: 'Absolute' | 'Recurring' | 'Relative';
  readonly recurrency?: 'Daily' | 'Weekly';
  readonly validFrom?: string;
  readonly validTo?: string;
  /** CSMS transaction id, for a `tx` profile on a running transaction. */
  readonly transactionId?: string;
  readonly schedule: ChargingSchedule;
}

export interface LocalListEntry {
  readonly idToken: IdToken;
  /** Absent in a differential update: remove the entry. AuthorizationStatus as the version spells it. */
  readonly status?: string;
  readonly expiresAt?: string;
  readonly parentIdToken?: IdToken;
}

/** 2.0.1 CertificateHashDataType, the same in the 1.6 security extension. */
export interface CertificateHashData {
  readonly hashAlgorithm: 'SHA256' | 'SHA384' | 'SHA512';
  readonly issuerNameHash: string;
  readonly issuerKeyHash: string;
  readonly serialNumber: string;
}

export type CertificateType = 'csmsRoot' | 'manufacturerRoot' | 'v2gRoot' | 'moRoot' | 'v2gCertificateChain';

/** Messages a station can be asked to send again; each version's own name in the comment. */
export type TriggeredMessage =
  | 'BootNotification'
  | 'Heartbeat'
  | 'MeterValues'
  | 'StatusNotification'
  | 'FirmwareStatusNotification'
  /** 1.6 DiagnosticsStatusNotification (follows getLog diagnostics, i.e. GetDiagnostics). */
  | 'LogStatusNotification'
  /** 1.6 security ExtendedTriggerMessage SignChargePointCertificate; 2.0.1 SignChargingStationCertificate. */
  | 'SignStationCertificate'
  | 'TransactionEvent';

export type StationOperation =
  | {
      readonly name: 'startCharging';
      readonly evseId?: number;
      readonly idToken: IdToken;
      readonly chargingProfile?: ChargingProfile;
      /**
       * The eMSP's authorization_reference (OCPI START_SESSION), CiString(36). Not sent to the
       * station (OCPP has no field for it): recorded with the remote start, so the transaction it
       * starts, its OCPI Session and its CDR carry it (remote-starts.ts).
       */
      readonly authorizationReference?: string;
      /**
       * The eMSP whose START_SESSION this is (its Token's country_code/party_id). Not sent to the
       * station either: recorded with the remote start, so the session is billed to it, its Session
       * and CDR naming the Token's contract_id and type.
       */
      readonly authorizingParty?: AuthorizingParty;
    }
  | { readonly name: 'stopCharging'; readonly transactionId: string }
  /** immediate: 1.6 Hard, 2.0.1 Immediate. onIdle: 1.6 Soft (1.6 has no on-idle reset; Soft is its graceful one), 2.0.1 OnIdle. */
  | { readonly name: 'reset'; readonly type: 'immediate' | 'onIdle'; readonly evseId?: number }
  | { readonly name: 'changeAvailability'; readonly evseId: number; readonly connectorId?: number; readonly availability: 'Operative' | 'Inoperative' }
  | { readonly name: 'unlockConnector'; readonly evseId: number; readonly connectorId?: number }
  | { readonly name: 'clearCache' }
  | { readonly name: 'triggerMessage'; readonly message: TriggeredMessage; readonly evseId?: number; readonly connectorId?: number }
  /**
   * Keys as the station aggregate records them: 1.6 configuration keys, 2.0.1 component/variable
   * rendered by `configurationKey` (e.g. `OCPPCommCtrlr/HeartbeatInterval`). No keys: 1.6 asks for
   * all (GetConfiguration), 2.0.1 for a FullInventory report (GetBaseReport, arriving as NotifyReport).
   */
  | { readonly name: 'readSettings'; readonly keys?: readonly string[] }
  /** 1.6 ChangeConfiguration takes one key per call, so on 1.6 exactly one setting. */
  | { readonly name: 'writeSettings'; readonly settings: readonly { readonly key: string; readonly value: string }[] }
  | {
      readonly name: 'updateFirmware';
      readonly location: string;
      readonly retrieveAt: string;
      readonly installAt?: string;
      readonly retries?: number;
      readonly retryIntervalS?: number;
      /** Signed firmware: 1.6 security SignedUpdateFirmware; 2.0.1 UpdateFirmware with signature. */
      readonly signingCertificate?: string;
      readonly signature?: string;
    }
  /** diagnostics on 1.6 is core GetDiagnostics; security on 1.6 is the security extension's GetLog. */
  | {
      readonly name: 'getLog';
      readonly logType: 'diagnostics' | 'security';
      readonly remoteLocation: string;
      readonly oldestAt?: string;
      readonly latestAt?: string;
      readonly retries?: number;
      readonly retryIntervalS?: number;
    }
  | { readonly name: 'sendLocalList'; readonly listVersion: number; readonly updateType: 'full' | 'differential'; readonly entries?: readonly LocalListEntry[] }
  | { readonly name: 'getLocalListVersion' }
  | {
      readonly name: 'reserveNow';
      readonly reservationId: number;
      /** Absent or 0: any EVSE. */
      readonly evseId?: number;
      readonly expiresAt: string;
      readonly idToken: IdToken;
      readonly parentIdToken?: IdToken;
      /**
       * OCPI RESERVE_NOW's authorization_reference: not sent to the station (OCPP has no field for
       * it), recorded with the reservation (reservations.ts) for the Session and CDR of the
       * transaction that uses it.
       */
      readonly authorizationReference?: string;
    }
  | { readonly name: 'cancelReservation'; readonly reservationId: number }
  | { readonly name: 'setChargingProfile'; readonly evseId: number; readonly chargingProfile: ChargingProfile }
  | { readonly name: 'clearChargingProfile'; readonly profileId?: number; readonly evseId?: number; readonly purpose?: ChargingProfile['purpose']; readonly stackLevel?: number }
  | { readonly name: 'getCompositeSchedule'; readonly evseId: number; readonly durationS: number; readonly rateUnit?: 'W' | 'A' }
  /** 1.6 data is a string: other JSON is sent as its JSON text there. */
  | { readonly name: 'dataTransfer'; readonly vendorId: string; readonly messageId?: string; readonly data?: unknown }
  | { readonly name: 'certificateSigned'; readonly certificateChain: string; readonly certificateType?: 'station' | 'v2g' }
  | { readonly name: 'installCertificate'; readonly certificateType: CertificateType; readonly certificate: string }
  | { readonly name: 'getInstalledCertificateIds'; readonly certificateTypes?: readonly CertificateType[] }
  | { readonly name: 'deleteCertificate'; readonly certificateHashData: CertificateHashData }
  /** 2.0.1 only. */
  | { readonly name: 'getChargingProfiles'; readonly evseId?: number; readonly purpose?: ChargingProfile['purpose']; readonly stackLevel?: number; readonly profileIds?: readonly number[] }
  /** 2.0.1 only. Without a transaction: whether the station has queued messages. */
  | { readonly name: 'getTransactionStatus'; readonly transactionId?: string }
  /** Any action of the connection's version, validated against its official schema by the gateway. */
  | { readonly name: 'raw'; readonly action: string; readonly payload: Readonly<Record<string, unknown>> };

export type StationOperationName = StationOperation['name'];

export const stationOperationNames = [
  'startCharging', 'stopCharging', 'reset', 'changeAvailability', 'unlockConnector', 'clearCache', 'triggerMessage',
  'readSettings', 'writeSettings', 'updateFirmware', 'getLog', 'sendLocalList', 'getLocalListVersion', 'reserveNow',
  'cancelReservation', 'setChargingProfile', 'clearChargingProfile', 'getCompositeSchedule', 'dataTransfer',
  'certificateSigned', 'installCertificate', 'getInstalledCertificateIds', 'deleteCertificate', 'getChargingProfiles',
  'getTransactionStatus', 'raw',
] as const satisfies readonly StationOperationName[];

/** CSMS transaction ids an operation refers to: the runner looks up the station's ids before mapping. */
export function transactionIdsIn(operation: StationOperation): string[] {
  switch (operation.name) {
    case 'stopCharging':
      return [operation.transactionId];
    case 'getTransactionStatus':
      return operation.transactionId === undefined ? [] : [operation.transactionId];
    case 'startCharging':
    case 'setChargingProfile':
      return operation.chargingProfile?.transactionId === undefined ? [] : [operation.chargingProfile.transactionId];
    default:
      return [];
  }
}
