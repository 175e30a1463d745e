import { afterEach, describe, expect, it } from 'vitest';
import {
  InvalidStationCallError, InvalidStationResponseError, StationCallErrorReceived, StationCallTimeoutError,
  StationDisconnectedError, StationNotConnectedError, StationQueueFullError, type StationCaller,
} from '../../ocpp/gateway.js';
import { ocppCallTimeoutMs, ocppOutgoingQueueMax, ocppReconnectWindowMs } from '../../ocpp/limits.js';
import type { CsmsCallHandler } from '../support/station-simulator.js';
import { eventually, sleep, startGateway, type TestGateway } from './harness.js';

// CSMS→station calls: validated both ways, one in flight, bounded queue, timeout, survive a reconnect.
describe('StationCaller', () => {
  let gateway: TestGateway;
  let caller: StationCaller;
  afterEach(() => gateway.close());

  const start = async (limits = {}) => {
    gateway = await startGateway({ limits });
    caller = gateway.app.ocppStations;
  };
  const accepted: CsmsCallHandler = () => ({ status: 'Accepted' });
  const never: CsmsCallHandler = () => new Promise(() => {});

  it('sends a call and returns the validated answer, per version', async () => {
    await start();
    const v16 = await gateway.connect('CP-1', ['ocpp1.6'], { handlers: { Reset: accepted } });
    const v201 = await gateway.connect('CP-2', ['ocpp2.0.1'], { handlers: { Reset: accepted } });
    expect(await caller.call('CP-1', 'Reset', { type: 'Soft' })).toEqual({ status: 'Accepted' });
    expect(await caller.call('CP-2', 'Reset', { type: 'Immediate' })).toEqual({ status: 'Accepted' });
    expect(v16.callsReceived[0]).toMatchObject({ action: 'Reset', payload: { type: 'Soft' } });
    expect(v201.callsReceived[0]?.messageId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('refuses invalid requests before sending them, and rejects invalid answers', async () => {
    await start();
    const station = await gateway.connect('CP-1', ['ocpp1.6'], {
      handlers: { Reset: () => ({ status: 'Maybe' }), ClearCache: () => { throw new Error('flash worn out'); } },
    });
    await expect(caller.call('CP-1', 'Reset', { type: 'Immediate' })).rejects.toBeInstanceOf(InvalidStationCallError); // a 2.0.1 value
    await expect(caller.call('CP-1', 'Heartbeat', {})).rejects.toBeInstanceOf(InvalidStationCallError); // a station's action
    await expect(caller.call('CP-1', 'MakeCoffee', {})).rejects.toBeInstanceOf(InvalidStationCallError);
    expect(station.callsReceived).toEqual([]);
    const invalid = await caller.call('CP-1', 'Reset', { type: 'Soft' }).catch((e: unknown) => e);
    expect(invalid).toBeInstanceOf(InvalidStationResponseError);
    expect((invalid as InvalidStationResponseError).payload).toEqual({ status: 'Maybe' });
    const refused = await caller.call('CP-1', 'ClearCache', {}).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(StationCallErrorReceived);
    expect(refused).toMatchObject({ code: 'InternalError', description: 'flash worn out' });
  });

  it('fails at once for a station that is not connected', async () => {
    await start();
    await expect(caller.call('CP-1', 'Reset', { type: 'Soft' })).rejects.toBeInstanceOf(StationNotConnectedError);
  });

  it('keeps one call in flight per station; the next goes when it is answered', async () => {
    await start();
    let release: () => void = () => {};
    const station = await gateway.connect('CP-1', ['ocpp1.6'], {
      handlers: { Reset: () => new Promise((resolve) => { release = () => resolve({ status: 'Accepted' }); }), ClearCache: accepted },
    });
    const first = caller.call('CP-1', 'Reset', { type: 'Soft' });
    const second = caller.call('CP-1', 'ClearCache', {});
    await eventually(() => station.callsReceived.length === 1);
    await sleep(50);
    expect(station.callsReceived.map((c) => c.action)).toEqual(['Reset']);
    release();
    await Promise.all([first, second]);
    expect(station.callsReceived.map((c) => c.action)).toEqual(['Reset', 'ClearCache']);
  });

  it(`refuses a call beyond ocppOutgoingQueueMax (${ocppOutgoingQueueMax}) waiting for a station`, async () => {
    await start();
    await gateway.connect('CP-1', ['ocpp1.6'], { handlers: { ClearCache: never } });
    const queued = Array.from({ length: ocppOutgoingQueueMax }, () => caller.call('CP-1', 'ClearCache', {}, { timeoutMs: 200 }).catch((e: unknown) => e));
    await expect(caller.call('CP-1', 'ClearCache', {})).rejects.toBeInstanceOf(StationQueueFullError);
    await Promise.all(queued);
  });

  it(`times out (default ocppCallTimeoutMs ${ocppCallTimeoutMs} ms), then sends the next call`, async () => {
    await start({ callTimeoutMs: 150 });
    const station = await gateway.connect('CP-1', ['ocpp2.0.1'], { handlers: { ClearCache: never, Reset: accepted } });
    const slow = caller.call('CP-1', 'ClearCache', {});
    const next = caller.call('CP-1', 'Reset', { type: 'Immediate' }, { timeoutMs: 1_000 });
    await expect(slow).rejects.toBeInstanceOf(StationCallTimeoutError);
    expect(await next).toEqual({ status: 'Accepted' });
    // A late answer to the timed-out call is ignored.
    station.sendRaw(JSON.stringify([3, station.callsReceived[0]?.messageId, { status: 'Accepted' }]));
    expect(await station.call('Heartbeat', {})).toHaveProperty('currentTime');
  });

  it('re-sends the call in flight when the station reconnects within the window', async () => {
    await start();
    const first = await gateway.connect('CP-1', ['ocpp1.6'], { handlers: { Reset: never } });
    const pending = caller.call('CP-1', 'Reset', { type: 'Hard' });
    const queued = caller.call('CP-1', 'ClearCache', {});
    await eventually(() => first.callsReceived.length === 1);
    first.terminate();
    await eventually(() => gateway.handler.events.some((e) => e.type === 'disconnected'));
    const second = await gateway.connect('CP-1', ['ocpp1.6'], { handlers: { Reset: accepted, ClearCache: accepted } });
    expect(await pending).toEqual({ status: 'Accepted' });
    expect(await queued).toEqual({ status: 'Accepted' });
    expect(second.callsReceived.map((c) => c.action)).toEqual(['Reset', 'ClearCache']);
    expect(second.callsReceived[0]?.messageId).toBe(first.callsReceived[0]?.messageId);
  });

  it(`fails pending calls with StationDisconnectedError after the reconnect window (${ocppReconnectWindowMs} ms default)`, async () => {
    await start({ reconnectWindowMs: 150 });
    const station = await gateway.connect('CP-1', ['ocpp1.6'], { handlers: { Reset: never } });
    const pending = caller.call('CP-1', 'Reset', { type: 'Hard' });
    await eventually(() => station.callsReceived.length === 1);
    await station.close();
    await expect(pending).rejects.toBeInstanceOf(StationDisconnectedError);
    await expect(caller.call('CP-1', 'Reset', { type: 'Hard' })).rejects.toBeInstanceOf(StationNotConnectedError);
  });

  it('fails calls made for 1.6 when the station comes back speaking 2.0.1', async () => {
    await start();
    const station = await gateway.connect('CP-1', ['ocpp1.6'], { handlers: { Reset: never } });
    const pending = caller.call('CP-1', 'Reset', { type: 'Hard' }).catch((e: unknown) => e);
    await eventually(() => station.callsReceived.length === 1);
    await station.close();
    await gateway.connect('CP-1', ['ocpp2.0.1']);
    expect(await pending).toBeInstanceOf(StationDisconnectedError);
  });
});
