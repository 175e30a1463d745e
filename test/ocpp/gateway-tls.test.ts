import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuthenticateStation } from '../../ocpp/gateway.js';
import { createTestPki, type TestPki } from './certs.js';
import { authenticateByPassword, startGateway, type TestGateway } from './harness.js';

// Security profiles 2 (TLS + Basic auth) and 3 (mutual TLS) on an https fastify server.
describe('OCPP gateway over TLS', () => {
  let pki: TestPki;
  let gateway: TestGateway;
  const seen: { stationId: string; password?: string; certCn?: string; tls: boolean }[] = [];
  const recording: AuthenticateStation = async (stationId, password, cert, transport) => {
    seen.push({ stationId, ...(password !== undefined ? { password } : {}), ...(cert ? { certCn: String(cert.subject.CN) } : {}), tls: transport.tls });
    return authenticateByPassword(stationId, password, cert, transport);
  };

  beforeAll(async () => {
    pki = createTestPki();
    gateway = await startGateway(
      { authenticateStation: recording },
      // rejectUnauthorized false: profile 2 stations bring no certificate; the hook decides.
      { https: { key: pki.serverKey, cert: pki.serverCert, ca: pki.caCert, requestCert: true, rejectUnauthorized: false } },
    );
  });
  afterAll(async () => {
    await gateway.close();
    pki.remove();
  });

  it('profile 2: TLS with Basic credentials', async () => {
    const station = await gateway.connect('CP-1', ['ocpp2.0.1'], { tls: { ca: pki.caCert } });
    expect(await station.call('Heartbeat', {})).toHaveProperty('currentTime');
    expect(seen.at(-1)).toEqual({ stationId: 'CP-1', password: 'secret-1', tls: true });
    await expect(gateway.connect('CP-1', ['ocpp2.0.1'], { tls: { ca: pki.caCert }, password: 'nope' })).rejects.toMatchObject({ status: 401 });
    await station.close();
  });

  it('profile 3: a client certificate from our CA reaches the hook and the handler', async () => {
    const client = pki.clientFor('CP-3');
    const station = await gateway.connect('CP-3', ['ocpp1.6'], { tls: { ca: pki.caCert, ...client } });
    expect(await station.call('Heartbeat', {})).toHaveProperty('currentTime');
    expect(seen.at(-1)).toEqual({ stationId: 'CP-3', certCn: 'CP-3', tls: true });
    expect(gateway.handler.events.at(-1)?.ctx.tlsClientCert?.subject.CN).toBe('CP-3');
    await station.close();
  });

  it('profile 3: a certificate from another CA is not passed on, so the station is refused', async () => {
    const client = pki.clientFor('CP-3', 'foreign');
    await expect(gateway.connect('CP-3', ['ocpp1.6'], { tls: { ca: pki.caCert, ...client } })).rejects.toMatchObject({ status: 401 });
    expect(seen.at(-1)).toEqual({ stationId: 'CP-3', tls: true });
  });

  it('a certificate for another station id is refused', async () => {
    const client = pki.clientFor('CP-4');
    await expect(gateway.connect('CP-3', ['ocpp1.6'], { tls: { ca: pki.caCert, ...client } })).rejects.toMatchObject({ status: 401 });
  });
});
