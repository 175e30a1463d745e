import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { v5 as uuidv5 } from 'uuid';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { unexpectedErrorCount } from '../../adapters/observability/unexpected-errors.js';
import { OcppGateway } from '../../ocpp/gateway.js';
import { ocppFrameFaultsPerWindowMax, ocppInvalidFrameRecordCharsMax, ocppJsonDepthMax, ocppSendBufferBytesMax } from '../../ocpp/limits.js';
import type { OcppLogger } from '../../ocpp/types.js';
import { ocpp201TransactionNamespace, transactionAggregateId201 } from '../../ocpp/translate/v201/transaction-event.js';
import { StationSimulator } from '../support/station-simulator.js';
import {
  authenticateByPassword, bootNotification16, bootNotification201, eventually, isCallError, passwords, RecordingHandler, startGateway, type TestGateway,
} from './harness.js';

// Issue 9: frames a hostile or broken station can send that used to throw out of the gateway,
// poison the event store, or get a stale answer. Each is refused (or answered) and the connection,
// and every other station, keeps working.

/** `[2,"<id>","Heartbeat",{"a":[[[…]]]}]` with `levels` arrays under `a`: the frame nests `levels + 2` deep. */
const deepCall = (messageId: string, levels: number): string =>
  `[2,${JSON.stringify(messageId)},"Heartbeat",{"a":${'['.repeat(levels)}${']'.repeat(levels)}}]`;

/** A 2.0.1 DataTransfer whose free-JSON `data` nests so that the whole frame is exactly `depth` deep. */
const dataTransferOfDepth = (messageId: string, depth: number): string => {
  const levels = depth - 2; // the frame array and the payload object
  return `[2,${JSON.stringify(messageId)},"DataTransfer",{"vendorId":"v","data":${'['.repeat(levels)}${']'.repeat(levels)}}]`;
};

describe('OCPP gateway: hostile frames', () => {
  let gateway: TestGateway;
  beforeAll(async () => {
    gateway = await startGateway();
  });
  afterAll(() => gateway.close());

  for (const [version, code] of [['ocpp1.6', 'FormationViolation'], ['ocpp2.0.1', 'FormatViolation']] as const) {
    it(`${version}: a CALL nesting 25 000 arrays (50 KB) → ${code}, handler never called`, async () => {
      const station = await gateway.connect('CP-1', [version]);
      const before = gateway.handler.calls.length;
      const frame = deepCall('deep-1', 25_000);
      expect(frame.length).toBeGreaterThan(50_000);
      station.sendRaw(frame);
      const answer = (await station.waitForFrame((f) => isCallError(f, undefined, 'deep-1'))) as unknown[];
      expect(answer.slice(0, 3)).toEqual([4, 'deep-1', code]);
      expect(answer[3]).toBe(`JSON nested deeper than ${ocppJsonDepthMax} levels`);
      await eventually(() => gateway.handler.invalid.some((p) => p.messageId === 'deep-1' && p.code === code));
      expect(gateway.handler.calls.length).toBe(before);
      // Deep CALLRESULTs are never answered; a deep frame without a readable id is answered with -1.
      station.sendRaw(`[3,"deep-2",{"a":${'['.repeat(25_000)}${']'.repeat(25_000)}}]`);
      station.sendRaw('['.repeat(25_000));
      const unreadable = (await station.waitForFrame((f) => isCallError(f, undefined, '-1'))) as unknown[];
      expect(unreadable[2]).toBe(code);
      expect(await station.call('Heartbeat', {})).toHaveProperty('currentTime');
      expect(station.received).toEqual([]);
      await station.close();
    });
  }

  it(`accepts free-JSON DataTransfer data up to ocppJsonDepthMax (${ocppJsonDepthMax}) levels, refuses one more`, async () => {
    const station = await gateway.connect('CP-2', ['ocpp2.0.1']);
    station.sendRaw(dataTransferOfDepth('at-max', ocppJsonDepthMax));
    expect(await station.waitForFrame((f) => Array.isArray(f) && f[1] === 'at-max')).toMatchObject([3, 'at-max', { status: 'Accepted' }]);
    station.sendRaw(dataTransferOfDepth('over-max', ocppJsonDepthMax + 1));
    expect(await station.waitForFrame((f) => Array.isArray(f) && f[1] === 'over-max')).toEqual([4, 'over-max', 'FormatViolation', `JSON nested deeper than ${ocppJsonDepthMax} levels`, {}]);
    await station.close();
  });

  const unstorable: { name: string; payload: string; where: string }[] = [
    { name: 'U+0000 in a value', payload: '{"idTag":"AB\\u0000C"}', where: 'payload/idTag' },
    { name: 'a lone high surrogate in a value', payload: '{"idTag":"AB\\ud800"}', where: 'payload/idTag' },
    { name: 'a lone low surrogate in a value', payload: '{"idTag":"\\udc00AB"}', where: 'payload/idTag' },
    { name: 'U+0000 in a property name', payload: '{"idTag":"AB","x\\u0000":1}', where: 'payload/(property name)' },
  ];
  for (const version of ['ocpp1.6', 'ocpp2.0.1'] as const) {
    for (const { name, payload, where } of unstorable) {
      it(`${version}: ${name} → PropertyConstraintViolation, recorded, handler never called`, async () => {
        const station = await gateway.connect('CP-1', [version]);
        const before = gateway.handler.calls.length;
        const action = version === 'ocpp1.6' ? 'Authorize' : 'DataTransfer';
        const body = version === 'ocpp1.6' ? payload : payload.replace('"idTag"', '"vendorId"');
        station.sendRaw(`[2,"bad-str",${JSON.stringify(action)},${body}]`);
        const answer = (await station.waitForFrame((f) => isCallError(f, undefined, 'bad-str'))) as unknown[];
        expect(answer.slice(0, 3)).toEqual([4, 'bad-str', 'PropertyConstraintViolation']);
        const expectedWhere = version === 'ocpp1.6' ? where : where.replace('idTag', 'vendorId');
        expect(answer[3]).toBe(`${expectedWhere} contains U+0000 or an unpaired surrogate, which cannot be stored`);
        await eventually(() => gateway.handler.invalid.some((p) => p.messageId === 'bad-str' && p.code === 'PropertyConstraintViolation'));
        expect(gateway.handler.calls.length).toBe(before);
        gateway.handler.invalid.length = 0;
        expect(await station.call('Heartbeat', {})).toHaveProperty('currentTime');
        await station.close();
      });
    }
  }

  it('keeps a well-formed surrogate pair (an emoji); refuses U+0000 in the message id as unreadable', async () => {
    const station = await gateway.connect('CP-1', ['ocpp1.6']);
    expect(await station.call('DataTransfer', { vendorId: 'v', data: '0 😀' })).toMatchObject({ status: 'Accepted' });
    station.sendRaw('[2,"id\\u0000","Heartbeat",{}]');
    expect(((await station.waitForFrame((f) => isCallError(f))) as unknown[]).slice(0, 3)).toEqual([4, '-1', 'FormationViolation']);
    await station.close();
  });

  it('records a refused frame only in storable characters (a raw NUL, a surrogate pair cut at the record limit)', async () => {
    const station = await gateway.connect('CP-1', ['ocpp2.0.1']);
    gateway.handler.invalid.length = 0;
    // A raw control character is not JSON (RFC 8259 §7), so this is refused as unreadable.
    station.sendRaw(`[2,"raw-nul","Heartbeat",{"a":"\0"}]`);
    expect(((await station.waitForFrame((f) => isCallError(f))) as unknown[]).slice(0, 3)).toEqual([4, '-1', 'RpcFrameworkError']);
    // The record keeps ocppInvalidFrameRecordCharsMax characters: here the cut falls inside a pair.
    station.sendRaw(`not json ${'😀'.repeat(ocppInvalidFrameRecordCharsMax)}`);
    expect(((await station.waitForFrame((f) => isCallError(f))) as unknown[]).slice(0, 3)).toEqual([4, '-1', 'RpcFrameworkError']);
    await eventually(() => gateway.handler.invalid.length === 2);
    expect(gateway.handler.invalid[0]?.frame).toBe('[2,"raw-nul","Heartbeat",{"a":"\uFFFD"}]');
    expect(gateway.handler.invalid[1]?.frame).toHaveLength(ocppInvalidFrameRecordCharsMax);
    for (const problem of gateway.handler.invalid) expect(problem.frame).not.toMatch(/[\0\p{Cs}]/u);
    await station.close();
  });

  it('2.0.1 transaction ids with a lone surrogate derive an aggregate id instead of throwing URIError; others keep theirs', () => {
    expect(() => transactionAggregateId201('CP-1', 'TX-\ud800')).not.toThrow();
    // Unchanged for every well-formed id: the sessions already recorded keep their streams.
    for (const id of ['TX-A', 'tx-é-😀']) expect(transactionAggregateId201('CP-1', id)).toBe(uuidv5(`CP-1\n${id}`, ocpp201TransactionNamespace));
  });

  for (const [version, code] of [['ocpp1.6', 'FormationViolation'], ['ocpp2.0.1', 'RpcFrameworkError']] as const) {
    it(`${version}: a binary frame of invalid UTF-8 → ${code} -1; a binary frame of valid JSON is still read`, async () => {
      const station = await gateway.connect('CP-2', [version]);
      station.sendRaw(Buffer.concat([Buffer.from('[2,"bin-1","Heartbeat",{"a":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}]')]));
      const answer = (await station.waitForFrame((f) => isCallError(f))) as unknown[];
      expect(answer.slice(0, 4)).toEqual([4, '-1', code, 'binary frame is not valid UTF-8']);
      station.sendRaw(Buffer.from('[2,"bin-2","Heartbeat",{}]'));
      expect(await station.waitForFrame((f) => Array.isArray(f) && f[1] === 'bin-2')).toMatchObject([3, 'bin-2', {}]);
      await station.close();
    });
  }

  it(`answers every unreadable frame but records (and logs) only ${ocppFrameFaultsPerWindowMax} a minute per connection`, async () => {
    const station = await gateway.connect('CP-1', ['ocpp1.6']);
    const recorded = () => gateway.handler.invalid.filter((problem) => problem.description === 'message is not an OCPP-J array').length;
    const before = recorded();
    const sent = ocppFrameFaultsPerWindowMax + 50;
    for (let i = 0; i < sent; i++) station.sendRaw('[]');
    await eventually(() => station.received.filter((f) => isCallError(f, 'FormationViolation', '-1')).length === sent);
    station.received.length = 0;
    expect(await station.call('Heartbeat', {})).toHaveProperty('currentTime');
    expect(recorded() - before).toBe(ocppFrameFaultsPerWindowMax);
    await station.close();
  });

  it(`a station that never reads its answers is cut off past ocppSendBufferBytesMax (${ocppSendBufferBytesMax} bytes) waiting, not buffered without end`, async () => {
    const other = await gateway.connect('CP-2', ['ocpp2.0.1']);
    const station = await gateway.connect('CP-1', ['ocpp1.6']);
    // Stop reading: answers pile up in the kernel's buffers, then in the server's socket.
    (station.ws as unknown as { _socket: { pause(): void } })._socket.pause();
    const cutOff = () => gateway.handler.events.some((e) => e.type === 'disconnected' && e.stationId === 'CP-1' && e.reason === 'sendBufferFull');
    // Each 2-byte `[]` is answered with a ~90-byte CALLERROR. Bounded: loopback kernel buffers hold
    // a few MB, so 400 000 answers (~36 MB) are far more than needed.
    for (let sent = 0; sent < 400_000 && !cutOff(); sent += 2_000) {
      for (let i = 0; i < 2_000; i++) station.ws.send('[]');
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await eventually(cutOff, 10_000);
    expect(await other.call('Heartbeat', {})).toHaveProperty('currentTime');
    station.terminate();
    await other.close();
  });

  it('a text frame of invalid UTF-8 is closed by ws with 1007 (RFC 6455 §8.1); other stations keep working', async () => {
    const other = await gateway.connect('CP-2', ['ocpp2.0.1']);
    const station = await gateway.connect('CP-1', ['ocpp1.6']);
    station.ws.send(Buffer.from([0x5b, 0x32, 0x2c, 0xff, 0x5d]), { binary: false });
    expect((await station.closed).code).toBe(1007);
    await eventually(() => gateway.handler.events.some((e) => e.type === 'disconnected' && e.stationId === 'CP-1' && e.reason === 'protocolError'));
    expect(await other.call('Heartbeat', {})).toHaveProperty('currentTime');
    await other.close();
  });

  for (const [version, boot] of [['ocpp1.6', bootNotification16], ['ocpp2.0.1', bootNotification201]] as const) {
    it(`${version}: a station whose message ids restart after a reboot gets a fresh BootNotification answer`, async () => {
      const station = await gateway.connect('CP-1', [version]);
      const bootsBefore = gateway.handler.callsOf('BootNotification');
      const first = await station.send('BootNotification', boot, { messageId: '1' });
      expect(first).toMatchObject({ type: 'result' });
      // A resend on the same connection is the spec's retry: the same answer, not a second boot.
      expect(await station.send('BootNotification', boot, { messageId: '1' })).toEqual(first);
      expect(gateway.handler.callsOf('BootNotification')).toBe(bootsBefore + 1);
      await station.close();
      // Same id, same content, new connection: a new boot, handled (and so recorded) and answered afresh.
      const rebooted = await gateway.connect('CP-1', [version]);
      expect(await rebooted.send('BootNotification', boot, { messageId: '1' })).toMatchObject({ type: 'result', messageId: '1' });
      expect(gateway.handler.callsOf('BootNotification')).toBe(bootsBefore + 2);
      const [boot1, boot2] = gateway.handler.calls.filter((c) => c.action === 'BootNotification').slice(-2);
      expect(boot1?.ctx.connectionId).not.toBe(boot2?.ctx.connectionId);
      await rebooted.close();
    });
  }

  it('a BootNotification still unanswered when the socket dropped is run again on the new connection, never replayed', async () => {
    const handler = new RecordingHandler();
    let release: () => void = () => {};
    let boots = 0;
    const original = handler.handleCall.bind(handler);
    handler.handleCall = async (ctx, action, payload) => {
      boots += action === 'BootNotification' ? 1 : 0;
      if (action === 'BootNotification' && boots === 1) {
        await new Promise<void>((resolve) => {
          release = resolve;
        });
      }
      return original(ctx, action, payload);
    };
    const own = await startGateway({ handler });
    try {
      const station = await own.connect('CP-1', ['ocpp1.6']);
      station.sendRaw(JSON.stringify([2, 'b1', 'BootNotification', bootNotification16]));
      await eventually(() => boots === 1); // the first boot is in the handler, unanswered
      station.terminate();
      const rebooted = await own.connect('CP-1', ['ocpp1.6']);
      const answer = rebooted.send('BootNotification', bootNotification16, { messageId: 'b1' });
      release();
      expect(await answer).toMatchObject({ type: 'result', messageId: 'b1', payload: { status: 'Accepted' } });
      expect(handler.callsOf('BootNotification')).toBe(2);
      expect(new Set(handler.calls.map((c) => c.ctx.connectionId)).size).toBe(2);
      await rebooted.close();
    } finally {
      await own.close();
    }
  });
});

describe('OCPP gateway: the last line of defence of a connection', () => {
  // A logger that throws stands for any bug on the per-message path: before, the exception left
  // the ws 'message' listener and took the process down.
  const throwOn = new Set<string>();
  const log: OcppLogger = {
    info: (_object, message) => {
      if (throwOn.has(message)) throw new Error(`logger broke on "${message}"`);
    },
    warn: (_object, message) => {
      if (throwOn.has(message)) throw new Error(`logger broke on "${message}"`);
    },
    error: () => {},
  };
  let server: Server;
  let gateway: OcppGateway;
  let url: string;
  beforeAll(async () => {
    gateway = new OcppGateway({ handler: new RecordingHandler(), authenticateStation: authenticateByPassword }, log);
    server = createServer();
    server.on('upgrade', (request, socket, head) => void gateway.handleUpgrade(request, socket, head));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}/ocpp`;
  });
  afterAll(async () => {
    await gateway.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('answers InternalError when it knows the CALL id, counts the error, and keeps the connection', async () => {
    const station = await StationSimulator.connect({ url, stationId: 'CP-1', protocols: ['ocpp2.0.1'], password: passwords['CP-1']! });
    const before = await unexpectedErrorCount('ocpp-connection');
    expect(await station.send('Heartbeat', {}, { messageId: 'r1' })).toMatchObject({ type: 'result' });
    throwOn.add('ocpp repeated CALL, replaying answer');
    expect(await station.send('Heartbeat', {}, { messageId: 'r1' })).toMatchObject({ type: 'error', code: 'InternalError' });
    throwOn.clear();
    expect(await unexpectedErrorCount('ocpp-connection')).toBe(before + 1);

    // A frame fault: the CALLERROR went out before the failure; nothing more to answer.
    throwOn.add('ocpp message refused');
    station.sendRaw('not json');
    expect(await station.waitForFrame((f) => isCallError(f, 'RpcFrameworkError', '-1'))).toBeTruthy();
    expect(await station.call('Heartbeat', {})).toHaveProperty('currentTime');
    expect(await unexpectedErrorCount('ocpp-connection')).toBe(before + 2);
    throwOn.clear();
    await station.close();
  });
});
