import { assertNever } from '../shared/assert.js';
import type { OcppVersion } from '../shared/values.js';
import type { Availability, BootStatus, SecurityProfile, StationEvent, StationEventData } from './events.js';
import { evolveRefusalWindow, type RefusalWindow } from './refusals.js';

export type StatusReport = Omit<StationEventData<'StationStatusChanged'>, 'statusAt'> & { readonly statusAt: string };

export interface ConnectorState {
  readonly evseId: number;
  readonly connectorId: number;
  readonly connectorType: string | null;
  readonly status: StatusReport | null;
}

export interface AvailabilityState {
  readonly availability: Availability;
  readonly scheduled: boolean;
}

export interface StationState {
  readonly registration: { readonly securityProfile: SecurityProfile; readonly passwordHash: string | null } | null;
  readonly boot: { readonly bootStatus: BootStatus; readonly ocppVersion: OcppVersion; readonly bootedAt: string } | null;
  readonly connection: { readonly connectionId: string; readonly ocppVersion: OcppVersion } | null;
  readonly stationStatus: StatusReport | null;
  /** Keyed by `connectorKey(evseId, connectorId)`. */
  readonly connectors: Readonly<Record<string, ConnectorState>>;
  /** Keyed by `connectorKey` of the scope (0/0 station, n/0 EVSE). Absent: Operative. */
  readonly availability: Readonly<Record<string, AvailabilityState>>;
  readonly configuration: Readonly<Record<string, { readonly value: string | null; readonly readonly: boolean | null }>>;
  /** Refused messages recorded lately, for their rate limit (refusals.ts). */
  readonly refusalWindow: RefusalWindow | null;
}

export const initialStationState = (): StationState => ({
  registration: null,
  boot: null,
  connection: null,
  stationStatus: null,
  connectors: {},
  availability: {},
  configuration: {},
  refusalWindow: null,
});

export const connectorKey = (evseId: number, connectorId: number): string => `${evseId}/${connectorId}`;

/** Online and accepted: what gateways need before letting a station do more than boot. */
export function isOnlineAccepted(state: StationState): boolean {
  return state.connection !== null && state.boot?.bootStatus === 'Accepted';
}

export function evolveStation(state: StationState, event: StationEvent): StationState {
  switch (event.type) {
    case 'StationRegistered':
    case 'StationSecurityChanged':
      return { ...state, registration: { securityProfile: event.data.securityProfile, passwordHash: event.data.passwordHash } };
    case 'StationBooted':
      return {
        ...state,
        boot: { bootStatus: event.data.bootStatus, ocppVersion: event.data.ocppVersion, bootedAt: event.data.bootedAt },
      };
    case 'StationConnected':
      return { ...state, connection: { connectionId: event.data.connectionId, ocppVersion: event.data.ocppVersion } };
    case 'StationDisconnected':
      return { ...state, connection: null };
    case 'ConnectorDeclared': {
      const key = connectorKey(event.data.evseId, event.data.connectorId);
      const existing = state.connectors[key];
      const connector: ConnectorState = {
        evseId: event.data.evseId,
        connectorId: event.data.connectorId,
        connectorType: event.data.connectorType ?? existing?.connectorType ?? null,
        status: existing?.status ?? null,
      };
      return { ...state, connectors: { ...state.connectors, [key]: connector } };
    }
    case 'ConnectorStatusChanged': {
      const { evseId, connectorId, ...report } = event.data;
      const key = connectorKey(evseId, connectorId);
      const existing = state.connectors[key] ?? { evseId, connectorId, connectorType: null, status: null };
      return { ...state, connectors: { ...state.connectors, [key]: { ...existing, status: report } } };
    }
    case 'StationStatusChanged':
      return { ...state, stationStatus: event.data };
    case 'AvailabilityChanged': {
      const key = connectorKey(event.data.evseId, event.data.connectorId);
      const value = { availability: event.data.availability, scheduled: event.data.scheduled };
      return { ...state, availability: { ...state.availability, [key]: value } };
    }
    case 'StationConfigurationChanged':
      return {
        ...state,
        configuration: { ...state.configuration, [event.data.key]: { value: event.data.value, readonly: event.data.readonly } },
      };
    case 'StationMessageRefused':
      return { ...state, refusalWindow: evolveRefusalWindow(state.refusalWindow, event) };
    case 'FirmwareStatusReported':
    case 'LogUploadStatusReported':
    case 'SecurityEventReported':
    case 'ReservationStatusReported':
    case 'ChargingLimitReported':
    case 'StationEventsReported':
    case 'StationMeterReadingRecorded':
      // Reports decide nothing later commands depend on: read models keep them.
      return state;
    default:
      return assertNever(event, 'station event');
  }
}
