import { describe, expect, it } from 'vitest';
import { given } from '../../test/support/given-when-then.js';
import { eventFrom } from '../shared/event-definition.js';
import { IllegalStateError, InvalidCommandError } from '../shared/errors.js';
import type { RecordBoot, RecordStatus } from './commands.js';
import { upcast } from '../events.js';
import { configurationKey, nodeRestartedReason } from './commands.js';
import {
  AvailabilityChanged,
  ConnectorDeclared,
  ConnectorStatusChanged,
  nodeIdCharsMax,
  StationBooted,
  StationConfigurationChanged,
  StationConnected,
  StationDisconnected,
  StationRegistered,
  StationSecurityChanged,
  StationStatusChanged,
} from './events.js';
import { stationDecider } from './index.js';
import { isOnlineAccepted } from './state.js';

const at = '2025-03-01T10:00:00.000Z';
const registered = eventFrom(StationRegistered, { stationId: 'CP-1', securityProfile: 1, passwordHash: 'h1' });
const boot = (overrides: Partial<RecordBoot> = {}): RecordBoot => ({
  type: 'RecordBoot',
  vendor: 'ACME',
  model: 'X1',
  serialNumber: 'S-1',
  firmwareVersion: '1.0',
  ocppVersion: '1.6',
  bootedAt: at,
  registrationPolicy: { unknownStation: 'Rejected' },
  ...overrides,
});
const booted = (bootStatus: 'Accepted' | 'Pending' | 'Rejected', registeredStation = true) =>
  eventFrom(StationBooted, {
    vendor: 'ACME',
    model: 'X1',
    serialNumber: 'S-1',
    firmwareVersion: '1.0',
    ocppVersion: '1.6',
    bootReason: null,
    bootStatus,
    registered: registeredStation,
    bootedAt: at,
  });
const status = (overrides: Partial<RecordStatus> = {}): RecordStatus => ({
  type: 'RecordStatus',
  evseId: 1,
  connectorId: 1,
  status: 'Available',
  statusAt: at,
  ...overrides,
});
const statusChanged = (status: RecordStatus['status'], evseId = 1, connectorId = 1, statusAt = at) =>
  eventFrom(ConnectorStatusChanged, { evseId, connectorId, status, errorCode: null, info: null, vendorId: null, vendorErrorCode: null, statusAt });
const declared = (evseId = 1, connectorId = 1, source: 'operator' | 'status' = 'status') =>
  eventFrom(ConnectorDeclared, { evseId, connectorId, connectorType: null, source });

describe('station: registration', () => {
  it('registers a station with its security profile and password hash', () => {
    given(stationDecider, [])
      .when({ type: 'RegisterStation', stationId: 'CP-1', securityProfile: 1, passwordHash: 'h1' })
      .then([registered]);
  });
  it('refuses profile 1 or 2 without a password hash', () => {
    given(stationDecider, []).when({ type: 'RegisterStation', stationId: 'CP-1', securityProfile: 2 }).thenThrows(InvalidCommandError, /password hash/);
  });
  it('registers profile 3 (mutual TLS) without a password', () => {
    given(stationDecider, [])
      .when({ type: 'RegisterStation', stationId: 'CP-1', securityProfile: 3 })
      .then([eventFrom(StationRegistered, { stationId: 'CP-1', securityProfile: 3, passwordHash: null })]);
  });
  it('the same registration again is a no-op', () => {
    given(stationDecider, [registered]).when({ type: 'RegisterStation', stationId: 'CP-1', securityProfile: 1, passwordHash: 'h1' }).then([]);
  });
  it('a different registration of a registered station is refused', () => {
    given(stationDecider, [registered])
      .when({ type: 'RegisterStation', stationId: 'CP-1', securityProfile: 2, passwordHash: 'h2' })
      .thenThrows(IllegalStateError, /already registered/);
  });
  it('changes security of a registered station; unchanged is a no-op; unregistered is refused', () => {
    given(stationDecider, [registered])
      .when({ type: 'ChangeStationSecurity', securityProfile: 2, passwordHash: 'h2' })
      .then([eventFrom(StationSecurityChanged, { securityProfile: 2, passwordHash: 'h2' })]);
    given(stationDecider, [registered]).when({ type: 'ChangeStationSecurity', securityProfile: 1, passwordHash: 'h1' }).then([]);
    given(stationDecider, []).when({ type: 'ChangeStationSecurity', securityProfile: 3 }).thenThrows(IllegalStateError, /not registered/);
  });
});

describe('station: boot', () => {
  it('accepts a registered station by default', () => {
    given(stationDecider, [registered]).when(boot()).then([booted('Accepted')]);
  });
  it('a registered station may be answered Pending by policy', () => {
    given(stationDecider, [registered])
      .when(boot({ registrationPolicy: { unknownStation: 'Rejected', registeredStation: 'Pending' } }))
      .then([booted('Pending')]);
  });
  it('answers an unknown station per the unknown-station policy', () => {
    given(stationDecider, []).when(boot()).then([booted('Rejected', false)]);
    given(stationDecider, []).when(boot({ registrationPolicy: { unknownStation: 'Accepted' } })).then([booted('Accepted', false)]);
    given(stationDecider, []).when(boot({ registrationPolicy: { unknownStation: 'Pending' } })).then([booted('Pending', false)]);
  });
  it('records every boot, even an identical one', () => {
    given(stationDecider, [registered, booted('Accepted')]).when(boot()).then([booted('Accepted')]);
  });
  it('normalizes the station time and refuses one without a zone', () => {
    given(stationDecider, [registered])
      .when(boot({ bootedAt: '2025-03-01T11:00:00+01:00' }))
      .then([booted('Accepted')]);
    given(stationDecider, [registered]).when(boot({ bootedAt: '2025-03-01T10:00:00' })).thenThrows(InvalidCommandError, /zone/);
  });
  it('refuses a boot without vendor', () => {
    given(stationDecider, [registered]).when(boot({ vendor: '' })).thenThrows(InvalidCommandError, /vendor/);
  });
});

describe('station: connection', () => {
  const connected = eventFrom(StationConnected, { connectionId: 'c1', ocppVersion: '1.6', connectedAt: at });
  it('records a connection; the same connection again is a no-op; a new one replaces it', () => {
    given(stationDecider, []).when({ type: 'ConnectStation', connectionId: 'c1', ocppVersion: '1.6', connectedAt: at }).then([connected]);
    given(stationDecider, [connected]).when({ type: 'ConnectStation', connectionId: 'c1', ocppVersion: '1.6', connectedAt: at }).then([]);
    given(stationDecider, [connected])
      .when({ type: 'ConnectStation', connectionId: 'c2', ocppVersion: '2.0.1', connectedAt: at })
      .then([eventFrom(StationConnected, { connectionId: 'c2', ocppVersion: '2.0.1', connectedAt: at })]);
  });
  it('records the node holding the connection; an event stored before nodes were recorded still reads', () => {
    given(stationDecider, [])
      .when({ type: 'ConnectStation', connectionId: 'c1', ocppVersion: '1.6', connectedAt: at, nodeId: 'node-a' })
      .then([eventFrom(StationConnected, { connectionId: 'c1', ocppVersion: '1.6', connectedAt: at, nodeId: 'node-a' })]);
    given(stationDecider, [])
      .when({ type: 'ConnectStation', connectionId: 'c1', ocppVersion: '1.6', connectedAt: at, nodeId: 'n'.repeat(nodeIdCharsMax + 1) })
      .thenThrows(InvalidCommandError, /nodeId/);
    expect(upcast('StationConnected', 1, { connectionId: 'c1', ocppVersion: '1.6', connectedAt: at })).toEqual(connected);
  });
  it('records a node restart as the end of the connection it held, once', () => {
    const settled = { type: 'DisconnectStation', connectionId: 'c1', reason: nodeRestartedReason, disconnectedAt: at } as const;
    const disconnected = eventFrom(StationDisconnected, { connectionId: 'c1', reason: 'nodeRestarted', disconnectedAt: at });
    given(stationDecider, [connected]).when(settled).then([disconnected]);
    given(stationDecider, [connected, disconnected]).when(settled).then([]);
  });
  it('records a disconnection of the current connection', () => {
    given(stationDecider, [connected])
      .when({ type: 'DisconnectStation', connectionId: 'c1', disconnectedAt: at })
      .then([eventFrom(StationDisconnected, { connectionId: 'c1', reason: null, disconnectedAt: at })]);
  });
  it('ignores the late close of an older socket after a reconnect', () => {
    const reconnected = eventFrom(StationConnected, { connectionId: 'c2', ocppVersion: '1.6', connectedAt: at });
    given(stationDecider, [connected, reconnected]).when({ type: 'DisconnectStation', connectionId: 'c1', disconnectedAt: at }).then([]);
    given(stationDecider, []).when({ type: 'DisconnectStation', connectionId: 'c1', disconnectedAt: at }).then([]);
  });
  it('is online-accepted only when connected and its last boot was Accepted', () => {
    const check = (history: Parameters<typeof stationDecider.evolve>[1][], expected: boolean) =>
      expect(isOnlineAccepted(given(stationDecider, history).state)).toBe(expected);
    check([registered, booted('Accepted'), connected], true);
    check([registered, booted('Pending'), connected], false);
    check([registered, booted('Accepted')], false);
    check([registered, booted('Accepted'), connected, eventFrom(StationDisconnected, { connectionId: 'c1', reason: null, disconnectedAt: at })], false);
  });
});

describe('station: connectors and status', () => {
  it('declares a connector; declaring it again is a no-op unless its type changes', () => {
    given(stationDecider, []).when({ type: 'DeclareConnector', evseId: 1, connectorId: 1 }).then([declared(1, 1, 'operator')]);
    given(stationDecider, [declared()]).when({ type: 'DeclareConnector', evseId: 1, connectorId: 1 }).then([]);
    given(stationDecider, [declared()])
      .when({ type: 'DeclareConnector', evseId: 1, connectorId: 1, connectorType: 'cType2' })
      .then([eventFrom(ConnectorDeclared, { evseId: 1, connectorId: 1, connectorType: 'cType2', source: 'operator' })]);
  });
  it('refuses connector 0 or a negative EVSE in a declaration', () => {
    given(stationDecider, []).when({ type: 'DeclareConnector', evseId: 1, connectorId: 0 }).thenThrows(InvalidCommandError, /connectorId/);
    given(stationDecider, []).when({ type: 'DeclareConnector', evseId: -1, connectorId: 1 }).thenThrows(InvalidCommandError, /evseId/);
  });
  it('a status for an unknown connector declares it', () => {
    given(stationDecider, [booted('Accepted')]).when(status()).then([declared(), statusChanged('Available')]);
  });
  it('a status identical to the current one is a no-op, whatever its timestamp', () => {
    given(stationDecider, [declared(), statusChanged('Available')]).when(status({ statusAt: '2025-03-01T10:05:00Z' })).then([]);
  });
  it('a changed status, error code or info is recorded', () => {
    given(stationDecider, [declared(), statusChanged('Available')]).when(status({ status: 'Charging' })).then([statusChanged('Charging')]);
    given(stationDecider, [declared(), statusChanged('Available')])
      .when(status({ status: 'Faulted', errorCode: 'GroundFailure', info: 'RCD tripped' }))
      .then([eventFrom(ConnectorStatusChanged, { evseId: 1, connectorId: 1, status: 'Faulted', errorCode: 'GroundFailure', info: 'RCD tripped', vendorId: null, vendorErrorCode: null, statusAt: at })]);
  });
  it("records 1.6 'NoError' as no error code", () => {
    given(stationDecider, [declared(), statusChanged('Available')]).when(status({ errorCode: 'NoError' })).then([]);
  });
  it('connector 0 / EVSE 0 is the station itself', () => {
    const report = { status: 'Unavailable' as const, errorCode: null, info: null, vendorId: null, vendorErrorCode: null, statusAt: at };
    given(stationDecider, []).when(status({ evseId: 0, connectorId: 0, status: 'Unavailable' })).then([eventFrom(StationStatusChanged, report)]);
    given(stationDecider, [eventFrom(StationStatusChanged, report)]).when(status({ evseId: 0, connectorId: 0, status: 'Unavailable' })).then([]);
    given(stationDecider, []).when(status({ evseId: 0, connectorId: 2 })).thenThrows(InvalidCommandError, /station itself/);
  });
  it('refuses statuses from a station whose boot was rejected', () => {
    given(stationDecider, [booted('Rejected', false)]).when(status()).thenThrows(IllegalStateError, /rejected/);
  });
  it('accepts statuses from a Pending station and from one never booted in this stream', () => {
    given(stationDecider, [booted('Pending')]).when(status()).then([declared(), statusChanged('Available')]);
    given(stationDecider, []).when(status()).then([declared(), statusChanged('Available')]);
  });
  it('refuses an unknown status', () => {
    given(stationDecider, []).when(status({ status: 'Broken' as never })).thenThrows(InvalidCommandError, /unknown status/);
  });
});

describe('station: availability', () => {
  const free = [declared(), statusChanged('Available'), declared(1, 2), statusChanged('Available', 1, 2)];
  const charging = [declared(), statusChanged('Charging'), declared(1, 2), statusChanged('Available', 1, 2)];
  const inoperative = (evseId: number, connectorId: number, scheduled: boolean) =>
    eventFrom(AvailabilityChanged, { evseId, connectorId, availability: 'Inoperative', scheduled });
  it('a free scope goes inoperative at once', () => {
    given(stationDecider, free).when({ type: 'ChangeAvailability', evseId: 1, connectorId: 0, availability: 'Inoperative' }).then([inoperative(1, 0, false)]);
  });
  it('is scheduled while a transaction runs in scope, and takes effect when the scope is free', () => {
    given(stationDecider, charging).when({ type: 'ChangeAvailability', evseId: 0, connectorId: 0, availability: 'Inoperative' }).then([inoperative(0, 0, true)]);
    given(stationDecider, [...charging, inoperative(0, 0, true)])
      .when(status({ status: 'Available' }))
      .then([statusChanged('Available'), inoperative(0, 0, false)]);
    given(stationDecider, [...charging, inoperative(0, 0, true)]).when(status({ status: 'Finishing' })).then([statusChanged('Finishing')]);
  });
  it("the station's own answer, when given, decides whether it is scheduled", () => {
    given(stationDecider, free)
      .when({ type: 'ChangeAvailability', evseId: 1, connectorId: 1, availability: 'Inoperative', stationResponse: 'Scheduled' })
      .then([inoperative(1, 1, true)]);
    given(stationDecider, charging)
      .when({ type: 'ChangeAvailability', evseId: 1, connectorId: 1, availability: 'Inoperative', stationResponse: 'Accepted' })
      .then([inoperative(1, 1, false)]);
  });
  it('an occupied connector outside the scope does not delay it', () => {
    given(stationDecider, charging).when({ type: 'ChangeAvailability', evseId: 1, connectorId: 2, availability: 'Inoperative' }).then([inoperative(1, 2, false)]);
  });
  it('the current availability again is a no-op; operative is never scheduled', () => {
    given(stationDecider, free).when({ type: 'ChangeAvailability', evseId: 1, connectorId: 1, availability: 'Operative' }).then([]);
    given(stationDecider, [...charging, inoperative(1, 1, true)])
      .when({ type: 'ChangeAvailability', evseId: 1, connectorId: 1, availability: 'Operative' })
      .then([eventFrom(AvailabilityChanged, { evseId: 1, connectorId: 1, availability: 'Operative', scheduled: false })]);
  });
  it('refuses an unknown EVSE or a connector without EVSE', () => {
    given(stationDecider, free).when({ type: 'ChangeAvailability', evseId: 3, connectorId: 0, availability: 'Inoperative' }).thenThrows(InvalidCommandError, /no such/);
    given(stationDecider, free).when({ type: 'ChangeAvailability', evseId: 0, connectorId: 1, availability: 'Inoperative' }).thenThrows(InvalidCommandError, /needs its EVSE/);
  });
});

describe('station: configuration', () => {
  const changed = (key: string, value: string | null, readonly: boolean | null = null) => eventFrom(StationConfigurationChanged, { key, value, readonly });
  it('records only keys whose value changed', () => {
    given(stationDecider, [changed('HeartbeatInterval', '300')])
      .when({ type: 'RecordConfiguration', entries: [{ key: 'HeartbeatInterval', value: '300' }, { key: 'MeterValueSampleInterval', value: '60', readonly: false }] })
      .then([changed('MeterValueSampleInterval', '60', false)]);
  });
  it('refuses an empty batch, too many entries, or a key twice', () => {
    given(stationDecider, []).when({ type: 'RecordConfiguration', entries: [] }).thenThrows(InvalidCommandError, /entries/);
    const many = Array.from({ length: 501 }, (_, i) => ({ key: `K${i}`, value: '1' }));
    given(stationDecider, []).when({ type: 'RecordConfiguration', entries: many }).thenThrows(InvalidCommandError, /entries/);
    given(stationDecider, [])
      .when({ type: 'RecordConfiguration', entries: [{ key: 'A', value: '1' }, { key: 'A', value: '2' }] })
      .thenThrows(InvalidCommandError, /twice/);
  });
  it('maps 2.0.1 component/variable to a generic key that cannot collide with 1.6 keys', () => {
    expect(configurationKey({ component: 'OCPPCommCtrlr', variable: 'HeartbeatInterval' })).toBe('OCPPCommCtrlr/HeartbeatInterval');
    expect(configurationKey({ component: 'EVSE', evseId: 1, variable: 'Power', attributeType: 'MaxSet' })).toBe('EVSE@1/Power:MaxSet');
    expect(configurationKey({ component: 'Connector', componentInstance: 'a', evseId: 1, connectorId: 2, variable: 'Enabled', variableInstance: 'x', attributeType: 'Actual' })).toBe(
      'Connector[a]@1.2/Enabled[x]',
    );
  });
});
