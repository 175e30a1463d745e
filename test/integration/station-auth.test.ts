import { randomBytes, scryptSync } from 'node:crypto';
import type { PeerCertificate } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixedClock } from '../../adapters/clock/clock.js';
import { openMemoryEventStore } from '../../adapters/event-store/memory.js';
import { openPostgresEventStore } from '../../adapters/event-store/postgres.js';
import type { SqlDatabase } from '../../adapters/sql/port.js';
import { registerStation } from '../../api/operator-commands.js';
import { buildServer } from '../../api/server.js';
import {
  createStationAuthenticator,
  createStationCredentialsLookup,
  hashStationPassword,
  stationCredentialsCacheEntriesMax,
  stationCredentialsCacheTtlMs,
  stationCredentialsUnknownCacheTtlMs,
  streamStationCredentials,
  passwordVerificationsPerStationMax,
  unknownStationConnectionsMax,
  unknownStationConnectionsPerAddressMax,
  unknownStationConnectionWindowMs,
  verifyStationPassword,
  type StationCredentials,
  type StationCredentialsLookup,
} from '../../api/station-auth.js';
import { addressPasswordFailuresAllowed, stationPasswordFailuresAllowed } from '../../api/station-auth-throttle.js';
import { createCommandBus } from '../../commands/index.js';
import { HandshakeRefusedError } from '../../ocpp/handshake.js';
import { createTestPki, type TestPki } from '../ocpp/certs.js';
import { createTestPgliteDatabase } from '../support/services.js';
import { StationSimulator } from '../support/station-simulator.js';

const password = 'correct-horse-battery';
const plain = { tls: false };
const overTls = { tls: true };
const certFor = (cn: string) => ({ subject: { CN: cn } }) as unknown as PeerCertificate;

function fakeLookup(stations: Record<string, StationCredentials>): StationCredentialsLookup & { calls: number } {
  const lookup = Object.assign(
    async (_tenantId: string, stationId: string) => {
      lookup.calls += 1;
      await new Promise((resolve) => setTimeout(resolve, 5)); // a database round trip
      return stations[stationId] ?? null;
    },
    { calls: 0 },
  );
  return lookup;
}

describe('station passwords', () => {
  it('are stored as salted scrypt hashes and verified in constant time', async () => {
    const hash = await hashStationPassword(password);
    expect(hash).toMatch(/^scrypt\$16384\$8\$1\$[\w-]+\$[\w-]+$/);
    expect(hash).not.toContain(password);
    expect(await hashStationPassword(password)).not.toBe(hash); // a salt of its own
    expect(await verifyStationPassword(password, hash)).toBe(true);
    expect(await verifyStationPassword(`${password}x`, hash)).toBe(false);
    expect(await verifyStationPassword(password, 'sha256:0f1e')).toBe(false);
    expect(await verifyStationPassword(password, 'scrypt$999999999$8$1$c2FsdA$aGFzaA')).toBe(false); // cost beyond the cap
  });
});

describe('station authentication by security profile', () => {
  let hash: string;
  beforeAll(async () => {
    hash = await hashStationPassword(password);
  });

  function authenticator(options: { unknownStations?: 'reject' | 'pending' | 'accept'; allowUnsecured?: boolean } = {}) {
    const warnings: object[] = [];
    const lookup = fakeLookup({
      'CP-0': { securityProfile: 0, passwordHash: null },
      'CP-1': { securityProfile: 1, passwordHash: hash },
      'CP-2': { securityProfile: 2, passwordHash: hash },
      'CP-3': { securityProfile: 3, passwordHash: null },
    });
    let nowMs = 1_000_000;
    const auth = createStationAuthenticator({
      lookup,
      tenantId: 'default',
      unknownStations: options.unknownStations ?? 'reject',
      allowUnsecured: options.allowUnsecured ?? false,
      log: { warn: (object) => warnings.push(object) },
      nowMs: () => nowMs,
    });
    return { auth, lookup, warnings, advanceMs: (ms: number) => (nowMs += ms) };
  }

  it('profile 1: the right Basic password; a wrong or missing one is refused, logged and counted', async () => {
    const { auth, warnings } = authenticator();
    expect(await auth.authenticateStation('CP-1', password, undefined, plain)).toBe('accept');
    expect(await auth.authenticateStation('CP-1', password, undefined, overTls)).toBe('accept'); // more secure is fine
    expect(await auth.authenticateStation('CP-1', 'wrong-password-123', undefined, plain)).toBe('reject');
    expect(await auth.authenticateStation('CP-1', undefined, undefined, plain)).toBe('reject');
    expect(auth.denials()).toMatchObject({ passwordWrong: 1, passwordMissing: 1 });
    expect(warnings).toEqual([
      expect.objectContaining({ stationId: 'CP-1', reason: 'passwordWrong' }),
      expect.objectContaining({ stationId: 'CP-1', reason: 'passwordMissing' }),
    ]);
  });

  it('profile 2: TLS and the password; without TLS refused even with the right password', async () => {
    const { auth } = authenticator();
    expect(await auth.authenticateStation('CP-2', password, undefined, overTls)).toBe('accept');
    expect(await auth.authenticateStation('CP-2', password, undefined, plain)).toBe('reject');
    expect(await auth.authenticateStation('CP-2', 'wrong-password-123', undefined, overTls)).toBe('reject');
    expect(auth.denials()).toMatchObject({ tlsRequired: 1, passwordWrong: 1 });
  });

  it('profile 3: a verified client certificate naming the station; none, or another name, is refused', async () => {
    const { auth } = authenticator();
    expect(await auth.authenticateStation('CP-3', undefined, certFor('CP-3'), overTls)).toBe('accept');
    expect(await auth.authenticateStation('CP-3', password, undefined, overTls)).toBe('reject'); // a password is not a certificate
    expect(await auth.authenticateStation('CP-3', undefined, certFor('CP-4'), overTls)).toBe('reject');
    expect(await auth.authenticateStation('CP-3', undefined, certFor('CP-3'), plain)).toBe('reject');
    expect(auth.denials()).toMatchObject({ clientCertificateMissing: 1, clientCertificateMismatch: 1, tlsRequired: 1 });
  });

  it('profile 0 only when unsecured stations are allowed', async () => {
    expect(await authenticator().auth.authenticateStation('CP-0', undefined, undefined, plain)).toBe('reject');
    expect(await authenticator({ allowUnsecured: true }).auth.authenticateStation('CP-0', undefined, undefined, plain)).toBe('accept');
  });

  it('unknown stations follow the policy', async () => {
    const rejecting = authenticator({ unknownStations: 'reject' }).auth;
    expect(await rejecting.authenticateStation('CP-NEW', password, undefined, plain)).toBe('reject');
    expect(rejecting.denials().unknownStation).toBe(1);
    expect(await authenticator({ unknownStations: 'pending' }).auth.authenticateStation('CP-NEW', undefined, undefined, plain)).toBe('pending');
    expect(await authenticator({ unknownStations: 'accept' }).auth.authenticateStation('CP-NEW', undefined, undefined, plain)).toBe('accept');
  });

  it('a reconnect storm is one lookup per station; the cache expires, can be told to forget, and is bounded', async () => {
    const { auth, lookup, advanceMs } = authenticator();
    const storm = await Promise.all(Array.from({ length: 1_000 }, () => auth.authenticateStation('CP-1', password, undefined, plain)));
    expect(new Set(storm)).toEqual(new Set(['accept']));
    expect(lookup.calls).toBe(1);
    advanceMs(stationCredentialsCacheTtlMs - 1);
    await auth.authenticateStation('CP-1', password, undefined, plain);
    expect(lookup.calls).toBe(1);
    advanceMs(2);
    await auth.authenticateStation('CP-1', password, undefined, plain);
    expect(lookup.calls).toBe(2);
    auth.forget('CP-1');
    await auth.authenticateStation('CP-1', password, undefined, plain);
    expect(lookup.calls).toBe(3);

    // "Unknown" is remembered more briefly.
    await auth.authenticateStation('CP-NEW', password, undefined, plain);
    await auth.authenticateStation('CP-NEW', password, undefined, plain);
    expect(lookup.calls).toBe(4);
    advanceMs(stationCredentialsUnknownCacheTtlMs + 1);
    await auth.authenticateStation('CP-NEW', password, undefined, plain);
    expect(lookup.calls).toBe(5);
  });

  it('the cache holds at most its bound: the least recently used station is dropped first', async () => {
    const lookups: string[] = [];
    const auth = createStationAuthenticator({
      lookup: async (_tenantId, stationId) => {
        lookups.push(stationId);
        return null;
      },
      tenantId: 'default',
      // 'accept': the subject is the cache; pending admissions have an allowance per address (below).
      unknownStations: 'accept',
      allowUnsecured: false,
      log: { warn: () => {} },
    });
    for (let i = 0; i <= stationCredentialsCacheEntriesMax; i++) await auth.authenticateStation(`CP-${i}`, undefined, undefined, plain);
    expect(lookups).toHaveLength(stationCredentialsCacheEntriesMax + 1);
    await auth.authenticateStation(`CP-${stationCredentialsCacheEntriesMax}`, undefined, undefined, plain); // newest: cached
    expect(lookups).toHaveLength(stationCredentialsCacheEntriesMax + 1);
    await auth.authenticateStation('CP-0', undefined, undefined, plain); // oldest: evicted
    expect(lookups).toHaveLength(stationCredentialsCacheEntriesMax + 2);
  });

  it(`unregistered stations are admitted pending ${unknownStationConnectionsPerAddressMax} a window per address and ${unknownStationConnectionsMax} in all, then 429; registered ones never count`, async () => {
    const { auth, advanceMs } = authenticator({ unknownStations: 'pending' });
    const from = (remoteAddress: string) => ({ tls: false, remoteAddress });
    for (let i = 0; i < unknownStationConnectionsPerAddressMax; i++) {
      expect(await auth.authenticateStation(`NEW-${i}`, undefined, undefined, from('203.0.113.7'))).toBe('pending');
    }
    const refused = await auth.authenticateStation('NEW-X', undefined, undefined, from('203.0.113.7')).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(HandshakeRefusedError);
    expect(refused).toMatchObject({ status: 429, retryAfterSeconds: unknownStationConnectionWindowMs / 1000 });
    // Another address is not held up; a registered station from the busy address is not either.
    expect(await auth.authenticateStation('NEW-X', undefined, undefined, from('198.51.100.1'))).toBe('pending');
    expect(await auth.authenticateStation('CP-1', password, undefined, from('203.0.113.7'))).toBe('accept');
    expect(auth.denials().unknownStationsThrottled).toBe(1);
    advanceMs(unknownStationConnectionWindowMs);
    expect(await auth.authenticateStation('NEW-X', undefined, undefined, from('203.0.113.7'))).toBe('pending');
    // Many addresses together stop at the overall allowance.
    advanceMs(unknownStationConnectionWindowMs);
    const outcomes = await Promise.all(
      Array.from({ length: unknownStationConnectionsMax + 10 }, (_, i) =>
        auth.authenticateStation(`MANY-${i}`, undefined, undefined, from(`192.0.2.${i % 250}`)).catch((error: unknown) => error),
      ),
    );
    expect(outcomes.filter((outcome) => outcome === 'pending')).toHaveLength(unknownStationConnectionsMax);
    expect(outcomes.filter((outcome) => outcome instanceof HandshakeRefusedError && outcome.status === 429)).toHaveLength(10);
  });

  it('a failing lookup is counted and rethrown (the gateway answers 503, not "unknown")', async () => {
    const auth = createStationAuthenticator({
      lookup: async () => {
        throw new Error('database down');
      },
      tenantId: 'default',
      unknownStations: 'pending',
      allowUnsecured: false,
      log: { warn: () => {} },
    });
    await expect(auth.authenticateStation('CP-1', password, undefined, plain)).rejects.toThrow('database down');
    expect(auth.denials().lookupFailed).toBe(1);
  });
});

describe('wrong-password floods (clock stopped, so no block ends during the test)', () => {
  const attacked = ['CP-1', 'CP-A', 'CP-B', 'CP-C'];
  const fromAttacker = { tls: false, remoteAddress: '203.0.113.9' };

  /** A hash in the stored format at 1/16 of the cost (the verifier honours the stored N), to keep the test quick. */
  function cheapHash(text: string): string {
    const salt = randomBytes(16);
    return ['scrypt', 1024, 8, 1, salt.toString('base64url'), scryptSync(text, salt, 32, { N: 1024, r: 8, p: 1 }).toString('base64url')].join('$');
  }

  async function floodedAuthenticator() {
    const hash = cheapHash(password);
    expect(await verifyStationPassword(password, hash)).toBe(true);
    const stations = Object.fromEntries([...attacked, 'CP-FRESH'].map((id) => [id, { securityProfile: 1 as const, passwordHash: hash }]));
    const warnings: object[] = [];
    const auth = createStationAuthenticator({
      lookup: fakeLookup(stations),
      tenantId: 'default',
      unknownStations: 'reject',
      allowUnsecured: false,
      log: { warn: (object) => warnings.push(object) },
      nowMs: () => 5_000_000,
    });
    return { auth, warnings };
  }

  /** One attempt's outcome: the decision, or the refusal's HTTP status. */
  const attempt = (promise: Promise<unknown>) =>
    promise.then(
      (decision) => String(decision),
      (error: unknown) => (error instanceof HandshakeRefusedError ? error.status : 'error'),
    );

  it('costs a bounded number of scrypt runs, answers the rest 429 at once, and never delays a verified station', async () => {
    const { auth, warnings } = await floodedAuthenticator();
    expect(await auth.authenticateStation('CP-1', password, undefined, { tls: false, remoteAddress: '127.0.0.1' })).toBe('accept');
    const before = auth.passwordVerifications();
    const outcomes: (string | number)[] = [];
    // 5 waves of 240 concurrent attempts, each with a password of its own, over 4 station ids.
    for (let wave = 0; wave < 5; wave++) {
      const flood = Array.from({ length: 240 }, (_, i) =>
        attempt(auth.authenticateStation(attacked[i % attacked.length]!, `wrong-password-${wave}-${i}`, undefined, fromAttacker)),
      );
      // The station that connected before is answered from its verified password, whatever the queue holds.
      expect(await auth.authenticateStation('CP-1', password, undefined, { tls: false, remoteAddress: '127.0.0.1' })).toBe('accept');
      outcomes.push(...(await Promise.all(flood)));
    }
    const scryptRuns = auth.passwordVerifications() - before;
    // Per station id: its allowance plus the checks already running when the block began.
    expect(scryptRuns).toBeLessThanOrEqual(attacked.length * (stationPasswordFailuresAllowed + passwordVerificationsPerStationMax));
    expect(outcomes.filter((outcome) => outcome === 'reject')).toHaveLength(scryptRuns);
    expect(outcomes.filter((outcome) => outcome === 429)).toHaveLength(outcomes.length - scryptRuns);
    expect(auth.denials()).toMatchObject({ passwordWrong: scryptRuns, throttled: outcomes.length - scryptRuns });
    expect(auth.throttleKeys()).toEqual({ stations: attacked.length, addresses: 1 });
    // A block is logged when it starts or grows, not once per refused attempt.
    expect(warnings.filter((warning) => 'stationBlockedMs' in warning).length).toBeLessThanOrEqual(scryptRuns);
  });

  it('a blocked address or station id alone does not refuse the other side: a clean station id is still checked, first', async () => {
    const { auth } = await floodedAuthenticator();
    // Enough failures from the attacker's address to block it and every attacked station id.
    for (let i = 0; i < addressPasswordFailuresAllowed; i++) {
      await attempt(auth.authenticateStation(attacked[i % attacked.length]!, `wrong-password-${i}`, undefined, fromAttacker));
    }
    await expect(auth.authenticateStation('CP-A', 'wrong-password-x', undefined, fromAttacker)).rejects.toMatchObject({ status: 429 });
    // A station that never failed, from the same (shared, NAT) address, and its first connect since start.
    const fresh = auth.authenticateStation('CP-FRESH', password, undefined, fromAttacker);
    // An attacked station id from an address that never failed (the real station, after a restart).
    const elsewhere = auth.authenticateStation('CP-A', password, undefined, { tls: false, remoteAddress: '198.51.100.4' });
    expect(await fresh).toBe('accept');
    expect(await elsewhere).toBe('accept');
  });
});

describe('credentials from the recorded registration', () => {
  it('the stream gives the latest registration: registering again changes the password', async () => {
    const eventStore = openMemoryEventStore();
    const clock = fixedClock('2025-06-01T12:00:00Z');
    const deps = { bus: createCommandBus({ eventStore, clock }), clock, tenantId: 'default', actor: 'user:test' };
    const lookup = streamStationCredentials(eventStore);
    expect(await lookup('default', 'CP-1')).toBeNull();
    expect(await registerStation(deps, { stationId: 'CP-1', password })).toMatchObject({ outcome: 'registered', securityProfile: 1 });
    const first = await lookup('default', 'CP-1');
    expect(first?.securityProfile).toBe(1);
    expect(await verifyStationPassword(password, first!.passwordHash!)).toBe(true);
    expect(await registerStation(deps, { stationId: 'CP-1', password: 'the-new-password-2', securityProfile: 2 })).toMatchObject({ outcome: 'securityChanged' });
    const second = await lookup('default', 'CP-1');
    expect(second?.securityProfile).toBe(2);
    expect(await verifyStationPassword(password, second!.passwordHash!)).toBe(false);
    expect(await lookup('other', 'CP-1')).toBeNull(); // tenants do not share stations
  });

  it('refuses a password outside 16..40 characters and profiles that do not match the password', async () => {
    const eventStore = openMemoryEventStore();
    const clock = fixedClock('2025-06-01T12:00:00Z');
    const deps = { bus: createCommandBus({ eventStore, clock }), clock, tenantId: 'default', actor: 'user:test' };
    await expect(registerStation(deps, { stationId: 'CP-1', password: 'short' })).rejects.toThrow(/16 to 40/);
    await expect(registerStation(deps, { stationId: 'CP-1', securityProfile: 1 })).rejects.toThrow(/password/);
    await expect(registerStation(deps, { stationId: 'CP-1', password, securityProfile: 3 })).rejects.toThrow(/uses no password/);
  });
});

describe('security profiles 2 and 3 on the real server (HTTPS, client certificates)', () => {
  let pki: TestPki;
  let db: SqlDatabase;
  let app: Awaited<ReturnType<typeof buildServer>>;
  let url: string;

  beforeAll(async () => {
    pki = createTestPki();
    db = await createTestPgliteDatabase();
    const eventStore = await openPostgresEventStore(db);
    const clock = fixedClock('2025-06-01T12:00:00Z');
    const bus = createCommandBus({ eventStore, clock });
    const deps = { bus, clock, tenantId: 'default', actor: 'user:test' };
    await registerStation(deps, { stationId: 'CP-2', password, securityProfile: 2 });
    await registerStation(deps, { stationId: 'CP-3', securityProfile: 3 });
    // No projections here: the credentials come from the stream (the read model has no hash column).
    expect(await createStationCredentialsLookup({ db, eventStore })('default', 'CP-2')).toMatchObject({ securityProfile: 2 });
    app = await buildServer({
      db,
      eventStore,
      bus,
      clock,
      logLevel: 'silent',
      ocpp: { unknownStations: 'reject', unknownTokens: 'reject', heartbeatIntervalSeconds: 300, pingIntervalSeconds: 60, allowUnsecured: false },
      https: { key: pki.serverKey, cert: pki.serverCert, ca: pki.caCert },
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const address = app.server.address();
    url = `wss://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/ocpp`;
  }, 60_000);
  afterAll(async () => {
    await app?.close();
    await db?.close();
    pki?.remove();
  });

  it('profile 2 over TLS with its password', async () => {
    const station = await StationSimulator.connect({ url, stationId: 'CP-2', protocols: ['ocpp2.0.1'], password, tls: { ca: pki.caCert } });
    expect(await station.call('Heartbeat', {})).toHaveProperty('currentTime');
    await station.close();
    await expect(
      StationSimulator.connect({ url, stationId: 'CP-2', protocols: ['ocpp2.0.1'], password: 'wrong-password-123', tls: { ca: pki.caCert } }),
    ).rejects.toMatchObject({ status: 401 });
  });

  it('profile 3 with a client certificate from our CA naming the station', async () => {
    const station = await StationSimulator.connect({ url, stationId: 'CP-3', protocols: ['ocpp1.6'], tls: { ca: pki.caCert, ...pki.clientFor('CP-3') } });
    expect(await station.call('Heartbeat', {})).toHaveProperty('currentTime');
    await station.close();
    await expect(
      StationSimulator.connect({ url, stationId: 'CP-3', protocols: ['ocpp1.6'], tls: { ca: pki.caCert, ...pki.clientFor('CP-3', 'foreign') } }),
    ).rejects.toMatchObject({ status: 401 });
    await expect(
      StationSimulator.connect({ url, stationId: 'CP-3', protocols: ['ocpp1.6'], tls: { ca: pki.caCert, ...pki.clientFor('CP-9') } }),
    ).rejects.toMatchObject({ status: 401 });
    await expect(
      StationSimulator.connect({ url, stationId: 'CP-3', protocols: ['ocpp1.6'], tls: { ca: pki.caCert, ...pki.clientFor('CP-3', 'ca', { expired: true }) } }),
    ).rejects.toMatchObject({ status: 401 });
    await expect(StationSimulator.connect({ url, stationId: 'CP-3', protocols: ['ocpp1.6'], tls: { ca: pki.caCert } })).rejects.toMatchObject({ status: 401 });
    // Certificates the TLS layer refused are named for what was wrong with them, not "missing".
    expect(app.stationAuthentication.denials()).toMatchObject({
      passwordWrong: 1,
      clientCertificateUntrusted: 1,
      clientCertificateExpired: 1,
      clientCertificateMissing: 1,
      clientCertificateMismatch: 1,
    });
  });
});
