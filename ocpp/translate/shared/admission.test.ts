import { describe, expect, it } from 'vitest';
import { createCsmsOcppHandler } from '../../csms-handler.js';
import { memoryTransactionIdAllocator, type TransactionIdAllocator } from '../../transaction-ids.js';
import { openMemoryEventStore } from '../../../adapters/event-store/memory.js';
import type { EventStore } from '../../../adapters/event-store/port.js';
import { allowedFor, createAdmissionControl, standingOf, stationStandingsRememberedMax } from './admission.js';
import { Translation, type TranslatorDeps } from './context.js';
import { csmsUnderTest } from './test-support.js';

const boot16 = { chargePointVendor: 'ACME', chargePointModel: 'Fast-1' };
const boot201 = { chargingStation: { vendorName: 'ACME', model: 'Fast-2' }, reason: 'PowerUp' };
const at = '2025-06-01T11:00:00.000Z';
const energy16 = [{ timestamp: at, sampledValue: [{ value: '10', measurand: 'Energy.Active.Import.Register', unit: 'Wh' }] }];

/** Counts what a refused CALL must not do: allocate a 1.6 transaction id. */
function countingAllocator(): TransactionIdAllocator & { allocated: number } {
  const inner = memoryTransactionIdAllocator();
  const counting = {
    allocated: 0,
    idFor: (tenantId: string, startKey: string) => {
      counting.allocated += 1;
      return inner.idFor(tenantId, startKey);
    },
  };
  return counting;
}

describe('admission: what a station may send before it is accepted (1.6 §4.2, 2.0.1 B02/B03)', () => {
  it('standings and what each allows', () => {
    expect(standingOf('pending', null)).toBe('unauthenticated');
    expect(standingOf('pending', 'Pending')).toBe('unauthenticated');
    expect(standingOf('accepted', null)).toBe('accepted');
    expect(standingOf('accepted', 'Pending')).toBe('pending');
    expect(standingOf('accepted', 'Rejected')).toBe('rejected');
    expect(allowedFor('unauthenticated', 'Heartbeat')).toBe(true);
    expect(allowedFor('unauthenticated', 'StatusNotification')).toBe(false);
    expect(allowedFor('pending', 'StatusNotification')).toBe(true);
    expect(allowedFor('pending', 'NotifyReport')).toBe(true);
    expect(allowedFor('pending', 'MeterValues')).toBe(false);
    expect(allowedFor('rejected', 'Heartbeat')).toBe(false);
  });

  it('an unauthenticated 1.6 station: boot recorded once per connection, Heartbeat answered, everything else SecurityError and nothing recorded or allocated', async () => {
    const transactionIds = countingAllocator();
    const csms = csmsUnderTest('ocpp1.6', { registrationPolicy: { unknownStation: 'Pending' }, transactionIds });
    await csms.issueToken('TAG1');
    const pending = { admission: 'pending' as const, connectionId: 'c1' };
    expect(await csms.call('BootNotification', boot16, pending)).toMatchObject({ status: 'Pending', interval: 60 });
    expect((await csms.newEvents()).map((e) => [e.type, e.data.bootStatus])).toEqual([['StationBooted', 'Pending']]);
    // Another boot on the same connection, even with other content, is the same recorded boot.
    expect(await csms.call('BootNotification', { ...boot16, firmwareVersion: '9' }, pending)).toMatchObject({ status: 'Pending' });
    expect(await csms.call('Heartbeat', {}, pending)).toEqual({ currentTime: '2025-06-01T12:00:00.000Z' });
    const refused: [string, unknown][] = [
      ['Authorize', { idTag: 'TAG1' }],
      ['StartTransaction', { connectorId: 1, idTag: 'TAG1', meterStart: 0, timestamp: at }],
      ['MeterValues', { connectorId: 1, transactionId: 1, meterValue: energy16 }],
      ['StopTransaction', { meterStop: 10, timestamp: at, transactionId: 1 }],
      ['DataTransfer', { vendorId: 'ACME' }],
      ['StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Available', timestamp: at }],
      ['FirmwareStatusNotification', { status: 'Installed' }],
    ];
    for (const [action, payload] of refused) {
      await expect(csms.call(action, payload, pending), action).rejects.toMatchObject({ code: 'SecurityError' });
    }
    expect(await csms.newEvents()).toEqual([]);
    expect(transactionIds.allocated).toBe(0);
    // A new connection records its boot (the operator sees the station come back).
    await csms.call('BootNotification', boot16, { admission: 'pending', connectionId: 'c2' });
    expect((await csms.newEvents()).map((e) => e.type)).toEqual(['StationBooted']);
  });

  it('an unauthenticated 2.0.1 station: TransactionEvent, Authorize, MeterValues, DataTransfer get SecurityError; nothing recorded', async () => {
    const csms = csmsUnderTest('ocpp2.0.1', { registrationPolicy: { unknownStation: 'Pending' } });
    const pending = { admission: 'pending' as const };
    expect(await csms.call('BootNotification', boot201, pending)).toMatchObject({ status: 'Pending' });
    await csms.newEvents();
    expect(await csms.call('Heartbeat', {}, pending)).toMatchObject({ currentTime: expect.any(String) });
    const refused: [string, unknown][] = [
      ['Authorize', { idToken: { idToken: 'TAG1', type: 'ISO14443' } }],
      [
        'TransactionEvent',
        { eventType: 'Started', timestamp: at, triggerReason: 'Authorized', seqNo: 0, transactionInfo: { transactionId: 'TX-1' }, evse: { id: 1 } },
      ],
      ['MeterValues', { evseId: 0, meterValue: [{ timestamp: at, sampledValue: [{ value: 1 }] }] }],
      ['DataTransfer', { vendorId: 'ACME' }],
      ['NotifyReport', { requestId: 1, generatedAt: at, seqNo: 0 }],
    ];
    for (const [action, payload] of refused) {
      await expect(csms.call(action, payload, pending), action).rejects.toMatchObject({ code: 'SecurityError' });
    }
    expect(await csms.newEvents()).toEqual([]);
  });

  it('a registered station answered Pending is held the same way, across reconnects and a restarted CSMS, until a boot is Accepted', async () => {
    const policy = { unknownStation: 'Rejected' as const, registeredStation: 'Pending' as const };
    const csms = csmsUnderTest('ocpp1.6', { registrationPolicy: policy });
    await csms.bus.send({
      commandId: 'register-CP-1', tenantId: 't1', aggregateId: 'CP-1', actor: 'user:op', correlationId: 'r', occurredAt: at,
      command: { type: 'RegisterStation', stationId: 'CP-1', securityProfile: 0 },
    });
    expect(await csms.call('BootNotification', boot16, { connectionId: 'c1' })).toMatchObject({ status: 'Pending' });
    await csms.newEvents();
    const start = { connectorId: 1, idTag: 'TAG1', meterStart: 0, timestamp: at };
    await expect(csms.call('StartTransaction', start, { connectionId: 'c1' })).rejects.toMatchObject({ code: 'SecurityError' });
    // What the CSMS may ask for while provisioning is taken (and recorded: the station is authenticated).
    expect(await csms.call('StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Available', timestamp: at }, { connectionId: 'c1' })).toEqual({});
    expect((await csms.newEvents()).map((e) => e.type)).toEqual(['ConnectorDeclared', 'ConnectorStatusChanged']);

    // Another process (restart, or another node) learns the standing from the station's stream.
    const restarted = createCsmsOcppHandler({
      bus: csms.bus, eventStore: csms.eventStore, clock: csms.clock, transactionIds: memoryTransactionIdAllocator(), defaultTenantId: 't1',
      registrationPolicy: { unknownStation: 'Rejected' },
    });
    const ctx = { stationId: 'CP-1', ocppVersion: 'ocpp1.6' as const, messageId: 'x1', connectionId: 'c2', admission: 'accepted' as const };
    await expect(restarted.handleCall(ctx, 'StartTransaction', start)).rejects.toMatchObject({ code: 'SecurityError' });
    expect(await csms.newEvents()).toEqual([]);
    // Accepted now (the policy there accepts registered stations): the same station may charge.
    expect(await restarted.handleCall({ ...ctx, messageId: 'x2' }, 'BootNotification', boot16)).toMatchObject({ status: 'Accepted' });
    expect(await restarted.handleCall({ ...ctx, messageId: 'x3' }, 'StartTransaction', start)).toMatchObject({ transactionId: 1 });
  });

  it('a reboot with restarted message ids and the same payload is a new boot (new connection), a retry on the same connection is not', async () => {
    const csms = csmsUnderTest('ocpp1.6');
    await csms.call('BootNotification', boot16, { messageId: '1', connectionId: 'c1' });
    await csms.call('BootNotification', boot16, { messageId: '1', connectionId: 'c1' });
    expect((await csms.newEvents()).map((e) => e.type)).toEqual(['StationBooted']);
    await csms.call('BootNotification', boot16, { messageId: '1', connectionId: 'c2' });
    expect((await csms.newEvents()).map((e) => e.type)).toEqual(['StationBooted']);
  });

  it(`remembers at most ${stationStandingsRememberedMax} stations; one forgotten is read from its stream again, once per connection`, async () => {
    const store = openMemoryEventStore();
    let reads = 0;
    const counting: EventStore = Object.assign(Object.create(store) as EventStore, {
      readStream: (...args: Parameters<EventStore['readStream']>) => {
        reads += 1;
        return store.readStream(...args);
      },
    });
    const admission = createAdmissionControl(counting);
    const deps = { defaultTenantId: 't1' } as TranslatorDeps;
    const call = (stationId: string, action: string) =>
      new Translation(deps, { stationId, ocppVersion: 'ocpp1.6', messageId: 'm', connectionId: `socket-${stationId}`, admission: 'accepted' }, action, {});
    for (let i = 0; i <= stationStandingsRememberedMax; i += 1) admission.booted(call(`CP-${i}`, 'BootNotification'), 'Accepted');
    await admission.check(call(`CP-${stationStandingsRememberedMax}`, 'Authorize'));
    expect(reads).toBe(0);
    await admission.check(call('CP-0', 'Authorize')); // the least recently used: forgotten
    await admission.check(call('CP-0', 'Authorize'));
    expect(reads).toBe(1);
  });
});
