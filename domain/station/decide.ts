import { assertNever } from '../shared/assert.js';
import { eventFrom } from '../shared/event-definition.js';
import { IllegalStateError, InvalidCommandError } from '../shared/errors.js';
import { checkNonNegativeInteger, checkText, normalizeTimestamp } from '../shared/values.js';
import type { ChangeAvailability, RecordConfiguration, RecordStatus, StationCommand } from './commands.js';
import {
  AvailabilityChanged,
  ConnectorDeclared,
  ConnectorStatusChanged,
  connectorStatuses,
  nodeIdCharsMax,
  occupiedStatuses,
  StationBooted,
  StationConfigurationChanged,
  StationConnected,
  StationDisconnected,
  StationRegistered,
  StationSecurityChanged,
  StationStatusChanged,
  type Availability,
  type SecurityProfile,
  type StationEvent,
} from './events.js';
import { decideReport } from './decide-reports.js';
import { decideMessageRefusal } from './refusals.js';
import { connectorKey, evolveStation, type StationState, type StatusReport } from './state.js';

/** One RecordConfiguration fits one append (appendEventsMax is 1,000); gateways split larger reports. */
export const configurationEntriesPerCommandMax = 500;

export function decideStation(command: StationCommand, state: StationState): StationEvent[] {
  switch (command.type) {
    case 'RegisterStation': {
      const facts = securityFacts(command.securityProfile, command.passwordHash, command.type);
      const stationId = checkText(command.stationId, 'stationId', 48, command.type);
      if (state.registration) {
        // The same registration again (an operator retry) changes nothing.
        if (sameSecurity(state, facts)) return [];
        throw new IllegalStateError('station already registered; change its security instead', command.type);
      }
      return [eventFrom(StationRegistered, { stationId, ...facts })];
    }
    case 'ChangeStationSecurity': {
      const facts = securityFacts(command.securityProfile, command.passwordHash, command.type);
      if (!state.registration) throw new IllegalStateError('station is not registered', command.type);
      return sameSecurity(state, facts) ? [] : [eventFrom(StationSecurityChanged, facts)];
    }
    case 'RecordBoot': {
      const registered = state.registration !== null;
      const policy = command.registrationPolicy;
      // Every boot is recorded, even an identical one: reboots are facts worth counting.
      return [
        eventFrom(StationBooted, {
          vendor: checkText(command.vendor, 'vendor', 50, command.type),
          model: checkText(command.model, 'model', 50, command.type),
          serialNumber: command.serialNumber ?? null,
          firmwareVersion: command.firmwareVersion ?? null,
          ocppVersion: command.ocppVersion,
          bootReason: command.bootReason ?? null,
          bootStatus: registered ? (policy.registeredStation ?? 'Accepted') : policy.unknownStation,
          registered,
          bootedAt: normalizeTimestamp(command.bootedAt, 'bootedAt', command.type),
        }),
      ];
    }
    case 'ConnectStation': {
      const connectedAt = normalizeTimestamp(command.connectedAt, 'connectedAt', command.type);
      if (state.connection?.connectionId === command.connectionId) return [];
      const connectionId = checkText(command.connectionId, 'connectionId', 100, command.type);
      const node = command.nodeId == null ? {} : { nodeId: checkText(command.nodeId, 'nodeId', nodeIdCharsMax, command.type) };
      return [eventFrom(StationConnected, { connectionId, ocppVersion: command.ocppVersion, connectedAt, ...node })];
    }
    case 'DisconnectStation': {
      const disconnectedAt = normalizeTimestamp(command.disconnectedAt, 'disconnectedAt', command.type);
      // A close of an older socket, after the station reconnected, must not mark it offline.
      if (state.connection?.connectionId !== command.connectionId) return [];
      return [
        eventFrom(StationDisconnected, { connectionId: command.connectionId, reason: command.reason ?? null, disconnectedAt }),
      ];
    }
    case 'DeclareConnector': {
      const evseId = checkPositive(command.evseId, 'evseId', command.type);
      const connectorId = checkPositive(command.connectorId, 'connectorId', command.type);
      const connectorType = command.connectorType ?? null;
      const existing = state.connectors[connectorKey(evseId, connectorId)];
      if (existing && (connectorType === null || existing.connectorType === connectorType)) return [];
      return [eventFrom(ConnectorDeclared, { evseId, connectorId, connectorType, source: 'operator' })];
    }
    case 'RecordStatus':
      return decideStatus(command, state);
    case 'ChangeAvailability':
      return decideAvailability(command, state);
    case 'RecordConfiguration':
      return decideConfiguration(command, state);
    case 'RecordMessageRefusal':
      return decideMessageRefusal(command, state.refusalWindow);
    case 'ReportFirmwareStatus':
    case 'ReportLogUploadStatus':
    case 'ReportSecurityEvent':
    case 'ReportReservationStatus':
    case 'ReportChargingLimit':
    case 'ReportStationEvents':
    case 'RecordStationMeterReadings':
      return decideReport(command, state);
    default:
      return assertNever(command, 'station command');
  }
}

function securityFacts(securityProfile: SecurityProfile, passwordHash: string | null | undefined, commandType: string) {
  if (![0, 1, 2, 3].includes(securityProfile)) {
    throw new InvalidCommandError(`unknown security profile ${String(securityProfile)}`, commandType);
  }
  // Profiles 1 and 2 authenticate with HTTP basic auth (OCPP security whitepaper / 2.0.1 A00).
  if ((securityProfile === 1 || securityProfile === 2) && !passwordHash) {
    throw new InvalidCommandError(`security profile ${securityProfile} needs a password hash`, commandType);
  }
  return { securityProfile, passwordHash: passwordHash ?? null };
}

function sameSecurity(state: StationState, facts: { securityProfile: SecurityProfile; passwordHash: string | null }): boolean {
  return state.registration?.securityProfile === facts.securityProfile && state.registration.passwordHash === facts.passwordHash;
}

function checkPositive(value: number, field: string, commandType: string): number {
  checkNonNegativeInteger(value, field, commandType);
  if (value === 0) throw new InvalidCommandError(`${field} must be at least 1`, commandType);
  return value;
}

/**
 * A report identical to the current one (status, error code, info, vendor fields) is a no-op:
 * the timestamp alone is not a new fact, and stations repeat their statuses after every reconnect.
 * Reports are applied in arrival order, not by station time: a station whose clock was reset
 * would otherwise have every later report ignored.
 */
function decideStatus(command: RecordStatus, state: StationState): StationEvent[] {
  // A Rejected station must not send anything but BootNotification (OCPP 1.6 §4.2, 2.0.1 use case B03).
  if (state.boot?.bootStatus === 'Rejected') throw new IllegalStateError('station boot was rejected', command.type);
  if (!connectorStatuses.includes(command.status)) {
    throw new InvalidCommandError(`unknown status ${String(command.status)}`, command.type);
  }
  const report: StatusReport = {
    status: command.status,
    errorCode: command.errorCode === 'NoError' ? null : (command.errorCode ?? null),
    info: command.info ?? null,
    vendorId: command.vendorId ?? null,
    vendorErrorCode: command.vendorErrorCode ?? null,
    statusAt: normalizeTimestamp(command.statusAt, 'statusAt', command.type),
  };
  const evseId = checkNonNegativeInteger(command.evseId, 'evseId', command.type);
  if (evseId === 0) {
    if (command.connectorId !== 0) throw new InvalidCommandError('the station itself has no connectors', command.type);
    return sameReport(state.stationStatus, report) ? [] : [eventFrom(StationStatusChanged, report)];
  }
  const connectorId = checkPositive(command.connectorId, 'connectorId', command.type);
  const existing = state.connectors[connectorKey(evseId, connectorId)];
  if (existing && sameReport(existing.status, report)) return [];
  const events: StationEvent[] = [];
  if (!existing) events.push(eventFrom(ConnectorDeclared, { evseId, connectorId, connectorType: null, source: 'status' }));
  events.push(eventFrom(ConnectorStatusChanged, { evseId, connectorId, ...report }));
  return [...events, ...scheduledAvailabilitiesNowEffective(state, events)];
}

function sameReport(current: StatusReport | null, next: StatusReport): boolean {
  return (
    current !== null &&
    current.status === next.status &&
    current.errorCode === next.errorCode &&
    current.info === next.info &&
    current.vendorId === next.vendorId &&
    current.vendorErrorCode === next.vendorErrorCode
  );
}

/** Connectors in an availability scope: 0/0 the station, n/0 EVSE n, n/m one connector. */
function connectorsInScope(state: StationState, evseId: number, connectorId: number) {
  return Object.values(state.connectors).filter(
    (connector) => (evseId === 0 || connector.evseId === evseId) && (connectorId === 0 || connector.connectorId === connectorId),
  );
}

function scopeOccupied(state: StationState, evseId: number, connectorId: number): boolean {
  return connectorsInScope(state, evseId, connectorId).some(
    (connector) => connector.status !== null && occupiedStatuses.has(connector.status.status),
  );
}

/** After a status change, scheduled availability changes whose scope is now free take effect. */
function scheduledAvailabilitiesNowEffective(state: StationState, events: readonly StationEvent[]): StationEvent[] {
  const after = events.reduce(evolveStation, state);
  const effective: StationEvent[] = [];
  for (const [key, value] of Object.entries(after.availability)) {
    if (!value.scheduled) continue;
    const [evseId, connectorId] = key.split('/').map(Number) as [number, number];
    if (scopeOccupied(after, evseId, connectorId)) continue;
    effective.push(eventFrom(AvailabilityChanged, { evseId, connectorId, availability: value.availability, scheduled: false }));
  }
  return effective;
}

function decideAvailability(command: ChangeAvailability, state: StationState): StationEvent[] {
  const evseId = checkNonNegativeInteger(command.evseId, 'evseId', command.type);
  const connectorId = checkNonNegativeInteger(command.connectorId, 'connectorId', command.type);
  if (evseId === 0 && connectorId !== 0) throw new InvalidCommandError('a connector needs its EVSE', command.type);
  if (evseId !== 0 && connectorsInScope(state, evseId, connectorId).length === 0) {
    throw new InvalidCommandError(`no such EVSE/connector ${evseId}/${connectorId}`, command.type);
  }
  const availability: Availability = command.availability;
  if (availability !== 'Operative' && availability !== 'Inoperative') {
    throw new InvalidCommandError(`unknown availability ${String(availability)}`, command.type);
  }
  // Going inoperative waits for running transactions (OCPP 1.6 §5.2, 2.0.1 use cases G03/G04). The
  // station's answer is the fact when the gateway has it; otherwise the connector statuses predict it.
  const scheduled =
    command.stationResponse !== undefined
      ? command.stationResponse === 'Scheduled'
      : availability === 'Inoperative' && scopeOccupied(state, evseId, connectorId);
  const current = state.availability[connectorKey(evseId, connectorId)] ?? { availability: 'Operative', scheduled: false };
  if (current.availability === availability && current.scheduled === scheduled) return [];
  return [eventFrom(AvailabilityChanged, { evseId, connectorId, availability, scheduled })];
}

function decideConfiguration(command: RecordConfiguration, state: StationState): StationEvent[] {
  const entries = command.entries;
  if (entries.length === 0 || entries.length > configurationEntriesPerCommandMax) {
    throw new InvalidCommandError(`takes 1 to ${configurationEntriesPerCommandMax} entries, got ${entries.length}`, command.type);
  }
  const seen = new Set<string>();
  const events: StationEvent[] = [];
  for (const entry of entries) {
    const key = checkText(entry.key, 'key', 500, command.type);
    if (seen.has(key)) throw new InvalidCommandError(`key given twice: ${key}`, command.type);
    seen.add(key);
    if (entry.value !== null && entry.value.length > 2500) {
      throw new InvalidCommandError(`value of ${key} is longer than 2500 characters`, command.type);
    }
    const readonly = entry.readonly ?? null;
    const current = state.configuration[key];
    // Only changes are recorded: a full GetConfiguration after each boot would otherwise flood the stream.
    if (current && current.value === entry.value && current.readonly === readonly) continue;
    events.push(eventFrom(StationConfigurationChanged, { key, value: entry.value, readonly }));
  }
  return events;
}
