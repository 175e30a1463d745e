import { request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { ocppHandshakeTimeoutMs, ocppPingIntervalMs, ocppStationIdCharsMax } from '../../ocpp/limits.js';
import { HandshakeRefusedError, StationSimulator } from '../support/station-simulator.js';
import { bootNotification16, eventually, startGateway, type TestGateway } from './harness.js';

describe('OCPP gateway handshake (OCPP-J §3)', () => {
  let gateway: TestGateway;
  afterEach(() => gateway.close());

  it('picks the first version of our preference that the station offers', async () => {
    gateway = await startGateway();
    expect((await gateway.connect('CP-1', ['ocpp1.6', 'ocpp2.0.1'])).protocol).toBe('ocpp2.0.1');
    expect((await gateway.connect('CP-2', ['ocpp1.6'])).protocol).toBe('ocpp1.6');
    await gateway.close();
    gateway = await startGateway({ subprotocols: ['ocpp1.6', 'ocpp2.0.1'] });
    expect((await gateway.connect('CP-1', ['ocpp2.0.1', 'ocpp1.6'])).protocol).toBe('ocpp1.6');
  });

  it('refuses a station that offers no version we speak: 101 without subprotocol, then close 1002', async () => {
    gateway = await startGateway();
    // ws, like most station stacks, itself aborts when its offer is not echoed.
    await expect(gateway.connect('CP-1', ['ocpp1.5'])).rejects.toThrow(/no subprotocol/);
    const none = await gateway.connect('CP-1', []);
    expect(await none.closed).toEqual({ code: 1002, reason: 'no supported OCPP version offered' });
    expect(gateway.handler.events).toEqual([]);
  });

  it('takes the station id from the URL, percent-decoded, and refuses a malformed one with 400', async () => {
    gateway = await startGateway({ authenticateStation: async () => 'accept' });
    const fine = await gateway.connect('CP.1|a@b', ['ocpp2.0.1']);
    expect(gateway.handler.events.at(-1)?.stationId).toBe('CP.1|a@b');
    await fine.close();
    const longest = 'x'.repeat(ocppStationIdCharsMax);
    await (await gateway.connect(longest, ['ocpp2.0.1'])).close();
    for (const bad of ['x'.repeat(ocppStationIdCharsMax + 1), 'CP 1', 'CP:1', 'CP/1']) {
      await expect(gateway.connect(bad, ['ocpp2.0.1'])).rejects.toMatchObject({ status: 400 });
    }
    await expect(StationSimulator.connect({ url: `${gateway.url}`, stationId: '', protocols: ['ocpp1.6'] })).rejects.toMatchObject({ status: 400 });
  });

  it('checks Basic credentials (security profile 1): 401 when refused', async () => {
    gateway = await startGateway();
    const ok = await gateway.connect('CP-1', ['ocpp1.6']);
    expect(await ok.call('BootNotification', bootNotification16)).toMatchObject({ status: 'Accepted' });
    expect(gateway.handler.events[0]?.ctx).toMatchObject({ stationId: 'CP-1', tenantId: 't1', admission: 'accepted' });
    await expect(gateway.connect('CP-1', ['ocpp1.6'], { password: 'wrong' })).rejects.toBeInstanceOf(HandshakeRefusedError);
    await expect(gateway.connect('CP-1', ['ocpp1.6'], { password: 'wrong' })).rejects.toMatchObject({ status: 401 });
    await expect(gateway.connect('CP-9', ['ocpp1.6'])).rejects.toMatchObject({ status: 401 }); // no password at all
    // The username must be the station id, even with the right password.
    await expect(gateway.connect('CP-1', ['ocpp1.6'], { username: 'CP-2', password: 'secret-1' })).rejects.toMatchObject({ status: 401 });
  });

  it("admits a 'pending' station and tells the handler", async () => {
    gateway = await startGateway();
    const station = await gateway.connect('CP-P', ['ocpp1.6']);
    expect(await station.call('BootNotification', bootNotification16)).toMatchObject({ status: 'Pending' });
  });

  it(`answers 503 when authentication takes longer than ocppHandshakeTimeoutMs (${ocppHandshakeTimeoutMs} ms default)`, async () => {
    gateway = await startGateway({ authenticateStation: () => new Promise(() => {}), limits: { handshakeTimeoutMs: 100 } });
    await expect(gateway.connect('CP-1', ['ocpp1.6'])).rejects.toMatchObject({ status: 503 });
  });

  it('answers 404 to an upgrade outside the OCPP path', async () => {
    gateway = await startGateway();
    const port = new URL(gateway.url).port;
    const status = await new Promise<number>((resolve) => {
      const upgrade = request({
        host: '127.0.0.1', port, path: '/elsewhere/CP-1',
        headers: { connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==' },
      });
      upgrade.on('response', (response) => resolve(response.statusCode ?? 0));
      upgrade.end();
    });
    expect(status).toBe(404);
  });

  it('lets a newer connection of a station win: the older is closed with 4000, the station stays online', async () => {
    gateway = await startGateway();
    const older = await gateway.connect('CP-1', ['ocpp1.6']);
    const newer = await gateway.connect('CP-1', ['ocpp2.0.1']);
    expect(await older.closed).toEqual({ code: 4000, reason: 'replaced by a newer connection' });
    expect(await newer.call('Heartbeat', {})).toHaveProperty('currentTime');
    expect(gateway.handler.events.map((e) => e.type)).toEqual(['connected', 'connected']);
    expect(gateway.app.ocppStations.versionOf('CP-1')).toBe('ocpp2.0.1');
    await newer.close();
    await eventually(() => gateway.handler.events.at(-1)?.type === 'disconnected');
    expect(gateway.handler.events.at(-1)).toMatchObject({ reason: 'closedByStation' });
  });

  it(`terminates a peer that misses a ping (ocppPingIntervalMs, ${ocppPingIntervalMs} ms in production) and reports it`, async () => {
    gateway = await startGateway({ limits: { pingIntervalMs: 100 } });
    const dead = await gateway.connect('CP-1', ['ocpp1.6'], { autoPong: false });
    const alive = await gateway.connect('CP-2', ['ocpp2.0.1']);
    expect((await dead.closed).code).toBe(1006);
    await eventually(() => gateway.handler.events.some((e) => e.type === 'disconnected'));
    expect(gateway.handler.events.filter((e) => e.type === 'disconnected')).toMatchObject([{ stationId: 'CP-1', reason: 'pingTimeout' }]);
    await new Promise((resolve) => setTimeout(resolve, 300)); // several ping rounds
    expect(await alive.call('Heartbeat', {})).toHaveProperty('currentTime');
    expect(gateway.app.ocppStations.connectedStationIds()).toEqual(['CP-2']);
  });

  it('closes stations with 1001 when the server shuts down', async () => {
    gateway = await startGateway();
    const station = await gateway.connect('CP-1', ['ocpp1.6']);
    await gateway.app.close();
    expect((await station.closed).code).toBe(1001);
    await eventually(() => gateway.handler.events.at(-1)?.type === 'disconnected');
    expect(gateway.handler.events.at(-1)).toMatchObject({ type: 'disconnected', reason: 'serverShutdown' });
  });
});
