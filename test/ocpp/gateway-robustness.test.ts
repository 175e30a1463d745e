import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ocppFrameBytesMax, ocppInvalidFrameRecordCharsMax, ocppMessageIdCharsMax } from '../../ocpp/limits.js';
import { bootNotification16, bootNotification201, eventually, isCallError, startGateway, type TestGateway } from './harness.js';

// Each bad input gets the CALLERROR OCPP-J §4.2.3 names for the connection's version, and the
// connection (and every other station) keeps working afterwards.
describe('OCPP gateway robustness', () => {
  let gateway: TestGateway;
  beforeAll(async () => {
    gateway = await startGateway({ limits: { handlerTimeoutMs: 300 } });
  });
  afterAll(() => gateway.close());

  const cases: { name: string; frame: string; v16: [string, string]; v201: [string, string] }[] = [
    { name: 'malformed JSON', frame: '[2, "m1", "Heartbeat", {', v16: ['-1', 'FormationViolation'], v201: ['-1', 'RpcFrameworkError'] },
    { name: 'not an array', frame: '{"a":1}', v16: ['-1', 'FormationViolation'], v201: ['-1', 'RpcFrameworkError'] },
    { name: 'message id not a string', frame: '[2, 17, "Heartbeat", {}]', v16: ['-1', 'FormationViolation'], v201: ['-1', 'RpcFrameworkError'] },
    {
      name: `message id longer than ${ocppMessageIdCharsMax}`,
      frame: JSON.stringify([2, 'x'.repeat(ocppMessageIdCharsMax + 1), 'Heartbeat', {}]),
      v16: ['-1', 'FormationViolation'],
      v201: ['-1', 'RpcFrameworkError'],
    },
    { name: 'unknown message type 5 (an OCPP 2.1 type)', frame: '[5, "m5", "Heartbeat", {}]', v16: ['m5', 'ProtocolError'], v201: ['m5', 'MessageTypeNotSupported'] },
    { name: 'CALL without payload', frame: '[2, "m6", "Heartbeat"]', v16: ['m6', 'ProtocolError'], v201: ['m6', 'RpcFrameworkError'] },
    { name: 'payload not an object', frame: '[2, "m7", "Heartbeat", []]', v16: ['m7', 'FormationViolation'], v201: ['m7', 'FormatViolation'] },
    { name: 'unknown action', frame: '[2, "m8", "MakeCoffee", {}]', v16: ['m8', 'NotImplemented'], v201: ['m8', 'NotImplemented'] },
    { name: 'an action only the CSMS sends', frame: '[2, "m9", "Reset", {"type": "Hard"}]', v16: ['m9', 'NotSupported'], v201: ['m9', 'NotSupported'] },
  ];

  for (const version of ['ocpp1.6', 'ocpp2.0.1'] as const) {
    for (const { name, frame, v16, v201 } of cases) {
      it(`${version}: ${name} → ${(version === 'ocpp1.6' ? v16 : v201).join(' ')}`, async () => {
        const [messageId, code] = version === 'ocpp1.6' ? v16 : v201;
        const station = await gateway.connect('CP-1', [version]);
        station.sendRaw(frame);
        const answer = (await station.waitForFrame((f) => isCallError(f))) as unknown[];
        expect(answer.slice(0, 3)).toEqual([4, messageId, code]);
        expect(typeof answer[3]).toBe('string');
        expect(answer[4]).toBeTypeOf('object');
        expect(await station.call('Heartbeat', {})).toHaveProperty('currentTime');
        await station.close();
      });
    }
  }

  it(`records refused messages through onInvalidMessage, frames cut to ${ocppInvalidFrameRecordCharsMax} characters`, async () => {
    gateway.handler.invalid.length = 0;
    const station = await gateway.connect('CP-2', ['ocpp2.0.1']);
    const garbage = `not json ${'z'.repeat(2 * ocppInvalidFrameRecordCharsMax)}`;
    station.sendRaw(garbage);
    await station.waitForFrame((f) => isCallError(f, 'RpcFrameworkError'));
    await station.send('Heartbeat', { unexpected: 1 }, { messageId: 'hb-bad' });
    station.sendRaw('[3, "nobody-asked"]'); // a broken CALLRESULT: recorded, not answered
    await eventually(() => gateway.handler.invalid.length === 3);
    expect(gateway.handler.invalid).toEqual([
      { messageId: '-1', code: 'RpcFrameworkError', description: 'message is not valid JSON', frame: garbage.slice(0, ocppInvalidFrameRecordCharsMax) },
      { messageId: 'hb-bad', action: 'Heartbeat', code: 'FormatViolation', description: '/ must NOT have additional properties' },
      { messageId: 'nobody-asked', description: 'a CALLRESULT is [3, messageId, payload]', frame: '[3, "nobody-asked"]' },
    ]);
    expect(station.received).toEqual([]);
    await station.close();
  });

  it('answers schema violations with the per-version code', async () => {
    const v16 = await gateway.connect('CP-1', ['ocpp1.6']);
    const tooLong = await v16.send('BootNotification', { ...bootNotification16, chargePointVendor: 'x'.repeat(21) });
    expect(tooLong).toMatchObject({ type: 'error', code: 'PropertyConstraintViolation' });
    expect(await v16.send('BootNotification', { chargePointModel: 'M' })).toMatchObject({ code: 'OccurenceConstraintViolation' });
    expect(await v16.send('BootNotification', { ...bootNotification16, chargePointModel: 7 })).toMatchObject({ code: 'TypeConstraintViolation' });
    expect(await v16.send('Heartbeat', { extra: true })).toMatchObject({ code: 'FormationViolation' });
    await v16.close();

    const v201 = await gateway.connect('CP-1', ['ocpp2.0.1']);
    expect(await v201.send('BootNotification', { reason: 'PowerUp' })).toMatchObject({ code: 'OccurrenceConstraintViolation' });
    expect(await v201.send('BootNotification', { ...bootNotification201, reason: 'Bored' })).toMatchObject({ code: 'PropertyConstraintViolation' });
    expect(await v201.send('Heartbeat', { extra: true })).toMatchObject({ code: 'FormatViolation' });
    expect(await v201.call('BootNotification', bootNotification201)).toMatchObject({ status: 'Accepted' });
    await v201.close();
    expect(gateway.handler.calls.every((c) => c.action !== 'BootNotification' || c.ctx.ocppVersion === 'ocpp2.0.1')).toBe(true);
  });

  it('answers handler failures without closing the connection', async () => {
    const station = await gateway.connect('CP-1', ['ocpp1.6']);
    expect(await station.send('Authorize', { idTag: 'THROW' })).toMatchObject({ code: 'InternalError' });
    expect(await station.send('Authorize', { idTag: 'REFUSE' })).toMatchObject({ code: 'SecurityError', details: { hint: 1 } });
    // A code the version does not define is never sent: InternalError instead.
    expect(await station.send('Authorize', { idTag: 'BADCODE' })).toMatchObject({ code: 'InternalError' });
    // Our own response breaking the schema is our bug; the station never sees it.
    expect(await station.send('Authorize', { idTag: 'INVALID' })).toMatchObject({ code: 'InternalError' });
    // handlerTimeoutMs (300 ms here) bounds a stuck handler.
    expect(await station.send('Authorize', { idTag: 'HANG' })).toMatchObject({ code: 'InternalError', description: 'handler timed out' });
    expect(await station.call('Authorize', { idTag: 'OK' })).toEqual({ idTagInfo: { status: 'Accepted' } });
    await station.close();
  });

  it(`closes with 1009 on a frame over ocppFrameBytesMax (${ocppFrameBytesMax} bytes); other stations keep working`, async () => {
    const other = await gateway.connect('CP-2', ['ocpp2.0.1']);
    const station = await gateway.connect('CP-1', ['ocpp1.6']);
    // `data` of zeros reads as a 0 ms delay in the test handler's DataTransfer.
    const frameOf = (messageId: string, dataBytes: number): string =>
      JSON.stringify([2, messageId, 'DataTransfer', { vendorId: 'v', data: '0'.repeat(dataBytes) }]);
    const overheadBytes = frameOf('ok', 0).length;
    const exactlyMax = frameOf('ok', ocppFrameBytesMax - overheadBytes);
    expect(Buffer.byteLength(exactlyMax)).toBe(ocppFrameBytesMax);
    station.sendRaw(exactlyMax);
    expect(await station.waitForFrame((f) => Array.isArray(f) && f[1] === 'ok')).toMatchObject([3, 'ok', { status: 'Accepted' }]);
    station.sendRaw(frameOf('ok', ocppFrameBytesMax - overheadBytes + 1));
    expect((await station.closed).code).toBe(1009);
    await eventually(() => gateway.handler.events.some((e) => e.type === 'disconnected' && e.reason === 'frameTooBig'));
    expect(await other.call('Heartbeat', {})).toHaveProperty('currentTime');
    await other.close();
  });
});
