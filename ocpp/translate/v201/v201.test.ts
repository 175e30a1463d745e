import { describe, expect, it } from 'vitest';
import { stationEventsPerReportKeptMax } from '../../../domain/station/index.js';
import { energySoFarWh } from '../../../domain/transaction/state.js';
import { remoteStartStreamId } from '../../operations/remote-starts.js';
import { reservationStreamId } from '../../operations/reservations.js';
import { csmsUnderTest } from '../shared/test-support.js';
import { loadTransaction } from '../shared/transaction-lookup.js';
import { transactionAggregateId201 } from './transaction-event.js';

const boot = { chargingStation: { vendorName: 'ACME', model: 'Fast-2', serialNumber: 'SN2', firmwareVersion: '2.0' }, reason: 'PowerUp' };
const at = (minute: number) => `2025-06-01T11:${String(minute).padStart(2, '0')}:00.000Z`;
const tag = { idToken: 'TAG1', type: 'ISO14443' };
const register = (timestamp: string, wh: number, context = 'Sample.Periodic', unit = 'Wh', multiplier?: number) => ({
  timestamp,
  sampledValue: [
    { value: wh, context, measurand: 'Energy.Active.Import.Register', unitOfMeasure: multiplier === undefined ? { unit } : { unit, multiplier } },
  ],
});
const txEvent = (eventType: string, seqNo: number, timestamp: string, extra: Record<string, unknown> = {}) => ({
  eventType,
  timestamp,
  triggerReason: eventType === 'Started' ? 'Authorized' : eventType === 'Ended' ? 'StopAuthorized' : 'MeterValuePeriodic',
  seqNo,
  transactionInfo: { transactionId: 'TX-A' },
  ...extra,
});
const txStream = `transaction-t1-${transactionAggregateId201('CP-1', 'TX-A')}`;

describe('OCPP 2.0.1 translation: station messages', () => {
  it('BootNotification records vendor, model and reason; a repeat appends nothing and answers the same', async () => {
    const csms = csmsUnderTest('ocpp2.0.1');
    const answer = await csms.call('BootNotification', boot, { messageId: 'b1' });
    expect(answer).toEqual({ status: 'Accepted', currentTime: '2025-06-01T12:00:00.000Z', interval: 300 });
    expect(await csms.newEvents()).toEqual([
      { type: 'StationBooted', streamId: 'station-t1-CP-1', data: expect.objectContaining({ vendor: 'ACME', ocppVersion: '2.0.1', bootReason: 'PowerUp', bootStatus: 'Accepted' }) },
    ]);
    expect(await csms.call('BootNotification', boot, { messageId: 'b1' })).toEqual(answer);
    expect(await csms.newEvents()).toEqual([]);
  });

  it('Heartbeat answers the time; StatusNotification records the connector', async () => {
    const csms = csmsUnderTest('ocpp2.0.1');
    expect(await csms.call('Heartbeat', {})).toEqual({ currentTime: '2025-06-01T12:00:00.000Z' });
    const status = { timestamp: at(1), connectorStatus: 'Occupied', evseId: 1, connectorId: 2 };
    expect(await csms.call('StatusNotification', status, { messageId: 's1' })).toEqual({});
    expect((await csms.newEvents()).map((e) => [e.type, e.data.evseId, e.data.connectorId])).toEqual([
      ['ConnectorDeclared', 1, 2],
      ['ConnectorStatusChanged', 1, 2],
    ]);
    await csms.call('StatusNotification', status, { messageId: 's1' });
    expect(await csms.newEvents()).toEqual([]);
  });

  it('Authorize: idTokenInfo from token state; unknown tokens answered Unknown; NoAuthorization accepted unrecorded', async () => {
    const csms = csmsUnderTest('ocpp2.0.1');
    await csms.issueToken('TAG1', { groupId: 'FLEET' });
    expect(await csms.call('Authorize', { idToken: tag }, { messageId: 'a1' })).toEqual({
      idTokenInfo: { status: 'Accepted', groupIdToken: { idToken: 'FLEET', type: 'Central' } },
    });
    expect(await csms.call('Authorize', { idToken: tag }, { messageId: 'a1' })).toMatchObject({ idTokenInfo: { status: 'Accepted' } });
    expect(await csms.call('Authorize', { idToken: { idToken: 'NOBODY', type: 'eMAID' } })).toEqual({ idTokenInfo: { status: 'Unknown' } });
    expect(await csms.call('Authorize', { idToken: { idToken: '', type: 'NoAuthorization' } })).toEqual({ idTokenInfo: { status: 'Accepted' } });
    expect((await csms.newEvents()).map((e) => [e.type, e.data.result, e.data.idToken.type])).toEqual([
      ['TransactionAuthorized', 'Accepted', 'ISO14443'],
      ['TransactionAuthorized', 'Unknown', 'eMAID'],
    ]);
  });

  it('TransactionEvent Started: meter start from the Transaction.Begin register (kWh, multiplier), token authorized', async () => {
    const csms = csmsUnderTest('ocpp2.0.1');
    await csms.issueToken('TAG1');
    const started = txEvent('Started', 0, at(2), { idToken: tag, evse: { id: 1, connectorId: 1 }, meterValue: [register(at(2), 12, 'Transaction.Begin', 'kWh')] });
    const answer = await csms.call('TransactionEvent', started, { messageId: 't0' });
    expect(answer).toEqual({ idTokenInfo: { status: 'Accepted' } });
    expect(await csms.newEvents()).toEqual([
      { type: 'TransactionAuthorized', streamId: txStream, data: expect.objectContaining({ result: 'Accepted', evseId: 1 }) },
      {
        type: 'TransactionStarted',
        streamId: txStream,
        data: expect.objectContaining({ stationTransactionId: 'TX-A', evseId: 1, connectorId: 1, meterStartWh: '12000', idToken: tag }),
      },
      { type: 'MeterReadingRecorded', streamId: txStream, data: expect.objectContaining({ registerWh: '12000', late: false }) },
    ]);
    expect(await csms.call('TransactionEvent', started, { messageId: 't0' })).toEqual(answer);
    expect(await csms.call('TransactionEvent', started, { messageId: 't0-resent' })).toEqual(answer);
    expect(await csms.newEvents()).toEqual([]);
  });

  it('TransactionEvent: out-of-order and late offline messages are accepted; the decider flags late readings', async () => {
    const csms = csmsUnderTest('ocpp2.0.1');
    await csms.call('TransactionEvent', txEvent('Started', 0, at(2), { evse: { id: 1 }, meterValue: [register(at(2), 1000, 'Transaction.Begin')] }));
    await csms.call('TransactionEvent', txEvent('Updated', 2, at(20), { meterValue: [register(at(20), 3000)] }));
    // seqNo 1, queued while offline, arrives after seqNo 2.
    await csms.call('TransactionEvent', txEvent('Updated', 1, at(10), { offline: true, meterValue: [register(at(10), 2000, 'Sample.Periodic', 'Wh', 0)] }));
    await csms.call('TransactionEvent', txEvent('Ended', 4, at(40), { transactionInfo: { transactionId: 'TX-A', stoppedReason: 'EVDisconnected' }, meterValue: [register(at(40), 5000, 'Transaction.End')] }));
    // seqNo 3 after the end, sampled before it: recorded late.
    await csms.call('TransactionEvent', txEvent('Updated', 3, at(30), { offline: true, meterValue: [register(at(30), 4000)] }));
    const events = await csms.newEvents();
    expect(events.map((e) => [e.type, e.data.registerWh ?? e.data.meterStopWh ?? null, e.data.late ?? null])).toEqual([
      ['TransactionStarted', null, null],
      ['MeterReadingRecorded', '1000', false],
      ['MeterReadingRecorded', '3000', false],
      ['MeterReadingRecorded', '2000', true],
      ['MeterReadingRecorded', '5000', false],
      ['TransactionEnded', '5000', null],
      ['MeterReadingRecorded', '4000', true],
    ]);
    expect(events[5]?.data).toMatchObject({ reason: 'EVDisconnected', meterStopSource: 'station', suspicious: false });
  });

  it('TransactionEvent Ended without a Transaction.End register: the decider takes the latest reading; no reason is Local', async () => {
    const csms = csmsUnderTest('ocpp2.0.1');
    await csms.call('TransactionEvent', txEvent('Started', 0, at(2), { evse: { id: 1 }, meterValue: [register(at(2), 1000, 'Transaction.Begin')] }));
    await csms.call('TransactionEvent', txEvent('Updated', 1, at(10), { meterValue: [register(at(10), 2500)] }));
    await csms.call('TransactionEvent', txEvent('Ended', 2, at(20)));
    const ended = (await csms.newEvents()).at(-1);
    expect(ended).toMatchObject({ type: 'TransactionEnded', data: { meterStopWh: '2500', meterStopSource: 'lastReading', reason: 'Local' } });
  });

  it('TransactionEvent for a transaction never started is answered and recorded as a refusal; Started without evse is refused', async () => {
    const csms = csmsUnderTest('ocpp2.0.1');
    expect(await csms.call('TransactionEvent', txEvent('Updated', 5, at(10), { meterValue: [register(at(10), 10)] }))).toEqual({});
    expect(await csms.newEvents()).toEqual([
      {
        type: 'StationMessageRefused',
        streamId: 'station-t1-CP-1',
        data: expect.objectContaining({ action: 'TransactionEvent', reason: 'unknownTransaction', transactionId: 'TX-A', detail: expect.stringMatching(/reading 0: .*has not started/) }),
      },
    ]);
    await expect(csms.call('TransactionEvent', txEvent('Started', 0, at(2)))).rejects.toMatchObject({ code: 'OccurrenceConstraintViolation' });
  });

  it('MeterValues outside a transaction, firmware, log, security, reservation and charging-limit notifications are recorded on the station', async () => {
    const csms = csmsUnderTest('ocpp2.0.1');
    const now = '2025-06-01T12:00:00.000Z';
    expect(await csms.call('MeterValues', { evseId: 0, meterValue: [register(at(1), 5, 'Sample.Clock', 'kWh')] })).toEqual({});
    expect(await csms.call('FirmwareStatusNotification', { status: 'Installed', requestId: 3 })).toEqual({});
    expect(await csms.call('LogStatusNotification', { status: 'Uploaded' })).toEqual({});
    expect(await csms.call('SecurityEventNotification', { type: 'TamperDetectionActivated', timestamp: at(1) })).toEqual({});
    expect(await csms.call('ReservationStatusUpdate', { reservationId: 1, reservationUpdateStatus: 'Expired' })).toEqual({});
    const schedule = { id: 1, chargingRateUnit: 'W', chargingSchedulePeriod: [{ startPeriod: 0, limit: 1000 }] };
    expect(await csms.call('NotifyChargingLimit', { evseId: 1, chargingLimit: { chargingLimitSource: 'EMS', isGridCritical: true }, chargingSchedule: [schedule] })).toEqual({});
    expect(await csms.call('ClearedChargingLimit', { chargingLimitSource: 'EMS', evseId: 1 })).toEqual({});
    expect((await csms.newEvents()).map((e) => [e.type, e.data])).toEqual([
      ['StationMeterReadingRecorded', expect.objectContaining({ evseId: 0, sampledAt: at(1), registerWh: '5000' })],
      ['FirmwareStatusReported', { status: 'Installed', requestId: 3, reportedAt: now }],
      ['LogUploadStatusReported', { status: 'Uploaded', requestId: null, reportedAt: now }],
      ['SecurityEventReported', { eventType: 'TamperDetectionActivated', eventAt: at(1), techInfo: null }],
      ['ReservationStatusReported', { reservationId: 1, status: 'Expired', reportedAt: now }],
      ['ChargingLimitReported', { evseId: 1, chargingLimitSource: 'EMS', isGridCritical: true, cleared: false, chargingScheduleCount: 1, reportedAt: now }],
      ['ChargingLimitReported', { evseId: 1, chargingLimitSource: 'EMS', isGridCritical: null, cleared: true, chargingScheduleCount: 0, reportedAt: now }],
    ]);
    expect(csms.unrecorded).toEqual([]);
  });
  it('NotifyEvent: one bounded summary per message, the count and the first events', async () => {
    const csms = csmsUnderTest('ocpp2.0.1');
    const eventData = Array.from({ length: 25 }, (_, i) => ({
      eventId: i, timestamp: at(1), trigger: 'Alerting', actualValue: 'x'.repeat(2500), eventNotificationType: 'HardWiredNotification', component: { name: 'EVSE', evse: { id: 1 } }, variable: { name: 'Problem' },
    }));
    expect(await csms.call('NotifyEvent', { generatedAt: at(1), seqNo: 0, tbc: true, eventData })).toEqual({});
    const [event, ...rest] = await csms.newEvents();
    expect(rest).toEqual([]);
    expect(event).toMatchObject({ type: 'StationEventsReported', data: { generatedAt: at(1), seqNo: 0, tbc: true, eventCount: 25 } });
    expect(event!.data.events).toHaveLength(stationEventsPerReportKeptMax);
    expect(event!.data.events[0]).toMatchObject({ eventId: 0, key: 'EVSE@1/Problem', trigger: 'Alerting' });
    expect(JSON.stringify(event!.data).length).toBeLessThan(10_000);
  });
  it('other notifications are acknowledged and reported', async () => {
    const csms = csmsUnderTest('ocpp2.0.1');
    expect(await csms.call('ReportChargingProfiles', { requestId: 1, chargingLimitSource: 'CSO', evseId: 1, chargingProfile: [{ id: 1, stackLevel: 0, chargingProfilePurpose: 'TxDefaultProfile', chargingProfileKind: 'Absolute', chargingSchedule: [{ id: 1, chargingRateUnit: 'W', chargingSchedulePeriod: [{ startPeriod: 0, limit: 1000 }] }] }] })).toEqual({});
    expect(await csms.call('NotifyMonitoringReport', { requestId: 1, seqNo: 0, generatedAt: at(1) })).toEqual({});
    expect(await csms.call('NotifyEVChargingNeeds', { evseId: 1, chargingNeeds: { requestedEnergyTransfer: 'DC' } })).toEqual({ status: 'Rejected' });
    expect(await csms.call('SignCertificate', { csr: 'CSR' })).toEqual({ status: 'Rejected' });
    expect(await csms.call('DataTransfer', { vendorId: 'Other' })).toEqual({ status: 'UnknownVendorId' });
    expect(await csms.newEvents()).toEqual([]);
  });
  it('TransactionEvent Started without an energy register: meter start unknown, energy counts from the first register reading', async () => {
    const csms = csmsUnderTest('ocpp2.0.1');
    await csms.call('TransactionEvent', txEvent('Started', 0, at(2), { triggerReason: 'CablePluggedIn', evse: { id: 1 } }));
    await csms.call('TransactionEvent', txEvent('Updated', 1, at(10), { meterValue: [register(at(10), 123_456_000)] }));
    await csms.call('TransactionEvent', txEvent('Updated', 2, at(20), { offline: true, meterValue: [register(at(20), 123_459_000)] }));
    const events = await csms.newEvents();
    expect(events[0]).toMatchObject({ type: 'TransactionStarted', data: { meterStartWh: null, triggerReason: 'CablePluggedIn', seqNo: 0 } });
    expect(events[2]).toMatchObject({ type: 'MeterReadingRecorded', data: { registerWh: '123459000', triggerReason: 'MeterValuePeriodic', seqNo: 2, offline: true } });
    expect(csms.unrecorded).toEqual([]);
    const state = await loadTransaction(csms.eventStore, 't1', transactionAggregateId201('CP-1', 'TX-A'));
    expect(energySoFarWh(state).toFixed()).toBe('3000');
  });
  it('TransactionEvent chargingState is recorded once per change, with trigger and seqNo', async () => {
    const csms = csmsUnderTest('ocpp2.0.1');
    const info = (chargingState: string) => ({ transactionInfo: { transactionId: 'TX-A', chargingState } });
    await csms.call('TransactionEvent', txEvent('Started', 0, at(2), { evse: { id: 1 }, ...info('EVConnected') }));
    await csms.call('TransactionEvent', txEvent('Updated', 1, at(3), { triggerReason: 'ChargingStateChanged', ...info('Charging') }));
    await csms.call('TransactionEvent', txEvent('Updated', 2, at(10), info('Charging')));
    await csms.call('TransactionEvent', txEvent('Updated', 3, at(40), { triggerReason: 'ChargingStateChanged', ...info('SuspendedEV') }));
    const states = (await csms.newEvents()).filter((e) => e.type === 'ChargingStateChanged').map((e) => e.data);
    expect(states).toEqual([
      { state: 'EVConnected', changedAt: at(2), late: false, triggerReason: 'Authorized', seqNo: 0 },
      { state: 'Charging', changedAt: at(3), late: false, triggerReason: 'ChargingStateChanged', seqNo: 1 },
      { state: 'SuspendedEV', changedAt: at(40), late: false, triggerReason: 'ChargingStateChanged', seqNo: 3 },
    ]);
  });
  it('NotifyReport records the device model as configuration; a repeated report appends nothing', async () => {
    const csms = csmsUnderTest('ocpp2.0.1');
    const report = {
      requestId: 1,
      generatedAt: at(1),
      seqNo: 0,
      reportData: [
        { component: { name: 'OCPPCommCtrlr' }, variable: { name: 'HeartbeatInterval' }, variableAttribute: [{ value: '300', mutability: 'ReadWrite' }] },
        { component: { name: 'EVSE', evse: { id: 1 } }, variable: { name: 'Power' }, variableAttribute: [{ type: 'MaxSet', value: '22000', mutability: 'ReadOnly' }] },
      ],
    };
    expect(await csms.call('NotifyReport', report)).toEqual({});
    expect((await csms.newEvents()).map((e) => e.data)).toEqual([
      { key: 'OCPPCommCtrlr/HeartbeatInterval', value: '300', readonly: false },
      { key: 'EVSE@1/Power:MaxSet', value: '22000', readonly: true },
    ]);
    await csms.call('NotifyReport', report);
    expect(await csms.newEvents()).toEqual([]);
  });
});

describe('OCPP 2.0.1 translation: a full session', () => {
  it('boot, status, authorize, started, updated, ended: the expected events and energy', async () => {
    const csms = csmsUnderTest('ocpp2.0.1');
    await csms.issueToken('TAG1');
    await csms.handler.onConnected(csms.connection());
    await csms.call('BootNotification', boot);
    await csms.call('StatusNotification', { timestamp: at(0), connectorStatus: 'Available', evseId: 1, connectorId: 1 });
    await csms.call('Authorize', { idToken: tag });
    await csms.call('StatusNotification', { timestamp: at(1), connectorStatus: 'Occupied', evseId: 1, connectorId: 1 });
    await csms.call('TransactionEvent', txEvent('Started', 0, at(2), { idToken: tag, evse: { id: 1, connectorId: 1 }, meterValue: [register(at(2), 12_000, 'Transaction.Begin')] }));
    await csms.call('TransactionEvent', txEvent('Updated', 1, at(10), { transactionInfo: { transactionId: 'TX-A', chargingState: 'Charging' }, meterValue: [register(at(10), 14_000)] }));
    await csms.call('TransactionEvent', txEvent('Ended', 2, at(30), { idToken: tag, transactionInfo: { transactionId: 'TX-A', stoppedReason: 'Local' }, meterValue: [register(at(30), 19_250, 'Transaction.End')] }));
    await csms.call('StatusNotification', { timestamp: at(31), connectorStatus: 'Available', evseId: 1, connectorId: 1 });
    expect((await csms.newEvents()).map((e) => `${e.streamId.split('-')[0]}:${e.type}`)).toEqual([
      'station:StationConnected',
      'station:StationBooted',
      'station:ConnectorDeclared',
      'station:ConnectorStatusChanged',
      'transaction:TransactionAuthorized',
      'station:ConnectorStatusChanged',
      'transaction:TransactionAuthorized',
      'transaction:TransactionStarted',
      'transaction:MeterReadingRecorded',
      'transaction:ChargingStateChanged',
      'transaction:MeterReadingRecorded',
      // The Ended names a token of our own list: decided again (a block must reach the station).
      'transaction:TransactionAuthorized',
      'transaction:MeterReadingRecorded',
      'transaction:TransactionEnded',
      'station:ConnectorStatusChanged',
    ]);
    const state = await loadTransaction(csms.eventStore, 't1', transactionAggregateId201('CP-1', 'TX-A'));
    expect(state.status).toBe('ended');
    expect(energySoFarWh(state).toFixed()).toBe('7250');
  });
});

describe('OCPP 2.0.1 translation: a token blocked mid-session', () => {
  it('a token of our own list blocked after the start is answered Blocked when the station repeats it', async () => {
    const csms = csmsUnderTest('ocpp2.0.1');
    await csms.issueToken('TAG1');
    const started = await csms.call('TransactionEvent', txEvent('Started', 0, at(2), { idToken: tag, evse: { id: 1, connectorId: 1 }, meterValue: [register(at(2), 1000, 'Transaction.Begin')] }));
    expect(started).toEqual({ idTokenInfo: { status: 'Accepted' } });
    await csms.blockToken('TAG1');
    const updated = await csms.call('TransactionEvent', txEvent('Updated', 1, at(5), { idToken: tag, triggerReason: 'Authorized' }));
    expect(updated).toMatchObject({ idTokenInfo: { status: 'Blocked' } });
  });
});

describe('OCPP 2.0.1 translation: remote starts and how a transaction was authorized', () => {
  const remoteStartId = 4711;
  /** What the operation runner records before it sends RequestStartTransaction (ocpp/operations/run.ts). */
  const recordRemoteStart = (csms: ReturnType<typeof csmsUnderTest>) =>
    csms.bus.send({
      commandId: 'remote-start-op-201', tenantId: 't1', aggregateId: remoteStartStreamId('CP-1', { remoteStartId }), actor: 'partner:emsp',
      correlationId: 'c1', occurredAt: csms.clock.now().toISOString(),
      command: {
        type: 'RecordRemoteStart', operationId: 'op-201', stationId: 'CP-1', evseId: 1, idToken: tag, remoteStartId,
        authorizationReference: 'REF-201', requestedBy: 'partner:emsp', requestedAt: csms.clock.now().toISOString(),
      },
    });
  const authorizations = async (csms: ReturnType<typeof csmsUnderTest>) =>
    (await csms.all()).filter((event) => event.type === 'TransactionAuthorized').map((event) => event.data);

  it('Started with triggerReason RemoteStart and the remoteStartId claims the remote start: authorized by it with the eMSP reference', async () => {
    const csms = csmsUnderTest('ocpp2.0.1');
    await recordRemoteStart(csms);
    const started = txEvent('Started', 0, at(2), {
      triggerReason: 'RemoteStart', transactionInfo: { transactionId: 'TX-A', remoteStartId }, idToken: tag, evse: { id: 1, connectorId: 1 },
    });
    // A token we do not hold: the remote start authorized it, so the station is not told to stop.
    expect(await csms.call('TransactionEvent', started)).toEqual({ idTokenInfo: { status: 'Accepted' } });
    expect(await authorizations(csms)).toEqual([expect.objectContaining({ basis: 'remoteStart', authorizationReference: 'REF-201', remoteStartOperationId: 'op-201', idToken: tag })]);
  });

  it('cable first: the Updated that echoes the remoteStartId claims it, and records its token when the message names none', async () => {
    const csms = csmsUnderTest('ocpp2.0.1');
    await recordRemoteStart(csms);
    await csms.call('TransactionEvent', txEvent('Started', 0, at(1), { triggerReason: 'CablePluggedIn', evse: { id: 1, connectorId: 1 } }));
    const linked = txEvent('Updated', 1, at(2), { triggerReason: 'RemoteStart', transactionInfo: { transactionId: 'TX-A', remoteStartId } });
    expect(await csms.call('TransactionEvent', linked)).toEqual({});
    expect(await authorizations(csms)).toEqual([expect.objectContaining({ basis: 'remoteStart', authorizationReference: 'REF-201', idToken: tag, evseId: null })]);
    // Another station echoing the same number claims nothing.
    await csms.call('TransactionEvent', txEvent('Started', 0, at(3), { triggerReason: 'RemoteStart', transactionInfo: { transactionId: 'TX-B', remoteStartId }, evse: { id: 1 } }), { stationId: 'CP-2' });
    expect(await authorizations(csms)).toHaveLength(1);
  });

  it('an echoed remoteStartId with another token is no remote start: that token is authorized as any other, and the remote start stays open', async () => {
    const csms = csmsUnderTest('ocpp2.0.1');
    await recordRemoteStart(csms);
    const stranger = { idToken: 'STRANGER', type: 'ISO14443' };
    const foreign = txEvent('Started', 0, at(2), { triggerReason: 'RemoteStart', transactionInfo: { transactionId: 'TX-A', remoteStartId }, idToken: stranger, evse: { id: 1, connectorId: 1 } });
    expect(await csms.call('TransactionEvent', foreign)).toEqual({ idTokenInfo: { status: 'Unknown' } });
    expect(await authorizations(csms)).toEqual([expect.objectContaining({ basis: 'unknownTokenPolicy', result: 'Unknown', idToken: stranger })]);
    expect((await csms.all()).filter((event) => event.type === 'RemoteStartClaimed')).toEqual([]);
    // The remote start's own token (any case: idTokens are CiString) still claims it.
    const own = txEvent('Started', 0, at(3), { triggerReason: 'RemoteStart', transactionInfo: { transactionId: 'TX-B', remoteStartId }, idToken: { ...tag, idToken: tag.idToken.toLowerCase() }, evse: { id: 1, connectorId: 1 } });
    expect(await csms.call('TransactionEvent', own)).toEqual({ idTokenInfo: { status: 'Accepted' } });
    expect((await authorizations(csms)).at(-1)).toMatchObject({ basis: 'remoteStart', remoteStartOperationId: 'op-201' });
  });

  it('a station repeating the remoteStartId and token on later events keeps the remote start\'s Accepted: no re-ask, no downgrade, nothing new recorded', async () => {
    const csms = csmsUnderTest('ocpp2.0.1');
    await recordRemoteStart(csms);
    const linked = { transactionId: 'TX-A', remoteStartId };
    await csms.call('TransactionEvent', txEvent('Started', 0, at(2), { triggerReason: 'RemoteStart', transactionInfo: linked, idToken: tag, evse: { id: 1, connectorId: 1 } }));
    const updated = txEvent('Updated', 1, at(3), { triggerReason: 'ChargingStateChanged', transactionInfo: { ...linked, chargingState: 'Charging' }, idToken: tag });
    expect(await csms.call('TransactionEvent', updated)).toEqual({ idTokenInfo: { status: 'Accepted' } });
    // The id again without a token: the claim this transaction made, nothing to answer.
    expect(await csms.call('TransactionEvent', txEvent('Updated', 2, at(4), { transactionInfo: linked }))).toEqual({});
    const ended = txEvent('Ended', 3, at(5), { triggerReason: 'StopAuthorized', transactionInfo: { transactionId: 'TX-A', stoppedReason: 'Local' }, idToken: tag });
    expect(await csms.call('TransactionEvent', ended)).toEqual({ idTokenInfo: { status: 'Accepted' } });
    expect(await authorizations(csms)).toEqual([expect.objectContaining({ basis: 'remoteStart', result: 'Accepted' })]);
  });

  it('a claim whose authorization was never recorded (a crash in between) is found again by the next event of that transaction', async () => {
    const csms = csmsUnderTest('ocpp2.0.1');
    await recordRemoteStart(csms);
    const aggregateId = transactionAggregateId201('CP-1', 'TX-A');
    await csms.bus.send({
      commandId: 'claim-before-crash', tenantId: 't1', aggregateId: remoteStartStreamId('CP-1', { remoteStartId }), actor: 'station:CP-1', correlationId: 'c2',
      occurredAt: csms.clock.now().toISOString(),
      command: { type: 'ClaimRemoteStart', transactionId: aggregateId, stationId: 'CP-1', evseId: 1, idToken: tag, remoteStartId, claimedAt: csms.clock.now().toISOString() },
    });
    const started = txEvent('Started', 0, at(2), { triggerReason: 'RemoteStart', transactionInfo: { transactionId: 'TX-A', remoteStartId }, idToken: tag, evse: { id: 1, connectorId: 1 } });
    expect(await csms.call('TransactionEvent', started)).toEqual({ idTokenInfo: { status: 'Accepted' } });
    expect(await authorizations(csms)).toEqual([expect.objectContaining({ basis: 'remoteStart', remoteStartOperationId: 'op-201' })]);
    // Another transaction echoing the id is not given that claim.
    const other = txEvent('Started', 0, at(3), { triggerReason: 'RemoteStart', transactionInfo: { transactionId: 'TX-B', remoteStartId }, idToken: tag, evse: { id: 1, connectorId: 1 } });
    expect(await csms.call('TransactionEvent', other)).toEqual({ idTokenInfo: { status: 'Unknown' } });
  });

  it("a transaction using a reservation carries RESERVE_NOW's authorization_reference, unless its own authorization gave one", async () => {
    const reservation = (csms: ReturnType<typeof csmsUnderTest>, reservationId: number) =>
      csms.bus.send({
        commandId: `reservation-${reservationId}`, tenantId: 't1', aggregateId: reservationStreamId('CP-1', reservationId), actor: 'partner:emsp', correlationId: 'c3',
        occurredAt: csms.clock.now().toISOString(),
        command: {
          type: 'RecordReservation', operationId: `op-res-${reservationId}`, stationId: 'CP-1', reservationId, evseId: 1, idToken: tag, authorizationReference: 'RES-REF-1',
          expiresAt: '2025-06-01T13:00:00Z', requestedBy: 'partner:emsp', requestedAt: csms.clock.now().toISOString(),
        },
      });
    const csms = csmsUnderTest('ocpp2.0.1', { unknownTokenPolicy: 'accept' });
    await reservation(csms, 7);
    await csms.call('TransactionEvent', txEvent('Started', 0, at(2), { idToken: tag, reservationId: 7, evse: { id: 1, connectorId: 1 } }));
    expect(await authorizations(csms)).toEqual([expect.objectContaining({ result: 'Accepted', authorizationReference: 'RES-REF-1' })]);
    // The eMSP answering in real time with a reference of its own: that one (the later authorization).
    const realtime = csmsUnderTest('ocpp2.0.1', { realtimeAuthorizer: async () => ({ allowed: 'ALLOWED', authorizationReference: 'RT-1' }) });
    await reservation(realtime, 7);
    await realtime.call('TransactionEvent', txEvent('Started', 0, at(2), { idToken: tag, reservationId: 7, evse: { id: 1, connectorId: 1 } }));
    expect(await authorizations(realtime)).toEqual([expect.objectContaining({ basis: 'realtime', authorizationReference: 'RT-1' })]);
  });

  it('a token this transaction accepted in real time is not asked about again when the station repeats it', async () => {
    let asked = 0;
    const csms = csmsUnderTest('ocpp2.0.1', { realtimeAuthorizer: async () => (asked += 1, { allowed: 'ALLOWED', authorizationReference: 'RT-1' }) });
    await csms.call('TransactionEvent', txEvent('Started', 0, at(2), { idToken: tag, evse: { id: 1, connectorId: 1 } }));
    expect(await csms.call('TransactionEvent', txEvent('Updated', 1, at(3), { idToken: tag }))).toEqual({ idTokenInfo: { status: 'Accepted' } });
    expect(asked).toBe(1);
    // Another token (a card presented to stop) is decided on its own.
    await csms.call('TransactionEvent', txEvent('Ended', 2, at(4), { idToken: { idToken: 'OTHER', type: 'ISO14443' } }));
    expect(asked).toBe(2);
  });

  it('Authorize of the remote start\'s token (AuthorizeRemoteStart) is Accepted while it is open, found by its copy by token', async () => {
    const csms = csmsUnderTest('ocpp2.0.1');
    await recordRemoteStart(csms);
    // What the operation runner records besides (ocpp/operations/remote-starts.ts tokenStreamId).
    await csms.bus.send({
      commandId: 'remote-start-op-201-by-token', tenantId: 't1', aggregateId: remoteStartStreamId('CP-1', { idTag: tag.idToken }), actor: 'partner:emsp',
      correlationId: 'c1', occurredAt: csms.clock.now().toISOString(),
      command: {
        type: 'RecordRemoteStart', operationId: 'op-201', stationId: 'CP-1', evseId: 1, idToken: tag, remoteStartId,
        authorizationReference: 'REF-201', requestedBy: 'partner:emsp', requestedAt: csms.clock.now().toISOString(),
      },
    });
    expect(await csms.call('Authorize', { idToken: tag })).toEqual({ idTokenInfo: { status: 'Accepted' } });
    expect(await authorizations(csms)).toEqual([expect.objectContaining({ basis: 'remoteStart', authorizationReference: 'REF-201', remoteStartOperationId: 'op-201' })]);
    // Claimed (its status is in the remoteStartId's stream): Authorize is back to our token list.
    await csms.call('TransactionEvent', txEvent('Started', 0, at(2), { triggerReason: 'RemoteStart', transactionInfo: { transactionId: 'TX-A', remoteStartId }, idToken: tag, evse: { id: 1, connectorId: 1 } }));
    expect(await csms.call('Authorize', { idToken: tag })).toEqual({ idTokenInfo: { status: 'Unknown' } });
  });
});
