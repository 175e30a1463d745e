import { describe, expect, it } from 'vitest';
import { fixedClock } from '../../../adapters/clock/clock.js';
import { CommandBusOverloadedError, createCommandBus, type CommandBus } from '../../../commands/bus.js';
import type { RecordRemoteStart } from '../../../domain/station/remote-start/commands.js';
import { createCsmsOcppHandler } from '../../csms-handler.js';
import { remoteStartStreamId } from '../../operations/remote-starts.js';
import { memoryTransactionIdAllocator } from '../../transaction-ids.js';
import { OcppCallError } from '../../errors.js';
import { appendToggledToken } from '../../../test/support/token-streams.js';
import { csmsUnderTest } from '../shared/test-support.js';

const boot = { chargePointVendor: 'ACME', chargePointModel: 'Fast-1', chargePointSerialNumber: 'SN1', firmwareVersion: '1.0' };
const at = (minute: number) => `2025-06-01T11:${String(minute).padStart(2, '0')}:00.000Z`;
const energy = (wh: string, extra: Record<string, unknown> = {}) => ({ value: wh, measurand: 'Energy.Active.Import.Register', unit: 'Wh', ...extra });

describe('OCPP 1.6 translation: station messages', () => {
  it('BootNotification records the boot and answers by the registration policy; a repeat appends nothing, same answer', async () => {
    const csms = csmsUnderTest('ocpp1.6', { heartbeatIntervalSeconds: 120 });
    const answer = await csms.call('BootNotification', boot, { messageId: 'b1' });
    expect(answer).toEqual({ status: 'Accepted', currentTime: '2025-06-01T12:00:00.000Z', interval: 120 });
    expect(await csms.newEvents()).toEqual([
      {
        type: 'StationBooted',
        streamId: 'station-t1-CP-1',
        data: expect.objectContaining({ vendor: 'ACME', model: 'Fast-1', serialNumber: 'SN1', ocppVersion: '1.6', bootStatus: 'Accepted', registered: false }),
      },
    ]);
    expect(await csms.call('BootNotification', boot, { messageId: 'b1' })).toEqual(answer);
    expect(await csms.newEvents()).toEqual([]);
    // A later boot (new message id) is a new fact.
    await csms.call('BootNotification', boot, { messageId: 'b2' });
    expect((await csms.newEvents()).map((e) => e.type)).toEqual(['StationBooted']);
  });

  it('BootNotification: Rejected by a closed network, with the retry interval; then only BootNotification is answered', async () => {
    const csms = csmsUnderTest('ocpp1.6', { registrationPolicy: { unknownStation: 'Rejected' }, bootRetryIntervalSeconds: 30 });
    expect(await csms.call('BootNotification', boot)).toMatchObject({ status: 'Rejected', interval: 30 });
    await expect(csms.call('Heartbeat', {})).rejects.toMatchObject({ code: 'SecurityError' });
  });

  it('BootNotification: Pending for a station the handshake admitted as pending', async () => {
    const csms = csmsUnderTest('ocpp1.6');
    expect(await csms.call('BootNotification', boot, { admission: 'pending' })).toMatchObject({ status: 'Pending' });
  });

  it('Heartbeat answers the time and records nothing', async () => {
    const seen: string[] = [];
    const csms = csmsUnderTest('ocpp1.6', { onStationSeen: (_tenant, stationId) => seen.push(stationId) });
    expect(await csms.call('Heartbeat', {})).toEqual({ currentTime: '2025-06-01T12:00:00.000Z' });
    expect(await csms.newEvents()).toEqual([]);
    expect(seen).toEqual(['CP-1']);
  });

  it('StatusNotification: connector 0 is the station, connector n is EVSE n connector 1', async () => {
    const csms = csmsUnderTest('ocpp1.6');
    expect(await csms.call('StatusNotification', { connectorId: 0, errorCode: 'NoError', status: 'Available', timestamp: at(1) })).toEqual({});
    const status = { connectorId: 2, errorCode: 'GroundFailure', status: 'Faulted', info: 'rcd', timestamp: at(2) };
    await csms.call('StatusNotification', status, { messageId: 's2' });
    expect(await csms.newEvents()).toEqual([
      { type: 'StationStatusChanged', streamId: 'station-t1-CP-1', data: expect.objectContaining({ status: 'Available', errorCode: null }) },
      { type: 'ConnectorDeclared', streamId: 'station-t1-CP-1', data: { evseId: 2, connectorId: 1, connectorType: null, source: 'status' } },
      {
        type: 'ConnectorStatusChanged',
        streamId: 'station-t1-CP-1',
        data: expect.objectContaining({ evseId: 2, connectorId: 1, status: 'Faulted', errorCode: 'GroundFailure', info: 'rcd', statusAt: at(2) }),
      },
    ]);
    expect(await csms.call('StatusNotification', status, { messageId: 's2' })).toEqual({});
    expect(await csms.newEvents()).toEqual([]);
  });

  it('Authorize: idTagInfo from token state, recorded as TransactionAuthorized; a repeat answers the same', async () => {
    const csms = csmsUnderTest('ocpp1.6');
    await csms.issueToken('TAG1', { validUntil: '2026-01-01T00:00:00Z', groupId: 'FLEET' });
    const answer = await csms.call('Authorize', { idTag: 'TAG1' }, { messageId: 'a1' });
    expect(answer).toEqual({ idTagInfo: { status: 'Accepted', expiryDate: '2026-01-01T00:00:00.000Z', parentIdTag: 'FLEET' } });
    const events = await csms.newEvents();
    expect(events).toEqual([
      {
        type: 'TransactionAuthorized',
        streamId: expect.stringMatching(/^transaction-t1-/),
        data: { stationId: 'CP-1', evseId: null, idToken: { idToken: 'TAG1', type: 'ISO14443' }, result: 'Accepted', authorizedAt: '2025-06-01T12:00:00.000Z', basis: 'token' },
      },
    ]);
    // Blocked since, but the repeated CALL gets the answer it got then, and nothing is appended.
    await csms.blockToken('TAG1');
    expect(await csms.call('Authorize', { idTag: 'TAG1' }, { messageId: 'a1' })).toEqual(answer);
    expect(await csms.newEvents()).toEqual([]);
    expect(await csms.call('Authorize', { idTag: 'TAG1' }, { messageId: 'a2' })).toEqual({ idTagInfo: { status: 'Blocked' } });
  });

  it('Authorize of a token whose eMSP toggled it 5,000 times (10,001 events) is decided from its whole stream, not an error', async () => {
    const csms = csmsUnderTest('ocpp1.6');
    await appendToggledToken(csms.eventStore, 'token-t1-TOGGLED', 'TOGGLED', 5_000);
    // ALLOWED and no eMSP wired to ask: our copy decides (valid again after the last toggle).
    expect(await csms.call('Authorize', { idTag: 'TOGGLED' })).toEqual({ idTagInfo: { status: 'Accepted' } });
  });

  it('Authorize: an unknown token follows the policy (reject: Invalid, recorded Unknown; accept: Accepted)', async () => {
    const rejecting = csmsUnderTest('ocpp1.6');
    expect(await rejecting.call('Authorize', { idTag: 'NOBODY' })).toEqual({ idTagInfo: { status: 'Invalid' } });
    expect((await rejecting.newEvents())[0]?.data).toMatchObject({ result: 'Unknown', basis: 'unknownTokenPolicy' });
    const accepting = csmsUnderTest('ocpp1.6', { unknownTokenPolicy: 'accept' });
    expect(await accepting.call('Authorize', { idTag: 'NOBODY' })).toEqual({ idTagInfo: { status: 'Accepted' } });
    // Accepted by policy, not by a token: told apart from a known token's acceptance.
    expect((await accepting.newEvents())[0]?.data).toMatchObject({ result: 'Accepted', basis: 'unknownTokenPolicy' });
  });

  it('StartTransaction assigns an integer id; a retry under the same or a new message id gets the same id and appends nothing', async () => {
    const csms = csmsUnderTest('ocpp1.6');
    await csms.issueToken('TAG1');
    const start = { connectorId: 1, idTag: 'TAG1', meterStart: 1000, timestamp: at(5) };
    const answer = await csms.call('StartTransaction', start, { messageId: 'st1' });
    expect(answer).toEqual({ transactionId: 1, idTagInfo: { status: 'Accepted' } });
    expect(await csms.newEvents()).toEqual([
      { type: 'TransactionAuthorized', streamId: 'transaction-t1-1', data: expect.objectContaining({ result: 'Accepted', evseId: 1 }) },
      {
        type: 'TransactionStarted',
        streamId: 'transaction-t1-1',
        data: expect.objectContaining({ transactionId: '1', stationTransactionId: '1', stationId: 'CP-1', evseId: 1, connectorId: 1, meterStartWh: '1000', startedAt: at(5) }),
      },
    ]);
    expect(await csms.call('StartTransaction', start, { messageId: 'st1' })).toEqual(answer);
    expect(await csms.call('StartTransaction', start, { messageId: 'st1-after-reconnect' })).toEqual(answer);
    expect(await csms.newEvents()).toEqual([]);
    const second = await csms.call('StartTransaction', { ...start, connectorId: 2 });
    expect(second.transactionId).toBe(2);
  });

  it('StartTransaction with a refused token still starts (the station stops it) and answers Invalid', async () => {
    const csms = csmsUnderTest('ocpp1.6');
    const answer = await csms.call('StartTransaction', { connectorId: 1, idTag: 'NOBODY', meterStart: 0, timestamp: at(5) });
    expect(answer).toEqual({ transactionId: 1, idTagInfo: { status: 'Invalid' } });
    expect((await csms.newEvents()).map((e) => e.type)).toEqual(['TransactionAuthorized', 'TransactionStarted']);
  });

  it('MeterValues: every measurand, phase and unit kept; the register from Wh or kWh; signed data verbatim', async () => {
    const csms = csmsUnderTest('ocpp1.6');
    await csms.call('StartTransaction', { connectorId: 1, idTag: 'T', meterStart: 1000, timestamp: at(5) });
    await csms.newEvents();
    const signed = '<?xml version="1.0"?><signedMeterValue>OCMF|{...}|{"SA":"ECDSA"}</signedMeterValue>';
    const payload = {
      connectorId: 1,
      transactionId: 1,
      meterValue: [
        {
          timestamp: at(10),
          sampledValue: [
            { value: '1.5', measurand: 'Energy.Active.Import.Register', unit: 'kWh', context: 'Sample.Periodic' },
            { value: '16.1', measurand: 'Current.Import', phase: 'L1', unit: 'A' },
            { value: '230', measurand: 'Voltage', phase: 'L1-N', unit: 'V' },
            { value: signed, format: 'SignedData', context: 'Sample.Periodic' },
          ],
        },
        { timestamp: at(11), sampledValue: [{ value: '1600' }] },
      ],
    };
    expect(await csms.call('MeterValues', payload, { messageId: 'mv1' })).toEqual({});
    const events = await csms.newEvents();
    expect(events.map((e) => e.type)).toEqual(['MeterReadingRecorded', 'MeterReadingRecorded']);
    expect(events[0]?.data).toMatchObject({
      sampledAt: at(10),
      registerWh: '1500',
      signedData: signed,
      suspicious: false,
      late: false,
      sampledValues: [
        { value: '1.5', measurand: 'Energy.Active.Import.Register', unit: 'kWh', context: 'Sample.Periodic', phase: null },
        { value: '16.1', measurand: 'Current.Import', phase: 'L1', unit: 'A' },
        { value: '230', measurand: 'Voltage', phase: 'L1-N', unit: 'V' },
        { value: '(signed)', context: 'Sample.Periodic' },
      ],
    });
    // Defaults (§7.43): measurand Energy.Active.Import.Register, unit Wh.
    expect(events[1]?.data).toMatchObject({ registerWh: '1600' });
    expect(await csms.call('MeterValues', payload, { messageId: 'mv1' })).toEqual({});
    expect(await csms.newEvents()).toEqual([]);
  });

  it('MeterValues outside a transaction are recorded on the station: connector 0 the main meter, n EVSE n', async () => {
    const csms = csmsUnderTest('ocpp1.6');
    const meterValue = [{ timestamp: at(6), sampledValue: [energy('123456'), { value: '230', measurand: 'Voltage', unit: 'V' }] }];
    expect(await csms.call('MeterValues', { connectorId: 0, meterValue }, { messageId: 'mv0' })).toEqual({});
    expect(await csms.newEvents()).toEqual([
      {
        type: 'StationMeterReadingRecorded',
        streamId: 'station-t1-CP-1',
        data: expect.objectContaining({ evseId: 0, sampledAt: at(6), registerWh: '123456', sampledValues: [expect.anything(), expect.objectContaining({ measurand: 'Voltage' })] }),
      },
    ]);
    // A retry under a new message id (after a reconnect) appends nothing.
    await csms.call('MeterValues', { connectorId: 0, meterValue }, { messageId: 'mv0-again' });
    expect(await csms.newEvents()).toEqual([]);
  });

  it("MeterValues for an unknown transaction is answered and recorded as a refusal; another station's transaction gets SecurityError, recorded too", async () => {
    const csms = csmsUnderTest('ocpp1.6');
    await csms.call('StartTransaction', { connectorId: 1, idTag: 'T', meterStart: 0, timestamp: at(5) }, { stationId: 'CP-2' });
    await csms.newEvents();
    const meterValue = [{ timestamp: at(6), sampledValue: [energy('10')] }];
    const refused = (reason: string, action: string, transactionId: string, detail: RegExp) => ({
      type: 'StationMessageRefused',
      streamId: 'station-t1-CP-1',
      data: { action, messageId: expect.any(String), reason, transactionId, detail: expect.stringMatching(detail), refusedAt: '2025-06-01T12:00:00.000Z' },
    });
    expect(await csms.call('MeterValues', { connectorId: 1, transactionId: 99, meterValue })).toEqual({});
    await expect(csms.call('MeterValues', { connectorId: 1, transactionId: 1, meterValue })).rejects.toMatchObject({ code: 'SecurityError' });
    await expect(csms.call('StopTransaction', { meterStop: 10, timestamp: at(7), transactionId: 1 })).rejects.toMatchObject({ code: 'SecurityError' });
    expect(await csms.newEvents()).toEqual([
      refused('unknownTransaction', 'MeterValues', '99', /reading 0: .*has not started/),
      refused('foreignTransaction', 'MeterValues', '1', /reading 0: .*belongs to another station/),
      refused('foreignTransaction', 'StopTransaction', '1', /stop: .*belongs to another station/),
    ]);
    // Once per (reason, message, transaction): the station retrying or flooding appends nothing more.
    expect(await csms.call('MeterValues', { connectorId: 1, transactionId: 99, meterValue: [{ timestamp: at(8), sampledValue: [energy('20')] }] })).toEqual({});
    await expect(csms.call('StopTransaction', { meterStop: 11, timestamp: at(9), transactionId: 1 })).rejects.toMatchObject({ code: 'SecurityError' });
    expect(await csms.newEvents()).toEqual([]);
  });

  it('refusals are recorded at most 20 a minute per station; beyond that nothing is acknowledged (GenericError, retry later)', async () => {
    const csms = csmsUnderTest('ocpp1.6');
    const meterValues = (transactionId: number) => ({ connectorId: 1, transactionId, meterValue: [{ timestamp: at(6), sampledValue: [energy('10')] }] });
    for (let transactionId = 100; transactionId < 120; transactionId += 1) expect(await csms.call('MeterValues', meterValues(transactionId))).toEqual({});
    expect(await csms.newEvents()).toHaveLength(20);
    await expect(csms.call('MeterValues', meterValues(120))).rejects.toMatchObject({ code: 'GenericError', message: expect.stringMatching(/more than 20 refused messages/) });
    expect(await csms.newEvents()).toEqual([]);
    // Known refusals are still acknowledged: they are in the log already.
    expect(await csms.call('MeterValues', meterValues(100))).toEqual({});
  });

  it('StatusNotification during a transaction records its charging state; Finishing is EVConnected (parking)', async () => {
    const csms = csmsUnderTest('ocpp1.6');
    const { transactionId } = await csms.call('StartTransaction', { connectorId: 2, idTag: 'T', meterStart: 0, timestamp: at(5) });
    await csms.newEvents();
    const status = (value: string, minute: number) => csms.call('StatusNotification', { connectorId: 2, errorCode: 'NoError', status: value, timestamp: at(minute) });
    await status('Charging', 6);
    await status('SuspendedEV', 20);
    await status('Finishing', 30);
    const states = (await csms.newEvents()).filter((e) => e.type === 'ChargingStateChanged');
    expect(states).toEqual([
      { type: 'ChargingStateChanged', streamId: `transaction-t1-${transactionId}`, data: { state: 'Charging', changedAt: at(6), late: false } },
      { type: 'ChargingStateChanged', streamId: `transaction-t1-${transactionId}`, data: { state: 'SuspendedEV', changedAt: at(20), late: false } },
      { type: 'ChargingStateChanged', streamId: `transaction-t1-${transactionId}`, data: { state: 'EVConnected', changedAt: at(30), late: false } },
    ]);
    // After the stop the connector has no transaction: nothing to record, and no CALLERROR.
    await csms.call('StopTransaction', { meterStop: 10, timestamp: at(31), transactionId });
    await status('Charging', 40);
    expect((await csms.newEvents()).map((e) => e.type)).toEqual(['TransactionEnded', 'ConnectorStatusChanged']);
    expect(csms.unrecorded.at(-1)?.why).toMatch(/no running transaction known on connector 2/);
  });

  it('StopTransaction ends with transactionData, reason and idTag; a repeat appends nothing and answers the same', async () => {
    const csms = csmsUnderTest('ocpp1.6');
    await csms.issueToken('TAG1');
    await csms.call('StartTransaction', { connectorId: 1, idTag: 'TAG1', meterStart: 1000, timestamp: at(5) });
    await csms.newEvents();
    const stop = {
      idTag: 'TAG1',
      meterStop: 5000,
      timestamp: at(30),
      transactionId: 1,
      reason: 'EVDisconnected',
      transactionData: [{ timestamp: at(20), sampledValue: [energy('3000', { context: 'Sample.Periodic' })] }],
    };
    const answer = await csms.call('StopTransaction', stop, { messageId: 'stop1' });
    expect(answer).toEqual({ idTagInfo: { status: 'Accepted' } });
    expect(await csms.newEvents()).toEqual([
      { type: 'MeterReadingRecorded', streamId: 'transaction-t1-1', data: expect.objectContaining({ registerWh: '3000', sampledAt: at(20) }) },
      {
        type: 'TransactionEnded',
        streamId: 'transaction-t1-1',
        data: { meterStopWh: '5000', meterStopSource: 'station', endedAt: at(30), reason: 'EVDisconnected', stoppedBy: { idToken: 'TAG1', type: 'ISO14443' }, suspicious: false },
      },
    ]);
    expect(await csms.call('StopTransaction', stop, { messageId: 'stop1' })).toEqual(answer);
    expect(await csms.call('StopTransaction', stop, { messageId: 'stop1-again' })).toEqual(answer);
    expect(await csms.newEvents()).toEqual([]);
  });

  it('StopTransaction: no reason is Local; no idTag, no idTagInfo; other facts for an ended transaction are answered and recorded as a refusal', async () => {
    const csms = csmsUnderTest('ocpp1.6');
    await csms.call('StartTransaction', { connectorId: 1, idTag: 'T', meterStart: 0, timestamp: at(5) });
    expect(await csms.call('StopTransaction', { meterStop: 10, timestamp: at(6), transactionId: 1 })).toEqual({});
    expect((await csms.newEvents()).at(-1)?.data.reason).toBe('Local');
    expect(await csms.call('StopTransaction', { meterStop: 20, timestamp: at(7), transactionId: 1 })).toEqual({});
    expect(await csms.newEvents()).toEqual([
      {
        type: 'StationMessageRefused',
        streamId: 'station-t1-CP-1',
        data: expect.objectContaining({ action: 'StopTransaction', reason: 'stateConflict', transactionId: '1', detail: expect.stringMatching(/already ended with other facts/) }),
      },
    ]);
  });

  it('DataTransfer: UnknownVendorId unless a vendor handler is registered', async () => {
    const csms = csmsUnderTest('ocpp1.6', {
      dataTransferHandlers: { ACME: async (_station, request) => ({ status: 'Accepted', data: `echo ${String(request.data)}` }) },
    });
    expect(await csms.call('DataTransfer', { vendorId: 'Other' })).toEqual({ status: 'UnknownVendorId' });
    expect(await csms.call('DataTransfer', { vendorId: 'ACME', messageId: 'x', data: 'hi' })).toEqual({ status: 'Accepted', data: 'echo hi' });
  });

  it('firmware, diagnostics, log and security notifications are recorded on the station', async () => {
    const csms = csmsUnderTest('ocpp1.6');
    expect(await csms.call('FirmwareStatusNotification', { status: 'Installed' })).toEqual({});
    expect(await csms.call('DiagnosticsStatusNotification', { status: 'Uploaded' })).toEqual({});
    expect(await csms.call('SignedFirmwareStatusNotification', { status: 'InvalidSignature', requestId: 1 })).toEqual({});
    expect(await csms.call('LogStatusNotification', { status: 'Uploaded', requestId: 2 })).toEqual({});
    expect(await csms.call('SecurityEventNotification', { type: 'TamperDetectionActivated', timestamp: at(1), techInfo: 'lid open' })).toEqual({});
    const now = '2025-06-01T12:00:00.000Z';
    expect((await csms.newEvents()).map((e) => [e.type, e.streamId, e.data])).toEqual([
      ['FirmwareStatusReported', 'station-t1-CP-1', { status: 'Installed', requestId: null, reportedAt: now }],
      ['LogUploadStatusReported', 'station-t1-CP-1', { status: 'Uploaded', requestId: null, reportedAt: now }],
      ['FirmwareStatusReported', 'station-t1-CP-1', { status: 'InvalidSignature', requestId: 1, reportedAt: now }],
      ['LogUploadStatusReported', 'station-t1-CP-1', { status: 'Uploaded', requestId: 2, reportedAt: now }],
      ['SecurityEventReported', 'station-t1-CP-1', { eventType: 'TamperDetectionActivated', eventAt: at(1), techInfo: 'lid open' }],
    ]);
    expect(csms.unrecorded).toEqual([]);
  });

  it('SignCertificate: Rejected without a CA, Accepted when the CA hook takes the CSR', async () => {
    expect(await csmsUnderTest('ocpp1.6').call('SignCertificate', { csr: 'CSR' })).toEqual({ status: 'Rejected' });
    const csrs: string[] = [];
    const csms = csmsUnderTest('ocpp1.6', { signCertificate: async ({ csr }) => (csrs.push(csr), true) });
    expect(await csms.call('SignCertificate', { csr: 'CSR' })).toEqual({ status: 'Accepted' });
    expect(csrs).toEqual(['CSR']);
  });

  it('domain refusals and overload map to CALLERRORs', async () => {
    const csms = csmsUnderTest('ocpp1.6');
    // Connector 0 cannot hold a transaction: InvalidCommandError → PropertyConstraintViolation.
    await expect(csms.call('StartTransaction', { connectorId: 0, idTag: 'T', meterStart: 0, timestamp: at(1) })).rejects.toMatchObject({
      code: 'PropertyConstraintViolation',
    });
    const busy: CommandBus = { pending: () => 10_000, send: async () => Promise.reject(new CommandBusOverloadedError(10_000)) };
    const overloaded = csmsUnderTest('ocpp1.6', { bus: busy });
    const refusal = overloaded.call('BootNotification', boot);
    await expect(refusal).rejects.toBeInstanceOf(OcppCallError);
    await expect(refusal).rejects.toMatchObject({ code: 'InternalError', description: expect.stringMatching(/busy/) });
  });

  it('onConnected / onDisconnected record the connection; a repeated close changes nothing', async () => {
    const csms = csmsUnderTest('ocpp1.6');
    const ctx = csms.connection();
    await csms.handler.onConnected(ctx);
    await csms.handler.onDisconnected(ctx, 'pingTimeout');
    await csms.handler.onDisconnected(ctx, 'pingTimeout');
    expect(await csms.newEvents()).toEqual([
      { type: 'StationConnected', streamId: 'station-t1-CP-1', data: { connectionId: 'socket-1', ocppVersion: '1.6', connectedAt: '2025-06-01T12:00:00.000Z' } },
      { type: 'StationDisconnected', streamId: 'station-t1-CP-1', data: { connectionId: 'socket-1', reason: 'pingTimeout', disconnectedAt: '2025-06-01T12:00:00.000Z' } },
    ]);
  });
});

describe('OCPP 1.6 translation: a full session', () => {
  it('boot, status, authorize, start, meter values, stop: the expected events and energy', async () => {
    const csms = csmsUnderTest('ocpp1.6');
    await csms.issueToken('TAG1');
    await csms.handler.onConnected(csms.connection());
    await csms.call('BootNotification', boot);
    await csms.call('StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Available', timestamp: at(0) });
    await csms.call('Authorize', { idTag: 'TAG1' });
    await csms.call('StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Preparing', timestamp: at(1) });
    const { transactionId } = await csms.call('StartTransaction', { connectorId: 1, idTag: 'TAG1', meterStart: 12_000, timestamp: at(2) });
    await csms.call('StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Charging', timestamp: at(2) });
    for (const [minute, wh] of [[10, '14000'], [20, '16500']] as const) {
      await csms.call('MeterValues', { connectorId: 1, transactionId, meterValue: [{ timestamp: at(minute), sampledValue: [energy(wh)] }] });
    }
    await csms.call('StopTransaction', { idTag: 'TAG1', meterStop: 19_250, timestamp: at(30), transactionId, reason: 'Local' });
    await csms.call('StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Available', timestamp: at(31) });
    expect((await csms.newEvents()).map((e) => `${e.streamId.split('-')[0]}:${e.type}`)).toEqual([
      'station:StationConnected',
      'station:StationBooted',
      'station:ConnectorDeclared',
      'station:ConnectorStatusChanged',
      'transaction:TransactionAuthorized',
      'station:ConnectorStatusChanged',
      'transaction:TransactionAuthorized',
      'transaction:TransactionStarted',
      'station:ConnectorStatusChanged',
      'transaction:ChargingStateChanged',
      'transaction:MeterReadingRecorded',
      'transaction:MeterReadingRecorded',
      'transaction:TransactionEnded',
      'station:ConnectorStatusChanged',
    ]);
    const { loadTransaction } = await import('../shared/transaction-lookup.js');
    const { energySoFarWh } = await import('../../../domain/transaction/state.js');
    const state = await loadTransaction(csms.eventStore, 't1', String(transactionId));
    expect(state.status).toBe('ended');
    expect(energySoFarWh(state).toFixed()).toBe('7250');
  });
});

describe('OCPP 1.6 translation: remote starts and how a start was authorized', () => {
  const appTag = 'APP-USER-1';
  /** What the operation runner records before it sends RemoteStartTransaction (ocpp/operations/run.ts). */
  const recordRemoteStart = (csms: ReturnType<typeof csmsUnderTest>, overrides: Partial<RecordRemoteStart> = {}) => {
    const command: RecordRemoteStart = {
      type: 'RecordRemoteStart', operationId: 'op-1', stationId: 'CP-1', evseId: 1, idToken: { idToken: appTag, type: 'Central' },
      remoteStartId: null, authorizationReference: 'REF-START-1', requestedBy: 'partner:emsp', requestedAt: csms.clock.now().toISOString(), ...overrides,
    };
    return csms.bus.send({
      commandId: `remote-start-${command.operationId}`, tenantId: 't1', aggregateId: remoteStartStreamId(command.stationId, { idTag: command.idToken.idToken }),
      actor: 'partner:emsp', correlationId: 'c1', occurredAt: command.requestedAt, command,
    });
  };
  const start = { connectorId: 1, idTag: appTag, meterStart: 1000, timestamp: at(5) };

  it('StartTransaction after a remote start claims it: authorized by it with the eMSP reference, Accepted though we hold no such token', async () => {
    const csms = csmsUnderTest('ocpp1.6');
    await recordRemoteStart(csms);
    await csms.newEvents();
    const answer = await csms.call('StartTransaction', start, { messageId: 'st1' });
    expect(answer).toEqual({ transactionId: 1, idTagInfo: { status: 'Accepted' } });
    expect(await csms.newEvents()).toEqual([
      { type: 'RemoteStartClaimed', streamId: expect.stringMatching(/^remoteStart-t1-/), data: expect.objectContaining({ operationId: 'op-1', transactionId: '1', authorizationReference: 'REF-START-1' }) },
      {
        type: 'TransactionAuthorized',
        streamId: 'transaction-t1-1',
        data: expect.objectContaining({ result: 'Accepted', basis: 'remoteStart', authorizationReference: 'REF-START-1', remoteStartOperationId: 'op-1' }),
      },
      { type: 'TransactionStarted', streamId: 'transaction-t1-1', data: expect.objectContaining({ transactionId: '1' }) },
    ]);
    // The station resending its start (new message id after a reconnect) gets the same answer; nothing new.
    expect(await csms.call('StartTransaction', start, { messageId: 'st1-again' })).toEqual(answer);
    expect(await csms.newEvents()).toEqual([]);
  });

  it('a restart between the remote start and the StartTransaction loses nothing: the remote start is in the event store', async () => {
    const before = csmsUnderTest('ocpp1.6');
    await recordRemoteStart(before);
    // A new process: its own bus, handler and id allocator over the same store, nothing in memory.
    const bus = createCommandBus({ eventStore: before.eventStore, clock: before.clock });
    const after = createCsmsOcppHandler({
      bus, eventStore: before.eventStore, clock: before.clock, transactionIds: memoryTransactionIdAllocator(), defaultTenantId: 't1', registrationPolicy: { unknownStation: 'Accepted' },
    });
    const answer = await after.handleCall({ stationId: 'CP-1', ocppVersion: 'ocpp1.6', messageId: 'st1', connectionId: 'socket-2', admission: 'accepted' }, 'StartTransaction', start);
    expect(answer).toMatchObject({ idTagInfo: { status: 'Accepted' } });
    const authorized = (await before.eventStore.readStream('transaction-t1-1'))[0]!;
    expect(authorized.data).toMatchObject({ basis: 'remoteStart', authorizationReference: 'REF-START-1' });
  });

  it('a start is local when the remote start is past its window, was for another connector, or is claimed already', async () => {
    const csms = csmsUnderTest('ocpp1.6', { clock: fixedClock('2025-06-01T12:16:00.000Z') });
    await csms.issueToken(appTag);
    await recordRemoteStart(csms, { requestedAt: '2025-06-01T12:00:00.000Z' });
    await recordRemoteStart(csms, { operationId: 'op-2', evseId: 2, requestedAt: '2025-06-01T12:15:00.000Z' });
    await csms.call('StartTransaction', start);
    const authorizations = async () => (await csms.all()).filter((event) => event.type === 'TransactionAuthorized').map((event) => event.data);
    // op-1 is 16 minutes old (the window is OCPI's 15), op-2 asked for connector 2: our token list decides.
    expect(await authorizations()).toEqual([expect.objectContaining({ basis: 'token', result: 'Accepted' })]);
    await csms.call('StartTransaction', { ...start, connectorId: 2 });
    await csms.call('StartTransaction', { ...start, connectorId: 2, timestamp: at(30) });
    expect((await authorizations()).map((data) => data.basis)).toEqual(['token', 'remoteStart', 'token']);
  });

  it('Authorize of a remote start\'s token (AuthorizeRemoteTxRequests) is Accepted by it, claiming nothing: the start that follows claims it', async () => {
    const csms = csmsUnderTest('ocpp1.6');
    await recordRemoteStart(csms);
    await csms.newEvents();
    // A token we do not hold; any case, as 1.6 idTags are.
    expect(await csms.call('Authorize', { idTag: appTag.toLowerCase() })).toEqual({ idTagInfo: { status: 'Accepted' } });
    expect((await csms.newEvents()).map((event) => [event.type, event.data])).toEqual([
      ['TransactionAuthorized', expect.objectContaining({ result: 'Accepted', basis: 'remoteStart', authorizationReference: 'REF-START-1', remoteStartOperationId: 'op-1' })],
    ]);
    expect(await csms.call('StartTransaction', start)).toEqual({ transactionId: 1, idTagInfo: { status: 'Accepted' } });
    expect((await csms.newEvents()).map((event) => event.type)).toEqual(['RemoteStartClaimed', 'TransactionAuthorized', 'TransactionStarted']);
    // Claimed now: the token is back to what our list says.
    expect(await csms.call('Authorize', { idTag: appTag })).toEqual({ idTagInfo: { status: 'Invalid' } });
  });

  it('Authorize is not answered from a remote start of another station, or one past the 15 minutes (OCPI 2.2.1 13.3.5)', async () => {
    const csms = csmsUnderTest('ocpp1.6', { clock: fixedClock('2025-06-01T12:15:01.000Z') });
    await recordRemoteStart(csms, { requestedAt: '2025-06-01T12:00:00.000Z' });
    await recordRemoteStart(csms, { operationId: 'op-2', stationId: 'CP-2', requestedAt: '2025-06-01T12:15:00.000Z' });
    expect(await csms.call('Authorize', { idTag: appTag })).toEqual({ idTagInfo: { status: 'Invalid' } });
    expect(await csms.call('Authorize', { idTag: appTag }, { stationId: 'CP-2' })).toEqual({ idTagInfo: { status: 'Accepted' } });
  });

  it('StartTransaction with a token the eMSP authorizes in real time records basis realtime with its authorization reference', async () => {
    const csms = csmsUnderTest('ocpp1.6', { realtimeAuthorizer: async () => ({ allowed: 'ALLOWED', authorizationReference: 'RT-REF-1' }) });
    expect(await csms.call('StartTransaction', { ...start, idTag: 'RT-CARD' })).toMatchObject({ idTagInfo: { status: 'Accepted' } });
    const authorized = (await csms.newEvents()).find((event) => event.type === 'TransactionAuthorized');
    expect(authorized?.data).toMatchObject({ basis: 'realtime', authorizationReference: 'RT-REF-1' });
  });

  it('the eMSP that authorized a start is recorded with it: the one that answered in real time, or whose START_SESSION it follows', async () => {
    const emp = { countryCode: 'DE', partyId: 'EMP' };
    const realtime = csmsUnderTest('ocpp1.6', { realtimeAuthorizer: async () => ({ allowed: 'ALLOWED', authorizingParty: emp }) });
    await realtime.call('StartTransaction', { ...start, idTag: 'RT-CARD' });
    expect((await realtime.newEvents()).find((event) => event.type === 'TransactionAuthorized')?.data).toMatchObject({ basis: 'realtime', authorizingParty: emp });
    const remote = csmsUnderTest('ocpp1.6');
    await recordRemoteStart(remote, { authorizingParty: emp });
    await remote.call('StartTransaction', start);
    const events = await remote.newEvents();
    expect(events.find((event) => event.type === 'RemoteStartClaimed')?.data).toMatchObject({ authorizingParty: emp });
    expect(events.find((event) => event.type === 'TransactionAuthorized')?.data).toMatchObject({ basis: 'remoteStart', authorizingParty: emp });
  });
});
