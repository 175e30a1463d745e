import { createHmac, randomBytes, scrypt as scryptCallback, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import type { PeerCertificate } from 'node:tls';
import type { EventStore } from '../adapters/event-store/port.js';
import type { SqlDatabase } from '../adapters/sql/port.js';
import { upcast } from '../domain/events.js';
import { invariant } from '../domain/shared/assert.js';
import { streamName } from '../domain/shared/event.js';
import { stationAggregateType, type SecurityProfile } from '../domain/station/events.js';
import type { AuthenticateStation, AuthenticationDecision } from '../ocpp/types.js';
import type { UnknownStationPolicy } from './config.js';

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
  /** Keyed MAC of the last password that verified against `credentials`: a repeat skips scrypt. */
  verifiedPasswordMac: Buffer | null;
  /** Verifications running now, by password MAC: a storm of the same station shares one scrypt. */
  readonly verifying: Map<string, Promise<boolean>>;
}

/**
 * scrypt runs in libuv's thread pool (4 threads by default), shared with DNS and file I/O; more
 * at once only queue there. Beyond the queue bound a handshake fails fast (503, the station retries)
 * instead of waiting behind a flood of wrong passwords.
 */
export const passwordVerificationsConcurrentMax = 2;
export const passwordVerificationsQueuedMax = 1_000;

export class PasswordVerificationBusyError extends Error {
  override readonly name = 'PasswordVerificationBusyError';
  constructor() {
    super(`more than ${passwordVerificationsQueuedMax} station password checks waiting`);
  }
}

// ---------------------------------------------------------------------------------------------

export const stationAuthenticationDenialReasons = [
  'unknownStation',
  'passwordMissing',
  'passwordWrong',
  'tlsRequired',
  'clientCertificateMissing',
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
  /** For tests of the cache's expiry. */
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
}

export function createStationAuthenticator(options: StationAuthenticatorOptions): StationAuthenticator {
  const nowMs = options.nowMs ?? Date.now;
  const cache = new Map<string, CacheEntry>();
  const inFlight = new Map<string, Promise<CacheEntry>>();
  const denialCounts = Object.fromEntries(stationAuthenticationDenialReasons.map((reason) => [reason, 0])) as Record<
    StationAuthenticationDenialReason,
    number
  >;
  // Per process and never stored: the MACs in the cache mean nothing outside this process's memory.
  const macKey = randomBytes(32);
  const macOf = (password: string) => createHmac('sha256', macKey).update(password).digest();
  let lookups = 0;

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
      const entry: CacheEntry = { credentials, expiresAtMs: nowMs() + ttl, verifiedPasswordMac: null, verifying: new Map() };
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

  let verificationsRunning = 0;
  const verificationWaiters: (() => void)[] = [];
  async function withVerificationSlot<T>(work: () => Promise<T>): Promise<T> {
    if (verificationsRunning < passwordVerificationsConcurrentMax) verificationsRunning += 1;
    else {
      if (verificationWaiters.length >= passwordVerificationsQueuedMax) throw new PasswordVerificationBusyError();
      await new Promise<void>((resolve) => verificationWaiters.push(resolve)); // the releaser hands its slot over
    }
    try {
      return await work();
    } finally {
      const next = verificationWaiters.shift();
      if (next) next();
      else verificationsRunning -= 1;
    }
  }

  async function passwordMatches(entry: CacheEntry, hash: string, password: string): Promise<boolean> {
    const mac = macOf(password);
    if (entry.verifiedPasswordMac !== null && timingSafeEqual(entry.verifiedPasswordMac, mac)) return true;
    const key = mac.toString('base64');
    let verifying = entry.verifying.get(key);
    if (!verifying) {
      verifying = withVerificationSlot(() => verifyStationPassword(password, hash)).finally(() => entry.verifying.delete(key));
      entry.verifying.set(key, verifying);
    }
    if (!(await verifying)) return false;
    entry.verifiedPasswordMac = mac;
    return true;
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
          return 'pending';
        case 'accept':
          return 'accept';
      }
    }
    const profile = credentials.securityProfile;
    if (profile === 0) return options.allowUnsecured ? 'accept' : deny(stationId, 'unsecuredNotAllowed');
    if (profile >= 2 && !transport.tls) return deny(stationId, 'tlsRequired', { securityProfile: profile });
    if (profile === 3) {
      if (cert === undefined) return deny(stationId, 'clientCertificateMissing');
      if (!certificateNames(cert, stationId)) return deny(stationId, 'clientCertificateMismatch', { subject: cert.subject });
      return 'accept';
    }
    if (password === undefined || password.length === 0) return deny(stationId, 'passwordMissing', { securityProfile: profile });
    if (credentials.passwordHash === null || !(await passwordMatches(entry, credentials.passwordHash, password))) {
      return deny(stationId, 'passwordWrong', { securityProfile: profile });
    }
    return 'accept';
  };

  return {
    authenticateStation,
    denials: () => ({ ...denialCounts }),
    forget: (stationId) => {
      cache.delete(stationId);
    },
    lookups: () => lookups,
  };
}

/** Security profile 3 (2.0.1 Part 2 A00): the client certificate's subject CN is the station identity. */
function certificateNames(cert: PeerCertificate, stationId: string): boolean {
  const cn: unknown = cert.subject?.CN;
  const names = Array.isArray(cn) ? cn : [cn];
  return names.length === 1 && names[0] === stationId;
}
