import { createHmac, randomBytes, scrypt as scryptCallback, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import type { PeerCertificate } from 'node:tls';
import type { EventStore } from '../adapters/event-store/port.js';
import type { SqlDatabase } from '../adapters/sql/port.js';
import { upcast } from '../domain/events.js';
import { invariant } from '../domain/shared/assert.js';
import { streamName } from '../domain/shared/event.js';
import { stationAggregateType, type SecurityProfile } from '../domain/station/events.js';
import { HandshakeRefusedError } from '../ocpp/handshake.js';
import type { AuthenticateStation, AuthenticationDecision } from '../ocpp/types.js';
import type { UnknownStationPolicy } from './config.js';
import {
  addressKey,
  addressPasswordFailuresAllowed,
  AdmissionWindows,
  FailureBook,
  stationPasswordFailuresAllowed,
  TieredWorkQueue,
} from './station-auth-throttle.js';

/**
 * Station authentication at the WebSocket handshake, by OCPP security profile (OCPP 1.6 security
 * whitepaper, 2.0.1 Part 2 A00):
 *   0  no credentials at all: only when the server allows it (OCPP_ALLOW_UNSECURED=true);
 *   1  HTTP Basic password, checked against the scrypt hash recorded when it was registered;
 *   2  TLS and Basic password;
 *   3  TLS with a client certificate that verified against our CA and names the station (CN).
 * A station may connect more securely than its profile (profile 1 over TLS) but never less.
 * Stations nobody registered follow OCPP_UNKNOWN_STATIONS. Every refusal is logged and counted.
 */

// ---------------------------------------------------------------------------------------------
// Passwords: only the hash is ever stored (in the StationRegistered event, so in the read model).

/** scrypt cost: 2^14 is node's default and OWASP's floor for scrypt; ~50 ms per hash on one core. */
export const passwordScryptCost = 16_384;
export const passwordScryptBlockSize = 8;
export const passwordScryptParallelization = 1;
export const passwordSaltBytes = 16;
export const passwordHashBytes = 32;
/** Hashes naming a higher cost are refused: a bad stored value must not tie up the thread pool. */
const passwordScryptCostMax = 1 << 20;
/** OCPP 2.0.1 BasicAuthPassword: 16 to 40 characters; we hold 1.6 stations to the same rule. */
export const stationPasswordCharsMin = 16;
export const stationPasswordCharsMax = 40;

const hashPrefix = 'scrypt';

function scrypt(password: string, salt: Buffer, keyLength: number, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scryptCallback(password, salt, keyLength, options, (error, key) => (error ? reject(error) : resolve(key))),
  );
}

/** Why a password cannot be registered, or null when it can. */
export function stationPasswordProblem(password: string): string | null {
  if (password.length < stationPasswordCharsMin || password.length > stationPasswordCharsMax) {
    return `a station password must be ${stationPasswordCharsMin} to ${stationPasswordCharsMax} characters (OCPP BasicAuthPassword)`;
  }
  // Control characters cannot travel in an HTTP header, so such a password could never be sent.
  if (/[\u0000-\u001f\u007f]/.test(password)) return 'a station password may not contain control characters';
  return null;
}

/** `scrypt$N$r$p$salt$hash` (base64url), with a fresh random salt per station. */
export async function hashStationPassword(password: string): Promise<string> {
  const salt = randomBytes(passwordSaltBytes);
  const options = { N: passwordScryptCost, r: passwordScryptBlockSize, p: passwordScryptParallelization };
  const hash = await scrypt(password, salt, passwordHashBytes, options);
  return [hashPrefix, options.N, options.r, options.p, salt.toString('base64url'), hash.toString('base64url')].join('$');
}

/** Constant-time check of a password against a stored hash; false (never an error) for a malformed hash. */
export async function verifyStationPassword(password: string, stored: string): Promise<boolean> {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== hashPrefix) return false;
  const [N, r, p] = parts.slice(1, 4).map(Number) as [number, number, number];
  if (![N, r, p].every(Number.isSafeInteger) || N < 2 || N > passwordScryptCostMax || r < 1 || r > 32 || p < 1 || p > 16) return false;
  const salt = Buffer.from(parts[4]!, 'base64url');
  const expected = Buffer.from(parts[5]!, 'base64url');
  if (salt.length === 0 || expected.length === 0) return false;
  const actual = await scrypt(password, salt, expected.length, { N, r, p, maxmem: 256 * N * r + 1024 * 1024 });
  return timingSafeEqual(actual, expected);
}

// ---------------------------------------------------------------------------------------------
// Where a station's registered profile and hash come from.

export interface StationCredentials {
  readonly securityProfile: SecurityProfile;
  readonly passwordHash: string | null;
}

/** Null: no operator registered the station. */
export type StationCredentialsLookup = (tenantId: string, stationId: string) => Promise<StationCredentials | null>;

/** A station stream longer than this is not folded: something is wrong with it. */
export const stationStreamEventsScannedMax = 1_000_000;
const stationStreamPageSize = 1_000;

/**
 * The registration facts folded from the station's stream. Command-side code (like the token
 * lookup of the translators): no projection lag, so a station registered a moment ago can connect.
 */
export function streamStationCredentials(eventStore: EventStore): StationCredentialsLookup {
  return async (tenantId, stationId) => {
    const stream = streamName(stationAggregateType, tenantId, stationId);
    let credentials: StationCredentials | null = null;
    for (let fromRevision = 0; ; ) {
      const page = await eventStore.readStream(stream, { fromRevision, maxCount: stationStreamPageSize });
      for (const event of page) {
        if (event.type !== 'StationRegistered' && event.type !== 'StationSecurityChanged') continue;
        const data = upcast(event.type, event.schemaVersion, event.data).data as unknown as StationCredentials;
        credentials = { securityProfile: data.securityProfile, passwordHash: data.passwordHash };
      }
      if (page.length < stationStreamPageSize) return credentials;
      fromRevision = page.at(-1)!.revision + 1;
      invariant(fromRevision <= stationStreamEventsScannedMax, `station stream ${stream} is longer than ${stationStreamEventsScannedMax} events`);
    }
  };
}

/**
 * The stations read model (proj_stations.stations.password_hash), falling back to the stream for
 * a station it does not show as registered (yet: projections lag by a moment). Queried on use,
 * not at start: the server must come up (and answer /health 503) while the database is away.
 */
export function createStationCredentialsLookup(deps: { db: SqlDatabase; eventStore: EventStore }): StationCredentialsLookup {
  const fromStream = streamStationCredentials(deps.eventStore);
  return async (tenantId, stationId) => {
    let found;
    try {
      found = await deps.db.query<{ registered: boolean; security_profile: number | null; password_hash: string | null }>(
        'SELECT registered, security_profile, password_hash FROM proj_stations.stations WHERE tenant_id = $1 AND station_id = $2',
        [tenantId, stationId],
      );
    } catch (error) {
      // 42P01 undefined_table: the read model is not migrated (yet); the stream is the truth anyway.
      if ((error as { code?: string }).code === '42P01') return fromStream(tenantId, stationId);
      throw error;
    }
    const row = found.rows[0];
    if (row?.registered && row.security_profile !== null) {
      return { securityProfile: row.security_profile as SecurityProfile, passwordHash: row.password_hash };
    }
    return fromStream(tenantId, stationId);
  };
}

// ---------------------------------------------------------------------------------------------
// The cache: a reconnect storm (every station of a site after a power cut) must not become one
// database read and one scrypt per connection attempt.

/** Stations remembered at once; the least recently used goes first. ~200 bytes each. */
export const stationCredentialsCacheEntriesMax = 20_000;
/** A registered station's credentials are re-read after this: a changed password takes effect within it. */
export const stationCredentialsCacheTtlMs = 30_000;
/** "Not registered" is remembered more briefly, so a station registered just now is let in soon. */
export const stationCredentialsUnknownCacheTtlMs = 5_000;

interface CacheEntry {
  readonly credentials: StationCredentials | null;
  readonly expiresAtMs: number;
}

/**
 * The last password that verified, per station: a repeat skips scrypt and every throttle. Kept apart
 * from the credentials cache, so neither its expiry nor a flood of made-up station ids (which fills
 * that cache) drops it; only a successful verification writes here, which an attacker cannot cause.
 * Valid only while the stored hash is the one it verified against.
 */
interface VerifiedPassword {
  readonly passwordHash: string;
  /** Keyed MAC of the password (never the password itself). */
  readonly mac: Buffer;
}

/**
 * scrypt runs in libuv's thread pool (4 threads by default), shared with DNS and file I/O; more
 * at once only queue there.
 */
export const passwordVerificationsConcurrentMax = 2;
/**
 * Verifications waiting for a slot. The last one still finishes within the 10 s handshake deadline
 * (256 / 2 at ~50 ms each ≈ 6.4 s); beyond it a handshake fails fast with 503 and Retry-After.
 */
export const passwordVerificationsQueuedMax = 256;
/**
 * Different passwords being checked at once for one station id. The station itself sends one (a
 * reconnect storm with the same password shares one check); more is someone guessing.
 */
export const passwordVerificationsPerStationMax = 2;
/** Retry-After of a refusal that is not a block (per-station or global queue full). */
const verificationBusyRetryAfterSeconds = 1;

export class PasswordVerificationBusyError extends HandshakeRefusedError {
  override readonly name = 'PasswordVerificationBusyError';
  constructor() {
    super(503, verificationBusyRetryAfterSeconds, `more than ${passwordVerificationsQueuedMax} station password checks waiting`);
  }
}

/**
 * Connections of stations nobody registered admitted (pending) per source address (IPv6 by /64) per
 * window. Each writes StationConnected, StationBooted and StationDisconnected to the event store,
 * which keeps them for good: 1,000 made-up ids from one address wrote 3,000 events in 25 s. A site
 * commissioning many new stations behind one NAT gets them all in within a few windows (429 and
 * Retry-After, which stations honour like any refused connection).
 */
export const unknownStationConnectionsPerAddressMax = 30;
/** The same from all addresses together, so that many addresses cannot write without bound either. Registered stations are never counted. */
export const unknownStationConnectionsMax = 300;
export const unknownStationConnectionWindowMs = 60_000;

// ---------------------------------------------------------------------------------------------

export const stationAuthenticationDenialReasons = [
  'unknownStation',
  'passwordMissing',
  'passwordWrong',
  /** Not checked: the station id or the address sent too many wrong passwords (429, Retry-After). */
  'throttled',
  /** An unregistered station over its address's (or everyone's) allowance of unknown-station connections (429, Retry-After). */
  'unknownStationsThrottled',
  'tlsRequired',
  'clientCertificateMissing',
  /** A client certificate was sent but did not verify against our CA (the OpenSSL code is logged). */
  'clientCertificateUntrusted',
  /** A client certificate from our CA whose validity has ended. */
  'clientCertificateExpired',
  'clientCertificateMismatch',
  'unsecuredNotAllowed',
  'lookupFailed',
] as const;
export type StationAuthenticationDenialReason = (typeof stationAuthenticationDenialReasons)[number];

export interface StationAuthenticationLog {
  warn(object: object, message: string): void;
}

export interface StationAuthenticatorOptions {
  readonly lookup: StationCredentialsLookup;
  readonly tenantId: string;
  readonly unknownStations: UnknownStationPolicy;
  readonly allowUnsecured: boolean;
  readonly log: StationAuthenticationLog;
  /** For tests of the cache's expiry and of the throttle's backoff. */
  readonly nowMs?: () => number;
}

export interface StationAuthenticator {
  readonly authenticateStation: AuthenticateStation;
  /** Refusals so far by reason, for metrics. */
  denials(): Readonly<Record<StationAuthenticationDenialReason, number>>;
  /** Drops what is cached about a station (after this process registered it or changed its password). */
  forget(stationId: string): void;
  /** Credential lookups that reached the lookup function (the rest were served from the cache). */
  lookups(): number;
  /** scrypt runs so far (password checks that were not answered from the verified-password cache). */
  passwordVerifications(): number;
  /** Keys held by the throttle (station ids, addresses), to show its memory is bounded. */
  throttleKeys(): { stations: number; addresses: number };
}

/**
 * Decides one handshake. Passwords are where an attacker can make us work (a scrypt run each), so:
 *  - a password equal to the station's last verified one is accepted at once: a station that has
 *    connected before never waits behind anyone, whatever is going on;
 *  - every other password is checked in a bounded queue, 2 at a time; one station id may have at
 *    most 2 different passwords in it, and when a station id or an address is blocked (too many
 *    failures, exponential backoff, station-auth-throttle.ts), attempts that are also tainted on
 *    the other side are refused with 429 and Retry-After without running scrypt;
 *  - the queue starts first the checks whose station id and address have no recent failures, so the
 *    first connect of a station after a restart is not behind a flood of wrong passwords.
 * A block on one side alone refuses nothing: a station connecting from a clean address while its
 * id is attacked from elsewhere, or a station whose id is clean connecting from a shared address
 * that is also used for an attack (a site behind one NAT; every test from 127.0.0.1), is still
 * checked. What this bounds: per station id, `stationPasswordFailuresAllowed` scrypt runs and then
 * about one per backoff period from each address; per attacking address, its allowance plus one
 * per registered station id (an unknown id costs no scrypt at all).
 */
export function createStationAuthenticator(options: StationAuthenticatorOptions): StationAuthenticator {
  const nowMs = options.nowMs ?? Date.now;
  const cache = new Map<string, CacheEntry>();
  const inFlight = new Map<string, Promise<CacheEntry>>();
  const denialCounts = Object.fromEntries(stationAuthenticationDenialReasons.map((reason) => [reason, 0])) as Record<
    StationAuthenticationDenialReason,
    number
  >;
  // Per process and never stored: the MACs mean nothing outside this process's memory.
  const macKey = randomBytes(32);
  const macOf = (password: string) => createHmac('sha256', macKey).update(password).digest();
  const verified = new Map<string, VerifiedPassword>();
  /** Checks queued or running, per station id and password MAC: repeats of one password share one. */
  const checking = new Map<string, Map<string, Promise<boolean>>>();
  const stationFailures = new FailureBook(stationPasswordFailuresAllowed);
  const addressFailures = new FailureBook(addressPasswordFailuresAllowed);
  const queue = new TieredWorkQueue(passwordVerificationsConcurrentMax, passwordVerificationsQueuedMax, () => new PasswordVerificationBusyError());
  let lookups = 0;
  let verifications = 0;
  const unknownFromAddress = new AdmissionWindows(unknownStationConnectionsPerAddressMax, unknownStationConnectionWindowMs);
  const unknownFromAll = new AdmissionWindows(unknownStationConnectionsMax, unknownStationConnectionWindowMs);

  /** Admits an unregistered station as pending, within the allowances above; else 429 with Retry-After, counted but not logged per attempt. */
  function admitUnknown(stationId: string, remoteAddress: string | undefined): 'pending' {
    const now = nowMs();
    const address = addressKey(remoteAddress);
    const waitMs = unknownFromAddress.take(address, now) || unknownFromAll.take('', now);
    if (waitMs === 0) return 'pending';
    denialCounts.unknownStationsThrottled += 1;
    throw new HandshakeRefusedError(429, Math.ceil(waitMs / 1000), `too many connections of unregistered stations from ${address} (station ${stationId})`);
  }

  async function entryFor(stationId: string): Promise<CacheEntry> {
    const cached = cache.get(stationId);
    if (cached && cached.expiresAtMs > nowMs()) {
      cache.delete(stationId); // re-insert: Map order is the LRU order
      cache.set(stationId, cached);
      return cached;
    }
    const pending = inFlight.get(stationId);
    if (pending) return pending;
    const loading = (async () => {
      lookups += 1;
      const credentials = await options.lookup(options.tenantId, stationId);
      const ttl = credentials === null ? stationCredentialsUnknownCacheTtlMs : stationCredentialsCacheTtlMs;
      const entry: CacheEntry = { credentials, expiresAtMs: nowMs() + ttl };
      cache.delete(stationId);
      cache.set(stationId, entry);
      while (cache.size > stationCredentialsCacheEntriesMax) cache.delete(cache.keys().next().value as string);
      return entry;
    })();
    inFlight.set(stationId, loading);
    try {
      return await loading;
    } finally {
      inFlight.delete(stationId);
    }
  }

  function deny(stationId: string, reason: StationAuthenticationDenialReason, detail: object = {}): 'reject' {
    denialCounts[reason] += 1;
    options.log.warn({ stationId, reason, ...detail }, 'ocpp station authentication denied');
    return 'reject';
  }

  /** A refusal when one side of (station id, address) is blocked and the other has failed too; else null. */
  function throttled(stationId: string, address: string): HandshakeRefusedError | null {
    const now = nowMs();
    const stationBlockedMs = addressFailures.failures(address, now) > 0 ? stationFailures.blockedForMs(stationId, now) : 0;
    const addressBlockedMs = stationFailures.failures(stationId, now) > 0 ? addressFailures.blockedForMs(address, now) : 0;
    const blockedMs = Math.max(stationBlockedMs, addressBlockedMs);
    if (blockedMs === 0) return null;
    return new HandshakeRefusedError(429, Math.ceil(blockedMs / 1000), `too many wrong passwords for station ${stationId} or from ${address}`);
  }

  /** 0: station id and address clean; 3: both have failed recently. Lower tiers are checked first. */
  function tier(stationId: string, address: string): number {
    const now = nowMs();
    return (stationFailures.failures(stationId, now) > 0 ? 2 : 0) + (addressFailures.failures(address, now) > 0 ? 1 : 0);
  }

  function recordFailure(stationId: string, address: string): void {
    const now = nowMs();
    const stationBlockedMs = stationFailures.recordFailure(stationId, now);
    const addressBlockedMs = addressFailures.recordFailure(address, now);
    // Logged when a block starts (or grows), not per refused attempt: a flood must not flood the log too.
    if (stationBlockedMs > 0 || addressBlockedMs > 0) {
      options.log.warn(
        { stationId, address, stationBlockedMs, addressBlockedMs, stationFailures: stationFailures.failures(stationId, now), addressFailures: addressFailures.failures(address, now) },
        'ocpp station password attempts throttled',
      );
    }
  }

  async function passwordMatches(stationId: string, address: string, hash: string, password: string): Promise<boolean> {
    const mac = macOf(password);
    const known = verified.get(stationId);
    if (known !== undefined && known.passwordHash === hash && timingSafeEqual(known.mac, mac)) return true;
    const key = mac.toString('base64');
    const ofStation = checking.get(stationId) ?? new Map<string, Promise<boolean>>();
    let check = ofStation.get(key);
    if (check === undefined) {
      const refusal = throttled(stationId, address);
      if (refusal) throw refusal;
      if (ofStation.size >= passwordVerificationsPerStationMax) {
        throw new HandshakeRefusedError(429, verificationBusyRetryAfterSeconds, `${passwordVerificationsPerStationMax} passwords already being checked for station ${stationId}`);
      }
      const run = async () => {
        verifications += 1;
        const matches = await verifyStationPassword(password, hash);
        if (matches) {
          verified.delete(stationId);
          verified.set(stationId, { passwordHash: hash, mac });
          while (verified.size > stationCredentialsCacheEntriesMax) verified.delete(verified.keys().next().value as string);
        } else recordFailure(stationId, address);
        return matches;
      };
      check = queue.submit(() => tier(stationId, address), () => throttled(stationId, address), run).finally(() => {
        ofStation.delete(key);
        if (ofStation.size === 0 && checking.get(stationId) === ofStation) checking.delete(stationId);
      });
      ofStation.set(key, check);
      checking.set(stationId, ofStation);
    }
    return check;
  }

  const authenticateStation: AuthenticateStation = async (stationId, password, cert, transport): Promise<AuthenticationDecision> => {
    let entry: CacheEntry;
    try {
      entry = await entryFor(stationId);
    } catch (error) {
      deny(stationId, 'lookupFailed', { err: error });
      throw error; // the gateway answers 503: the station retries, rather than being told it is unknown
    }
    const credentials = entry.credentials;
    if (credentials === null) {
      switch (options.unknownStations) {
        case 'reject':
          return deny(stationId, 'unknownStation');
        case 'pending':
          return admitUnknown(stationId, transport.remoteAddress);
        case 'accept':
          return 'accept';
      }
    }
    const profile = credentials.securityProfile;
    if (profile === 0) return options.allowUnsecured ? 'accept' : deny(stationId, 'unsecuredNotAllowed');
    if (profile >= 2 && !transport.tls) return deny(stationId, 'tlsRequired', { securityProfile: profile });
    if (profile === 3) {
      if (cert === undefined) {
        const tlsError = transport.tlsAuthorizationError;
        if (tlsError === undefined) return deny(stationId, 'clientCertificateMissing');
        // The certificate was sent but the TLS layer did not trust it: say why (OpenSSL's code).
        return deny(stationId, tlsError === 'CERT_HAS_EXPIRED' ? 'clientCertificateExpired' : 'clientCertificateUntrusted', { tlsAuthorizationError: tlsError });
      }
      if (!certificateNames(cert, stationId)) return deny(stationId, 'clientCertificateMismatch', { subject: cert.subject });
      return 'accept';
    }
    if (password === undefined || password.length === 0) return deny(stationId, 'passwordMissing', { securityProfile: profile });
    if (credentials.passwordHash === null) return deny(stationId, 'passwordWrong', { securityProfile: profile });
    const address = addressKey(transport.remoteAddress);
    let matches: boolean;
    try {
      matches = await passwordMatches(stationId, address, credentials.passwordHash, password);
    } catch (error) {
      // Counted, not logged one by one: the block's start was logged, and a flood must not flood the log.
      if (error instanceof HandshakeRefusedError) denialCounts.throttled += 1;
      throw error;
    }
    return matches ? 'accept' : deny(stationId, 'passwordWrong', { securityProfile: profile, address });
  };

  return {
    authenticateStation,
    denials: () => ({ ...denialCounts }),
    forget: (stationId) => {
      cache.delete(stationId);
      verified.delete(stationId);
    },
    lookups: () => lookups,
    passwordVerifications: () => verifications,
    throttleKeys: () => ({ stations: stationFailures.size(), addresses: addressFailures.size() }),
  };
}

/** Security profile 3 (2.0.1 Part 2 A00): the client certificate's subject CN is the station identity. */
function certificateNames(cert: PeerCertificate, stationId: string): boolean {
  const cn: unknown = cert.subject?.CN;
  const names = Array.isArray(cn) ? cn : [cn];
  return names.length === 1 && names[0] === stationId;
}
