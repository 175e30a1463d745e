import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ocppIncomingCallsQueuedMax, ocppRecentCallsMax } from '../../ocpp/limits.js';
import { eventually, startGateway, type TestGateway } from './harness.js';

// OCPP-J 1.6 §4.1.1 / 2.0.1 Part 4 §4.1.1: one CALL at a time per direction.
describe('OCPP gateway: station→CSMS calls', () => {
  let gateway: TestGateway;
  beforeAll(async () => {
    gateway = await startGateway();
  });
  beforeEach(() => {
    gateway.handler.calls.length = 0;
    gateway.handler.runningMax = 0;
  });
  afterAll(() => gateway.close());

  const slow = (ms: number) => ({ vendorId: 'test', data: String(ms) });

  it('handles the calls of one station strictly one at a time, in order', async () => {
    const station = await gateway.connect('CP-1', ['ocpp1.6']);
    const answers = await Promise.all([station.call('DataTransfer', slow(80)), station.call('DataTransfer', slow(0)), station.call('Heartbeat', {})]);
    expect(gateway.handler.runningMax).toBe(1);
    expect(gateway.handler.calls.map((c) => c.action)).toEqual(['DataTransfer', 'DataTransfer', 'Heartbeat']);
    expect(answers[0]).toEqual({ status: 'Accepted', data: '1' });
    await station.close();
  });

  it('runs different stations in parallel', async () => {
    const one = await gateway.connect('CP-1', ['ocpp1.6']);
    const two = await gateway.connect('CP-2', ['ocpp2.0.1']);
    await Promise.all([one.call('DataTransfer', slow(100)), two.call('DataTransfer', slow(100))]);
    expect(gateway.handler.runningMax).toBe(2);
    await Promise.all([one.close(), two.close()]);
  });

  it(`queues at most ocppIncomingCallsQueuedMax (${ocppIncomingCallsQueuedMax}) calls behind the running one`, async () => {
    const station = await gateway.connect('CP-1', ['ocpp2.0.1']);
    const outcomes = await Promise.all(
      Array.from({ length: ocppIncomingCallsQueuedMax + 2 }, (_, i) => station.send('DataTransfer', slow(i === 0 ? 150 : 0))),
    );
    expect(outcomes.slice(0, ocppIncomingCallsQueuedMax + 1).every((o) => o.type === 'result')).toBe(true);
    expect(outcomes.at(-1)).toMatchObject({ type: 'error', code: 'GenericError' });
    expect(await station.call('Heartbeat', {})).toHaveProperty('currentTime');
    await station.close();
  });

  it('answers a repeated message id with the same answer without running the handler again on the same connection', async () => {
    const station = await gateway.connect('CP-1', ['ocpp1.6']);
    const first = await station.send('DataTransfer', slow(0), { messageId: 'dup-1' });
    const again = await station.send('DataTransfer', slow(0), { messageId: 'dup-1' });
    expect(again).toEqual(first);
    expect(gateway.handler.callsOf('DataTransfer')).toBe(1);
    // The same id with another payload is a new call (a station whose counter restarted after a reboot).
    const other = await station.send('DataTransfer', slow(1), { messageId: 'dup-1' });
    expect(other).toMatchObject({ type: 'result' });
    expect(gateway.handler.callsOf('DataTransfer')).toBe(2);
    // An answer that went out is not replayed on a new connection: the call runs again.
    await station.close();
    const reconnected = await gateway.connect('CP-1', ['ocpp1.6']);
    await reconnected.send('DataTransfer', slow(1), { messageId: 'dup-1' });
    expect(gateway.handler.callsOf('DataTransfer')).toBe(3);
    await reconnected.close();
  });

  it('replays on a new connection an answer the old one closed before receiving', async () => {
    const station = await gateway.connect('CP-1', ['ocpp1.6']);
    station.sendRaw(JSON.stringify([2, 'lost-1', 'DataTransfer', slow(200)]));
    await eventually(() => gateway.handler.callsOf('DataTransfer') === 1);
    station.terminate(); // gone before the answer
    const reconnected = await gateway.connect('CP-1', ['ocpp1.6']);
    expect(await reconnected.send('DataTransfer', slow(200), { messageId: 'lost-1' })).toEqual({
      type: 'result', messageId: 'lost-1', payload: { status: 'Accepted', data: '1' },
    });
    expect(gateway.handler.callsOf('DataTransfer')).toBe(1);
    await reconnected.close();
  });

  it('does not replay an InternalError: a retry runs the handler again', async () => {
    const station = await gateway.connect('CP-1', ['ocpp1.6']);
    await station.send('Authorize', { idTag: 'THROW' }, { messageId: 'retry-1' });
    await station.send('Authorize', { idTag: 'THROW' }, { messageId: 'retry-1' });
    expect(gateway.handler.callsOf('Authorize')).toBe(2);
    await station.close();
  });

  it(`remembers at most ocppRecentCallsMax (${ocppRecentCallsMax}) answers per station`, async () => {
    const station = await gateway.connect('CP-2', ['ocpp2.0.1']);
    for (let i = 0; i <= ocppRecentCallsMax; i++) await station.call('Heartbeat', {}, { messageId: `hb-${i}` });
    await station.call('Heartbeat', {}, { messageId: `hb-${ocppRecentCallsMax}` }); // newest: replayed
    expect(gateway.handler.callsOf('Heartbeat')).toBe(ocppRecentCallsMax + 1);
    await station.call('Heartbeat', {}, { messageId: 'hb-0' }); // oldest: forgotten, handled again
    expect(gateway.handler.callsOf('Heartbeat')).toBe(ocppRecentCallsMax + 2);
    await station.close();
  });

  it('passes the station, version, message id and tenant to the handler', async () => {
    const station = await gateway.connect('CP-2', ['ocpp2.0.1']);
    await station.call('Heartbeat', {}, { messageId: 'ctx-1' });
    expect(gateway.handler.calls[0]?.ctx).toEqual({
      stationId: 'CP-2',
      ocppVersion: 'ocpp2.0.1',
      messageId: 'ctx-1',
      connectionId: expect.stringMatching(/^[0-9a-f-]{36}$/),
      tenantId: 't1',
      admission: 'accepted',
    });
    await station.close();
  });
});
