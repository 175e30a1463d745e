import { Decimal } from 'decimal.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fixedClock } from '../../adapters/clock/clock.js';
import { openMemoryEventStore } from '../../adapters/event-store/memory.js';
import type { EventStore } from '../../adapters/event-store/port.js';
import { createCommandBus, type CommandBus } from '../../commands/bus.js';
import { IllegalStateError, InvalidCommandError } from '../../domain/shared/errors.js';
import { startGateway, type TestGateway } from '../../test/ocpp/harness.js';
import type { CsmsCallHandler } from '../../test/support/station-simulator.js';
import { requestIdFor } from './mapping.js';
import { remoteStartStreamId } from './remote-starts.js';
import { reservationStreamId } from './reservations.js';
import { createStationOperations, type StationOperations } from './run.js';

/**
 * The real gateway (fastify + plugin, station simulators over WebSocket), the memory event store
 * and the command side: station-operation, remote-start and transaction commands through the bus.
 */

const at = '2025-03-01T12:00:00.000Z';
const accepted: CsmsCallHandler = () => ({ status: 'Accepted' });
const never: CsmsCallHandler = () => new Promise(() => {});

describe('station operations through the gateway', () => {
  let gateway: TestGateway;
  let eventStore: EventStore;
  let bus: CommandBus;
  let operations: StationOperations;
  const clock = fixedClock(at);
  const options = { actor: 'user:alice', correlationId: 'req-1' };

  beforeEach(async () => {
    gateway = await startGateway();
    eventStore = openMemoryEventStore();
    bus = createCommandBus({ eventStore, clock });
    operations = createStationOperations({ bus, caller: gateway.app.ocppStations, clock, tenantId: 't1', eventStore });
  });
  afterEach(() => gateway.close());

  const recorded = async (operationId: string) =>
    (await eventStore.readStream(`stationOperation-t1-${operationId}`)).map((event) => ({ type: event.type, data: event.data, actor: event.metadata.actor }));

  it('records a 1.6 RemoteStartTransaction as Requested + Answered with the station answer', async () => {
    const station = await gateway.connect('CP-1', ['ocpp1.6'], { handlers: { RemoteStartTransaction: accepted } });
    const result = await operations.run('CP-1', { name: 'startCharging', evseId: 1, idToken: { idToken: 'TAG1', type: 'ISO14443' } }, { ...options, operationId: 'op-16' });
    expect(result).toEqual({ operationId: 'op-16', outcome: 'answered', ocppVersion: '1.6', action: 'RemoteStartTransaction', status: 'Accepted', answer: { status: 'Accepted' } });
    expect(station.callsReceived).toMatchObject([{ action: 'RemoteStartTransaction', payload: { connectorId: 1, idTag: 'TAG1' } }]);
    expect(await recorded('op-16')).toEqual([
      {
        type: 'StationOperationRequested',
        actor: 'user:alice',
        data: {
          operationId: 'op-16',
          stationId: 'CP-1',
          operation: { name: 'startCharging', params: { evseId: 1, idToken: { idToken: 'TAG1', type: 'ISO14443' } } },
          ocppVersion: '1.6',
          action: 'RemoteStartTransaction',
          request: { connectorId: 1, idTag: 'TAG1' },
          requestedBy: 'user:alice',
          requestedAt: at,
        },
      },
      { type: 'StationOperationAnswered', actor: 'user:alice', data: { operationId: 'op-16', status: 'Accepted', answer: { status: 'Accepted' }, answeredAt: at } },
    ]);
  });

  it('records a 2.0.1 RequestStartTransaction as Requested + Answered with the station answer', async () => {
    const station = await gateway.connect('CP-2', ['ocpp2.0.1'], {
      handlers: { RequestStartTransaction: () => ({ status: 'Rejected', statusInfo: { reasonCode: 'Occupied' } }) },
    });
    const result = await operations.run('CP-2', { name: 'startCharging', evseId: 1, idToken: { idToken: 'TAG1', type: 'ISO14443' } }, { ...options, operationId: 'op-201' });
    expect(result).toMatchObject({ outcome: 'answered', ocppVersion: '2.0.1', action: 'RequestStartTransaction', status: 'Rejected' });
    expect(station.callsReceived[0]?.payload).toEqual({ evseId: 1, idToken: { idToken: 'TAG1', type: 'ISO14443' }, remoteStartId: requestIdFor('op-201') });
    const events = await recorded('op-201');
    expect(events.map((event) => event.type)).toEqual(['StationOperationRequested', 'StationOperationAnswered']);
    expect(events[1]?.data).toEqual({ operationId: 'op-201', status: 'Rejected', answer: { status: 'Rejected', statusInfo: { reasonCode: 'Occupied' } }, answeredAt: at });
  });

  const remoteStarts = async (stationId: string, by: Parameters<typeof remoteStartStreamId>[1]) =>
    (await eventStore.readStream(`remoteStart-t1-${remoteStartStreamId(stationId, by)}`)).map((event) => [event.type, event.data]);

  it('a remote start is recorded where the station start finds it, with the eMSP reference; a Rejected one is refused there', async () => {
    const station16 = await gateway.connect('CP-1', ['ocpp1.6'], { handlers: { RemoteStartTransaction: accepted } });
    const start16 = { name: 'startCharging', idToken: { idToken: 'TAG1', type: 'ISO14443' }, authorizationReference: 'REF-16' } as const;
    await operations.run('CP-1', start16, { ...options, actor: 'partner:emsp', operationId: 'op-16' });
    // Not sent to the station (OCPP has no field for it).
    expect(station16.callsReceived[0]?.payload).toEqual({ idTag: 'TAG1' });
    expect(await remoteStarts('CP-1', { idTag: 'TAG1' })).toEqual([
      ['RemoteStartRequested', {
        operationId: 'op-16', stationId: 'CP-1', evseId: null, idToken: { idToken: 'TAG1', type: 'ISO14443' }, remoteStartId: null,
        authorizationReference: 'REF-16', requestedBy: 'partner:emsp', requestedAt: at,
      }],
    ]);
    await gateway.connect('CP-2', ['ocpp2.0.1'], { handlers: { RequestStartTransaction: () => ({ status: 'Rejected' }) } });
    await operations.run('CP-2', { name: 'startCharging', evseId: 1, idToken: { idToken: 'TAG1', type: 'ISO14443' } }, { ...options, operationId: 'op-201' });
    expect(await remoteStarts('CP-2', { remoteStartId: requestIdFor('op-201') })).toEqual([
      ['RemoteStartRequested', expect.objectContaining({ operationId: 'op-201', evseId: 1, remoteStartId: requestIdFor('op-201'), authorizationReference: null, requestedBy: 'user:alice' })],
      ['RemoteStartRefused', { operationId: 'op-201', reason: 'Rejected', refusedAt: at }],
    ]);
    // 2.0.1 also by token, for the station's Authorize (AuthorizeRemoteStart); its status stays in the remoteStartId stream.
    expect(await remoteStarts('CP-2', { idTag: 'tag1' })).toEqual([
      ['RemoteStartRequested', expect.objectContaining({ operationId: 'op-201', remoteStartId: requestIdFor('op-201') })],
    ]);
  });

  it('a reservation is recorded where the transaction using it finds it, with the eMSP reference (not sent to the station); a bad reference is refused first', async () => {
    const station = await gateway.connect('CP-1', ['ocpp1.6'], { handlers: { ReserveNow: accepted } });
    const reserve = { name: 'reserveNow', reservationId: 42, evseId: 1, expiresAt: '2025-03-01T13:00:00Z', idToken: { idToken: 'TAG1', type: 'ISO14443' }, authorizationReference: 'RES-REF-1' } as const;
    await operations.run('CP-1', reserve, { ...options, actor: 'partner:emsp', operationId: 'op-reserve' });
    expect(station.callsReceived[0]?.payload).toEqual({ connectorId: 1, expiryDate: '2025-03-01T13:00:00Z', idTag: 'TAG1', reservationId: 42 });
    expect((await eventStore.readStream(`reservation-t1-${reservationStreamId('CP-1', 42)}`)).map((event) => [event.type, event.data])).toEqual([
      ['ReservationRequested', {
        operationId: 'op-reserve', stationId: 'CP-1', reservationId: 42, evseId: 1, idToken: { idToken: 'TAG1', type: 'ISO14443' }, authorizationReference: 'RES-REF-1',
        expiresAt: '2025-03-01T13:00:00.000Z', requestedBy: 'partner:emsp', requestedAt: at,
      }],
    ]);
    await expect(operations.run('CP-1', { ...reserve, authorizationReference: 'R'.repeat(37) }, { ...options, operationId: 'op-reserve-long' })).rejects.toBeInstanceOf(InvalidCommandError);
    expect(await recorded('op-reserve-long')).toEqual([]);
  });

  it('refuses a remote start whose authorization reference OCPI could not carry, before recording anything', async () => {
    await gateway.connect('CP-1', ['ocpp1.6'], { handlers: { RemoteStartTransaction: accepted } });
    const start = { name: 'startCharging', idToken: { idToken: 'TAG1', type: 'ISO14443' }, authorizationReference: 'R'.repeat(37) } as const;
    await expect(operations.run('CP-1', start, { ...options, operationId: 'op-long' })).rejects.toBeInstanceOf(InvalidCommandError);
    expect(await recorded('op-long')).toEqual([]);
  });

  it('records a station that does not answer in time as Failed: timeout', async () => {
    await gateway.connect('CP-1', ['ocpp1.6'], { handlers: { ClearCache: never } });
    const result = await operations.run('CP-1', { name: 'clearCache' }, { ...options, operationId: 'op-slow', timeoutMs: 150 });
    expect(result).toEqual({ operationId: 'op-slow', outcome: 'failed', ocppVersion: '1.6', action: 'ClearCache', reason: { kind: 'timeout', timeoutMs: 150 } });
    expect((await recorded('op-slow')).map((event) => [event.type, event.data])).toEqual([
      ['StationOperationRequested', expect.objectContaining({ action: 'ClearCache', request: {} })],
      ['StationOperationFailed', { operationId: 'op-slow', reason: { kind: 'timeout', timeoutMs: 150 }, failedAt: at }],
    ]);
  });

  it('records a station that is not connected as Failed: not-connected, without version or payload', async () => {
    const result = await operations.run('CP-9', { name: 'reset', type: 'immediate' }, { ...options, operationId: 'op-offline' });
    expect(result).toEqual({ operationId: 'op-offline', outcome: 'failed', ocppVersion: null, action: null, reason: { kind: 'not-connected' } });
    expect((await recorded('op-offline')).map((event) => [event.type, event.data])).toEqual([
      ['StationOperationRequested', expect.objectContaining({ ocppVersion: null, action: null, request: null, operation: { name: 'reset', params: { type: 'immediate' } } })],
      ['StationOperationFailed', { operationId: 'op-offline', reason: { kind: 'not-connected' }, failedAt: at }],
    ]);
  });

  it('records a CALLERROR and an answer that breaks the schema as Failed, keeping what the station said', async () => {
    await gateway.connect('CP-1', ['ocpp1.6'], { handlers: { Reset: () => ({ status: 'Maybe' }) } });
    const callError = await operations.run('CP-1', { name: 'unlockConnector', evseId: 1 }, { ...options, operationId: 'op-err' });
    expect(callError).toMatchObject({ outcome: 'failed', reason: { kind: 'call-error', code: 'NotImplemented' } });
    const invalid = await operations.run('CP-1', { name: 'reset', type: 'onIdle' }, { ...options, operationId: 'op-bad' });
    expect(invalid).toMatchObject({ outcome: 'failed', reason: { kind: 'invalid-response', answer: { status: 'Maybe' } } });
    expect((await recorded('op-bad'))[1]?.type).toBe('StationOperationFailed');
  });

  it('stops a 1.6 transaction by the integer id the station knows, found in the transaction stream', async () => {
    const station = await gateway.connect('CP-1', ['ocpp1.6'], { handlers: { RemoteStopTransaction: accepted } });
    await bus.send({
      commandId: 'start-1', tenantId: 't1', aggregateId: 'tx-1', actor: 'station:CP-1', correlationId: 'm1', occurredAt: at,
      command: { type: 'StartTransaction', transactionId: 'tx-1', stationTransactionId: '17', stationId: 'CP-1', evseId: 1, connectorId: 1, meterStartWh: new Decimal(0), startedAt: at },
    });
    const result = await operations.run('CP-1', { name: 'stopCharging', transactionId: 'tx-1' }, options);
    expect(result).toMatchObject({ outcome: 'answered', action: 'RemoteStopTransaction', status: 'Accepted' });
    expect(station.callsReceived[0]?.payload).toEqual({ transactionId: 17 });
    // Wrong input is refused before anything is recorded or sent.
    await expect(operations.run('CP-1', { name: 'stopCharging', transactionId: 'tx-404' }, options)).rejects.toThrow(/unknown transaction/);
    await expect(operations.run('CP-2', { name: 'stopCharging', transactionId: 'tx-1' }, options)).resolves.toMatchObject({ outcome: 'failed' }); // not connected: no lookup
    expect(station.callsReceived).toHaveLength(1);
  });

  it('refuses what the version cannot express, a raw payload the schema refuses, and a second run of one operation id', async () => {
    const station = await gateway.connect('CP-1', ['ocpp1.6'], { handlers: { ClearCache: accepted } });
    await expect(operations.run('CP-1', { name: 'getTransactionStatus' }, { ...options, operationId: 'op-x' })).rejects.toThrow(InvalidCommandError);
    await expect(operations.run('CP-1', { name: 'raw', action: 'Reset', payload: { type: 'Immediate' } }, options)).rejects.toThrow(/Reset payload/);
    await expect(operations.run('CP-1', { name: 'raw', action: 'Heartbeat', payload: {} }, options)).rejects.toThrow(/not a CSMS→station action/);
    expect(await recorded('op-x')).toEqual([]);
    await operations.run('CP-1', { name: 'raw', action: 'ClearCache', payload: {} }, { ...options, operationId: 'op-once' });
    await expect(operations.run('CP-1', { name: 'clearCache' }, { ...options, operationId: 'op-once' })).rejects.toThrow(IllegalStateError);
    expect(station.callsReceived).toHaveLength(1);
  });
});
