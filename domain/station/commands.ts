import type { OcppVersion } from '../shared/values.js';
import type { Availability, BootStatus, ConnectorStatus, SecurityProfile } from './events.js';
import type { RecordMessageRefusal } from './refusals.js';
import { stationReportCommandTypes, type StationReportCommand } from './report-commands.js';

export * from './report-commands.js';

/**
 * Commands to the station aggregate. Gateways translate OCPP 1.6 and 2.0.1 messages into these;
 * every time is the station's clock as an ISO-8601 string with a zone.
 */

/** How the CSMS answers a BootNotification; chosen by configuration, passed in so decide stays pure. */
export interface RegistrationPolicy {
  /** Answer to a station no operator registered (Accepted: open network; Rejected: closed). */
  readonly unknownStation: BootStatus;
  /** Answer to a registered station; Pending lets the CSMS configure it first. Default Accepted. */
  readonly registeredStation?: Extract<BootStatus, 'Accepted' | 'Pending'>;
}

export interface RegisterStation {
  readonly type: 'RegisterStation';
  readonly stationId: string;
  readonly securityProfile: SecurityProfile;
  readonly passwordHash?: string | null;
}

export interface ChangeStationSecurity {
  readonly type: 'ChangeStationSecurity';
  readonly securityProfile: SecurityProfile;
  readonly passwordHash?: string | null;
}

export interface RecordBoot {
  readonly type: 'RecordBoot';
  readonly vendor: string;
  readonly model: string;
  readonly serialNumber?: string | null;
  readonly firmwareVersion?: string | null;
  readonly ocppVersion: OcppVersion;
  readonly bootReason?: string | null;
  readonly bootedAt: string;
  readonly registrationPolicy: RegistrationPolicy;
}

export interface ConnectStation {
  readonly type: 'ConnectStation';
  readonly connectionId: string;
  readonly ocppVersion: OcppVersion;
  readonly connectedAt: string;
  /**
   * The CSMS node (NODE_ID) holding the WebSocket. Recorded so that node, restarting after a crash,
   * can settle the connections it held and no other node's (api/settle-node.ts).
   */
  readonly nodeId?: string | null;
}

/**
 * Why a connection ended when the station did not say so itself: the node that held the socket
 * was killed and, on restart, records that the connection is gone (api/settle-node.ts).
 * The gateway's own reasons are ocpp/types.ts DisconnectReason.
 */
export const nodeRestartedReason = 'nodeRestarted';

export interface DisconnectStation {
  readonly type: 'DisconnectStation';
  readonly connectionId: string;
  /** The gateway's DisconnectReason, or `nodeRestarted`. */
  readonly reason?: string | null;
  readonly disconnectedAt: string;
}

export interface DeclareConnector {
  readonly type: 'DeclareConnector';
  readonly evseId: number;
  readonly connectorId: number;
  readonly connectorType?: string | null;
}

/** A StatusNotification. evseId 0 (and connectorId 0) is the station itself. */
export interface RecordStatus {
  readonly type: 'RecordStatus';
  readonly evseId: number;
  readonly connectorId: number;
  readonly status: ConnectorStatus;
  readonly errorCode?: string | null;
  readonly info?: string | null;
  readonly vendorId?: string | null;
  readonly vendorErrorCode?: string | null;
  readonly statusAt: string;
}

/** An accepted ChangeAvailability. evseId 0 = station; connectorId 0 = whole EVSE. */
export interface ChangeAvailability {
  readonly type: 'ChangeAvailability';
  readonly evseId: number;
  readonly connectorId: number;
  readonly availability: Availability;
  /** The station's ChangeAvailability answer, when known; 'Rejected' answers are not sent as commands. */
  readonly stationResponse?: 'Accepted' | 'Scheduled';
}

export interface ConfigurationEntry {
  readonly key: string;
  readonly value: string | null;
  readonly readonly?: boolean | null;
}

/** Configuration the station reported or accepted (GetConfiguration, ChangeConfiguration, NotifyReport, SetVariables). */
export interface RecordConfiguration {
  readonly type: 'RecordConfiguration';
  readonly entries: readonly ConfigurationEntry[];
}

export type StationCommand =
  | RegisterStation
  | ChangeStationSecurity
  | RecordBoot
  | ConnectStation
  | DisconnectStation
  | DeclareConnector
  | RecordStatus
  | ChangeAvailability
  | RecordConfiguration
  | RecordMessageRefusal
  | StationReportCommand;

export const stationCommandTypes = [
  'RegisterStation',
  'ChangeStationSecurity',
  'RecordBoot',
  'ConnectStation',
  'DisconnectStation',
  'DeclareConnector',
  'RecordStatus',
  'ChangeAvailability',
  'RecordConfiguration',
  'RecordMessageRefusal',
  ...stationReportCommandTypes,
] as const satisfies readonly StationCommand['type'][];

/** 2.0.1 component/variable addressing, flattened to one generic configuration key. */
export interface ComponentVariable {
  readonly component: string;
  readonly componentInstance?: string | null;
  readonly evseId?: number | null;
  readonly connectorId?: number | null;
  readonly variable: string;
  readonly variableInstance?: string | null;
  /** Actual (default), Target, MinSet, MaxSet. */
  readonly attributeType?: string | null;
}

/**
 * Renders a 2.0.1 component/variable as a key, e.g. `OCPPCommCtrlr/HeartbeatInterval` or
 * `EVSE@1/Power:MaxSet`. Always contains '/', which 1.6 keys never do, so the two cannot collide.
 */
export function configurationKey(address: ComponentVariable): string {
  const instance = (name: string, value?: string | null) => (value ? `${name}[${value}]` : name);
  let component = instance(address.component, address.componentInstance);
  if (address.evseId != null) component += `@${address.evseId}`;
  if (address.connectorId != null) component += `.${address.connectorId}`;
  let variable = instance(address.variable, address.variableInstance);
  if (address.attributeType && address.attributeType !== 'Actual') variable += `:${address.attributeType}`;
  return `${component}/${variable}`;
}
