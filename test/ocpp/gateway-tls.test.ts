import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tlsProtocolOptions } from '../../api/tls-profile.js';
import type { AuthenticateStation } from '../../ocpp/gateway.js';
import { createTestPki, type TestPki } from './certs.js';
import { authenticateByPassword, startGateway, type TestGateway } from './harness.js';

// Security profiles 2 (TLS + Basic auth) and 3 (mutual TLS) on an https fastify server with the
// TLS settings the real server uses (api/tls-profile.ts). RSA server key: the suites under test
// authenticate the server with RSA, as many deployments do.
describe('OCPP gateway over TLS', () => {
  let pki: TestPki;
  let gateway: TestGateway;
  const seen: { stationId: string; password?: string; certCn?: string; tls: boolean; tlsError?: string }[] = [];
  const recording: AuthenticateStation = async (stationId, password, cert, transport) => {
    seen.push({
      stationId,
      ...(password !== undefined ? { password } : {}),
      ...(cert ? { certCn: String(cert.subject.CN) } : {}),
      tls: transport.tls,
      ...(transport.tlsAuthorizationError !== undefined ? { tlsError: transport.tlsAuthorizationError } : {}),
    });
    return authenticateByPassword(stationId, password, cert, transport);
  };

  beforeAll(async () => {
    pki = createTestPki({ serverKey: 'rsa' });
    gateway = await startGateway(
      { authenticateStation: recording },
      // rejectUnauthorized false: profile 2 stations bring no certificate; the hook decides.
      {
        https: {
          key: pki.serverKey,
          cert: pki.serverCert,
          ca: pki.caCert,
          requestCert: true,
          rejectUnauthorized: false,
          ...tlsProtocolOptions('intermediate'),
        },
      },
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

  it('profile 3: a certificate from another CA is not passed on, but the reason it failed is', async () => {
    const client = pki.clientFor('CP-3', 'foreign');
    await expect(gateway.connect('CP-3', ['ocpp1.6'], { tls: { ca: pki.caCert, ...client } })).rejects.toMatchObject({ status: 401 });
    expect(seen.at(-1)).toEqual({ stationId: 'CP-3', tls: true, tlsError: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' });
  });

  it('profile 3: an expired certificate from our CA is not passed on, and named expired', async () => {
    const client = pki.clientFor('CP-3', 'ca', { expired: true });
    await expect(gateway.connect('CP-3', ['ocpp1.6'], { tls: { ca: pki.caCert, ...client } })).rejects.toMatchObject({ status: 401 });
    expect(seen.at(-1)).toEqual({ stationId: 'CP-3', tls: true, tlsError: 'CERT_HAS_EXPIRED' });
  });

  it('a certificate for another station id is refused', async () => {
    const client = pki.clientFor('CP-4');
    await expect(gateway.connect('CP-3', ['ocpp1.6'], { tls: { ca: pki.caCert, ...client } })).rejects.toMatchObject({ status: 401 });
  });

  describe('intermediate profile (TLS 1.2+, forward-secret AEAD suites only)', () => {
    const connectWith = (tls: Record<string, unknown>) => gateway.connect('CP-1', ['ocpp2.0.1'], { tls: { ca: pki.caCert, ...tls } });

    it('accepts TLS 1.2 with ECDHE-RSA-AES128-GCM-SHA256', async () => {
      const station = await connectWith({ maxVersion: 'TLSv1.2', ciphers: 'ECDHE-RSA-AES128-GCM-SHA256' });
      expect(await station.call('Heartbeat', {})).toHaveProperty('currentTime');
      await station.close();
    });

    it('refuses a TLS 1.2 client offering only CBC suites or RSA key exchange (no forward secrecy)', async () => {
      for (const ciphers of ['AES128-SHA', 'AES256-SHA256', 'ECDHE-RSA-AES128-SHA', 'AES128-GCM-SHA256']) {
        await expect(connectWith({ maxVersion: 'TLSv1.2', ciphers }), ciphers).rejects.toThrow(/handshake failure|no shared cipher|alert/i);
      }
    });

    it('refuses TLS 1.1', async () => {
      // The client must be allowed to offer 1.1 at all (OpenSSL security level 0) for the server to be the one refusing.
      await expect(connectWith({ minVersion: 'TLSv1.1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0' })).rejects.toThrow(
        /protocol version|unsupported protocol|alert|wrong version/i,
      );
    });
  });
});

describe('modern TLS profile', () => {
  let pki: TestPki;
  let gateway: TestGateway;

  beforeAll(async () => {
    pki = createTestPki({ serverKey: 'rsa' });
    gateway = await startGateway({}, { https: { key: pki.serverKey, cert: pki.serverCert, ...tlsProtocolOptions('modern') } });
  });
  afterAll(async () => {
    await gateway.close();
    pki.remove();
  });

  it('speaks TLS 1.3 only', async () => {
    const station = await gateway.connect('CP-1', ['ocpp2.0.1'], { tls: { ca: pki.caCert } });
    expect((station.ws as unknown as { _socket: import('node:tls').TLSSocket })._socket.getProtocol()).toBe('TLSv1.3');
    await station.close();
    // The simulator hands every `tls` option to tls.connect, beyond the ones its type names.
    const tls12Only: Record<string, unknown> = { maxVersion: 'TLSv1.2', ciphers: 'ECDHE-RSA-AES128-GCM-SHA256' };
    await expect(gateway.connect('CP-1', ['ocpp2.0.1'], { tls: { ca: pki.caCert, ...tls12Only } })).rejects.toThrow(/protocol version|alert|unsupported/i);
  });
});
