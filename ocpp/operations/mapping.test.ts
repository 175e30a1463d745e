import { describe, expect, it } from 'vitest';
import { InvalidCommandError } from '../../domain/shared/errors.js';
import { configurationKey } from '../../domain/station/commands.js';
import type { OcppVersion } from '../errors.js';
import { ocppSchemas } from '../schemas.js';
import { ocppRequestFor, requestIdFor, type MappingContext } from './mapping.js';
import { stationOperationNames, transactionIdsIn, type ChargingProfile, type StationOperation, type StationOperationName } from './operations.js';
import { parseConfigurationKey } from './settings.js';

const context: MappingContext = { requestId: 4711, stationTransactionId: (id) => (id === 'tx-1' ? '17' : `station-${id}`) };
const rfid = { idToken: '04A1B2C3', type: 'ISO14443' };
const profile = (purpose: ChargingProfile['purpose'], transactionId?: string): ChargingProfile => ({
  id: 7,
  stackLevel: 1,
  purpose,
  kind: 'Absolute',
  validFrom: '2025-03-01T10:00:00Z',
  ...(transactionId ? { transactionId } : {}),
  schedule: { startSchedule: '2025-03-01T10:00:00Z', durationS: 3600, rateUnit: 'W', periods: [{ startPeriodS: 0, limit: 11000, numberPhases: 3 }, { startPeriodS: 1800, limit: 7400 }] },
});
const hashData = { hashAlgorithm: 'SHA256', issuerNameHash: 'a1b2', issuerKeyHash: 'c3d4', serialNumber: '01' } as const;

/** At least one example of every operation; each must give a schema-valid payload in every version that has it. */
const examples: StationOperation[] = [
  { name: 'startCharging', idToken: rfid },
  { name: 'startCharging', evseId: 2, idToken: rfid, chargingProfile: profile('tx') },
  { name: 'stopCharging', transactionId: 'tx-1' },
  { name: 'reset', type: 'immediate' },
  { name: 'reset', type: 'onIdle' },
  { name: 'changeAvailability', evseId: 0, availability: 'Inoperative' },
  { name: 'changeAvailability', evseId: 2, connectorId: 1, availability: 'Operative' },
  { name: 'unlockConnector', evseId: 1 },
  { name: 'clearCache' },
  { name: 'triggerMessage', message: 'StatusNotification', evseId: 1 },
  { name: 'triggerMessage', message: 'Heartbeat' },
  { name: 'triggerMessage', message: 'LogStatusNotification' },
  { name: 'triggerMessage', message: 'SignStationCertificate' },
  { name: 'readSettings' },
  { name: 'updateFirmware', location: 'https://fw.example.com/x.bin', retrieveAt: '2025-03-02T02:00:00Z', retries: 3, retryIntervalS: 60 },
  { name: 'updateFirmware', location: 'https://fw.example.com/x.bin', retrieveAt: '2025-03-02T02:00:00Z', installAt: '2025-03-02T03:00:00Z', signingCertificate: '-----BEGIN CERTIFICATE-----', signature: 'c2ln' },
  { name: 'getLog', logType: 'diagnostics', remoteLocation: 'ftp://logs.example.com/', oldestAt: '2025-03-01T00:00:00Z', latestAt: '2025-03-02T00:00:00Z' },
  { name: 'getLog', logType: 'security', remoteLocation: 'ftp://logs.example.com/', retries: 1 },
  {
    name: 'sendLocalList',
    listVersion: 3,
    updateType: 'full',
    entries: [{ idToken: rfid, status: 'Accepted', expiresAt: '2026-01-01T00:00:00Z', parentIdToken: { idToken: 'GROUP1', type: 'Central' } }],
  },
  { name: 'sendLocalList', listVersion: 4, updateType: 'differential', entries: [{ idToken: rfid }] },
  { name: 'getLocalListVersion' },
  { name: 'reserveNow', reservationId: 5, evseId: 1, expiresAt: '2025-03-01T11:00:00Z', idToken: rfid },
  { name: 'reserveNow', reservationId: 6, expiresAt: '2025-03-01T11:00:00Z', idToken: rfid, parentIdToken: { idToken: 'GROUP1', type: 'Central' } },
  { name: 'cancelReservation', reservationId: 5 },
  { name: 'setChargingProfile', evseId: 0, chargingProfile: profile('stationMax') },
  { name: 'setChargingProfile', evseId: 1, chargingProfile: profile('tx', 'tx-1') },
  { name: 'clearChargingProfile', profileId: 7 },
  { name: 'clearChargingProfile', evseId: 1, purpose: 'txDefault', stackLevel: 1 },
  { name: 'getCompositeSchedule', evseId: 1, durationS: 3600, rateUnit: 'A' },
  { name: 'dataTransfer', vendorId: 'com.acme', messageId: 'SetPrice', data: { price: 0.35 } },
  { name: 'dataTransfer', vendorId: 'com.acme', data: 'plain' },
  { name: 'certificateSigned', certificateChain: '-----BEGIN CERTIFICATE-----' },
  { name: 'installCertificate', certificateType: 'csmsRoot', certificate: '-----BEGIN CERTIFICATE-----' },
  { name: 'getInstalledCertificateIds', certificateTypes: ['manufacturerRoot'] },
  { name: 'deleteCertificate', certificateHashData: hashData },
  { name: 'raw', action: 'ClearCache', payload: {} },
];
const examples16: StationOperation[] = [
  { name: 'readSettings', keys: ['HeartbeatInterval', 'MeterValueSampleInterval'] },
  { name: 'writeSettings', settings: [{ key: 'HeartbeatInterval', value: '300' }] },
  { name: 'raw', action: 'GetConfiguration', payload: { key: ['HeartbeatInterval'] } },
];
const examples201: StationOperation[] = [
  { name: 'readSettings', keys: ['OCPPCommCtrlr/HeartbeatInterval', 'EVSE@1/Power:MaxSet', 'Connector[a]@1.2/Enabled[x]'] },
  { name: 'writeSettings', settings: [{ key: 'OCPPCommCtrlr/HeartbeatInterval', value: '300' }, { key: 'EVSE@1/Power:MaxSet', value: '11000' }] },
  { name: 'certificateSigned', certificateChain: '-----BEGIN CERTIFICATE-----', certificateType: 'v2g' },
  { name: 'installCertificate', certificateType: 'v2gRoot', certificate: '-----BEGIN CERTIFICATE-----' },
  { name: 'getInstalledCertificateIds' },
  { name: 'getChargingProfiles', evseId: 1, purpose: 'tx', profileIds: [7] },
  { name: 'getTransactionStatus', transactionId: 'tx-2' },
  { name: 'getTransactionStatus' },
  { name: 'raw', action: 'GetBaseReport', payload: { requestId: 1, reportBase: 'ConfigurationInventory' } },
];
/** Not expressible in 1.6: refused before anything is recorded. */
const only201: StationOperation[] = [
  { name: 'reset', type: 'onIdle', evseId: 1 },
  { name: 'triggerMessage', message: 'TransactionEvent' },
  { name: 'getChargingProfiles' },
  { name: 'getTransactionStatus' },
  { name: 'installCertificate', certificateType: 'v2gRoot', certificate: 'x' },
  { name: 'updateFirmware', location: 'https://fw.example.com/x.bin', retrieveAt: '2025-03-02T02:00:00Z', installAt: '2025-03-02T03:00:00Z' },
  { name: 'writeSettings', settings: [{ key: 'A', value: '1' }, { key: 'B', value: '2' }] },
  { name: 'readSettings', keys: ['OCPPCommCtrlr/HeartbeatInterval'] },
  { name: 'changeAvailability', evseId: 1, connectorId: 2, availability: 'Inoperative' },
  { name: 'startCharging', idToken: rfid, chargingProfile: profile('txDefault') },
  { name: 'unlockConnector', evseId: 0, connectorId: 1 },
];
const only16: StationOperation[] = [
  { name: 'readSettings', keys: ['HeartbeatInterval'] },
  { name: 'writeSettings', settings: [] },
  { name: 'installCertificate', certificateType: 'v2gCertificateChain', certificate: 'x' },
];

const schemas = ocppSchemas();
function checkValid(version: OcppVersion, operation: StationOperation) {
  const request = ocppRequestFor(version, operation, context);
  expect(schemas.isCsmsInitiated(version, request.action), `${version} ${request.action} is sent by the CSMS`).toBe(true);
  expect(schemas.validate(version, request.action, 'Request', request.payload), `${version} ${JSON.stringify(request)}`).toBeNull();
  return request;
}

describe('operation mapping: every payload is valid against the official schema', () => {
  it.each([...examples, ...examples16])('1.6 $name %#', (operation) => void checkValid('ocpp1.6', operation));
  it.each([...examples, ...examples201])('2.0.1 $name %#', (operation) => void checkValid('ocpp2.0.1', operation));
  it('has an example of every operation in each version', () => {
    const names = (list: StationOperation[]) => new Set<StationOperationName>(list.map((operation) => operation.name));
    const unsupported16 = new Set(['getChargingProfiles', 'getTransactionStatus']);
    expect([...names([...examples, ...examples16])].sort()).toEqual(stationOperationNames.filter((name) => !unsupported16.has(name)).sort());
    expect([...names([...examples, ...examples201])].sort()).toEqual([...stationOperationNames].sort());
  });
  it('refuses what a version cannot express, with InvalidCommandError', () => {
    for (const operation of only201) expect(() => ocppRequestFor('ocpp1.6', operation, context), JSON.stringify(operation)).toThrow(InvalidCommandError);
    for (const operation of only16) expect(() => ocppRequestFor('ocpp2.0.1', operation, context), JSON.stringify(operation)).toThrow(InvalidCommandError);
  });
});

describe('operation mapping: 1.6', () => {
  const map = (operation: StationOperation) => ocppRequestFor('ocpp1.6', operation, context);
  it('starts with the idTag on connector n for EVSE n, and stops by the integer id the station knows', () => {
    expect(map({ name: 'startCharging', evseId: 2, idToken: rfid })).toEqual({ action: 'RemoteStartTransaction', payload: { connectorId: 2, idTag: '04A1B2C3' } });
    expect(map({ name: 'stopCharging', transactionId: 'tx-1' })).toEqual({ action: 'RemoteStopTransaction', payload: { transactionId: 17 } });
    expect(() => map({ name: 'stopCharging', transactionId: 'tx-2' })).toThrow(/no 1.6 integer id/);
  });
  it('resets Hard for immediate and Soft for on idle', () => {
    expect(map({ name: 'reset', type: 'immediate' }).payload).toEqual({ type: 'Hard' });
    expect(map({ name: 'reset', type: 'onIdle' }).payload).toEqual({ type: 'Soft' });
  });
  it('uses the security extension where core 1.6 has no way', () => {
    expect(map({ name: 'triggerMessage', message: 'SignStationCertificate' })).toEqual({ action: 'ExtendedTriggerMessage', payload: { requestedMessage: 'SignChargePointCertificate' } });
    expect(map({ name: 'triggerMessage', message: 'LogStatusNotification' }).payload).toEqual({ requestedMessage: 'DiagnosticsStatusNotification' });
    expect(map({ name: 'getLog', logType: 'diagnostics', remoteLocation: 'ftp://x/' }).action).toBe('GetDiagnostics');
    expect(map({ name: 'getLog', logType: 'security', remoteLocation: 'ftp://x/' }).payload).toMatchObject({ logType: 'SecurityLog', requestId: 4711 });
    expect(map({ name: 'updateFirmware', location: 'l', retrieveAt: '2025-03-02T02:00:00Z', signature: 's', signingCertificate: 'c' }).action).toBe('SignedUpdateFirmware');
  });
  it('sends JSON data as text, and a tx profile with the integer transaction id', () => {
    expect(map({ name: 'dataTransfer', vendorId: 'v', data: { a: 1 } }).payload).toEqual({ vendorId: 'v', data: '{"a":1}' });
    expect(map({ name: 'setChargingProfile', evseId: 1, chargingProfile: profile('tx', 'tx-1') }).payload).toMatchObject({
      connectorId: 1,
      csChargingProfiles: { chargingProfileId: 7, transactionId: 17, chargingProfilePurpose: 'TxProfile', chargingSchedule: { chargingRateUnit: 'W', duration: 3600 } },
    });
  });
});

describe('operation mapping: 2.0.1', () => {
  const map = (operation: StationOperation) => ocppRequestFor('ocpp2.0.1', operation, context);
  it('starts with the idToken and a remoteStartId from the operation id; stops by the station transaction id', () => {
    expect(map({ name: 'startCharging', evseId: 1, idToken: rfid })).toEqual({
      action: 'RequestStartTransaction',
      payload: { evseId: 1, idToken: rfid, remoteStartId: 4711 },
    });
    expect(map({ name: 'stopCharging', transactionId: 'tx-2' })).toEqual({ action: 'RequestStopTransaction', payload: { transactionId: 'station-tx-2' } });
  });
  it('addresses variables by the keys the station aggregate records', () => {
    expect(map({ name: 'readSettings', keys: ['EVSE@1/Power:MaxSet'] }).payload).toEqual({
      getVariableData: [{ component: { name: 'EVSE', evse: { id: 1 } }, variable: { name: 'Power' }, attributeType: 'MaxSet' }],
    });
    expect(map({ name: 'readSettings' })).toEqual({ action: 'GetBaseReport', payload: { requestId: 4711, reportBase: 'FullInventory' } });
  });
  it('leaves out the EVSE for the station itself', () => {
    expect(map({ name: 'changeAvailability', evseId: 0, availability: 'Inoperative' }).payload).toEqual({ operationalStatus: 'Inoperative' });
    expect(map({ name: 'unlockConnector', evseId: 2 }).payload).toEqual({ evseId: 2, connectorId: 1 });
  });
});

describe('helpers', () => {
  it('configuration keys round-trip through configurationKey', () => {
    for (const key of ['OCPPCommCtrlr/HeartbeatInterval', 'EVSE@1/Power:MaxSet', 'Connector[a]@1.2/Enabled[x]', 'SampledDataCtrlr/TxUpdatedInterval:Target']) {
      const address = parseConfigurationKey(key);
      expect(
        configurationKey({
          component: address.component.name,
          componentInstance: address.component.instance ?? null,
          evseId: address.component.evse?.id ?? null,
          connectorId: address.component.evse?.connectorId ?? null,
          variable: address.variable.name,
          variableInstance: address.variable.instance ?? null,
          attributeType: address.attributeType ?? null,
        }),
      ).toBe(key);
    }
    expect(() => parseConfigurationKey('HeartbeatInterval')).toThrow(InvalidCommandError);
    expect(() => parseConfigurationKey('A/B:Sometimes')).toThrow(InvalidCommandError);
  });
  it('request ids are positive 31-bit integers, the same for the same operation id', () => {
    const id = requestIdFor('op-1');
    expect(id).toBe(requestIdFor('op-1'));
    expect(id).toBeGreaterThan(0);
    expect(id).toBeLessThanOrEqual(0x7fffffff);
    expect(requestIdFor('op-2')).not.toBe(id);
  });
  it('knows which transactions an operation refers to', () => {
    expect(transactionIdsIn({ name: 'stopCharging', transactionId: 'tx-1' })).toEqual(['tx-1']);
    expect(transactionIdsIn({ name: 'setChargingProfile', evseId: 1, chargingProfile: profile('tx', 'tx-9') })).toEqual(['tx-9']);
    expect(transactionIdsIn({ name: 'reset', type: 'immediate' })).toEqual([]);
  });
});
