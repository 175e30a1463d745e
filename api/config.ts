import { hostname } from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { cpoPartyDefault } from '../commands/process/billing-config.js';
import { ocpiSecretCharsMin } from '../ocpi/credentials/seal.js';
import type { OcpiSettings } from '../ocpi/plugin.js';
import { cipherListProblem, tlsProfileDefault, tlsProfiles, type TlsProfile } from './tls-profile.js';

/**
 * Configuration from environment variables (docs/design.md, "Configuration"), validated once at
 * start. The defaults run the embedded mode: no DATABASE_URL means PGlite in DATA_DIR.
 */

export const portDefault = 8080;
export const hostDefault = '0.0.0.0';
export const dataDirDefault = './data';
export const tenantIdDefault = 'default';

/**
 * What the gateway does with a station no operator registered:
 * - reject: refuse the WebSocket handshake (HTTP 401). For closed networks.
 * - pending (default): admit it, answer BootNotification Pending and record the boot, so it shows
 *   in `csms stations list` as unregistered until an operator runs `csms stations register`.
 *   It cannot be Accepted without an operator, so nothing charges by accident.
 * - accept: admit and Accept it (open networks, a lab). Unauthenticated: anyone can connect.
 */
export const unknownStationPolicies = ['reject', 'pending', 'accept'] as const;
export type UnknownStationPolicy = (typeof unknownStationPolicies)[number];
export const unknownStationPolicyDefault: UnknownStationPolicy = 'pending';
export const unknownTokenPolicies = ['reject', 'accept'] as const;
export const unknownTokenPolicyDefault = 'reject';
/** Answered in an Accepted BootNotification; 5 minutes is the usual figure in both OCPP versions' examples. */
export const heartbeatIntervalSecondsDefault = 300;
export const heartbeatIntervalSecondsMax = 86_400;
/** WebSocket ping period; a peer silent for two of them is cut off and marked offline. */
export const pingIntervalSecondsDefault = 60;
export const pingIntervalSecondsMax = 3_600;
/**
 * This node's identity, stable across restarts: recorded with every station connection and leading
 * every lease owner, so a node restarting after a crash settles what it held (api/settle-node.ts).
 * Default the host name; two nodes on one host need distinct NODE_IDs. ':' separates the node id
 * from the process in lease owners, so it is not allowed.
 */
export const nodeIdPattern = /^[A-Za-z0-9._-]{1,100}$/;
const nodeIdRule = 'must be 1 to 100 letters, digits, ".", "_" or "-"';
/** An admin token shorter than this is guessable; refuse it at start. */
export const adminApiTokenCharsMin = 16;
/** The metrics listener's address when METRICS_PORT is set without METRICS_HOST: this machine only. */
export const metricsHostDefault = '127.0.0.1';

/**
 * Our OCPI identity when OCPI_COUNTRY_CODE / OCPI_PARTY_ID / OCPI_BUSINESS_NAME are unset. The one
 * CPO party of everything we publish: credentials, locations, sessions, tariffs and CDRs (the CDR
 * issuer gets it through billingConfigFor).
 */
export const ocpiCountryCodeDefault = cpoPartyDefault.countryCode;
export const ocpiPartyIdDefault = cpoPartyDefault.partyId;
export const ocpiBusinessNameDefault = 'Open-CSMS';
/** Variables whose values are never echoed in configuration errors. */
const secretVariables = new Set(['ADMIN_API_TOKEN', 'OCPI_SECRET', 'METRICS_TOKEN']);

const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof logLevels)[number];

/** Empty strings count as unset: `DATABASE_URL= csms serve` should mean "embedded", not "invalid URL". */
const optional = <T extends z.ZodType>(schema: T) =>
  z.preprocess((value) => (typeof value === 'string' && value.trim() === '' ? undefined : value), schema.optional());

function urlWithScheme(schemes: readonly string[]) {
  return z.string().refine(
    (text) => {
      try {
        return schemes.includes(new URL(text).protocol.replace(/:$/, ''));
      } catch {
        return false;
      }
    },
    { message: `must be a URL starting with ${schemes.map((scheme) => `${scheme}://`).join(' or ')}` },
  );
}

const environmentSchema = z.object({
  DATABASE_URL: optional(urlWithScheme(['postgres', 'postgresql'])),
  DATA_DIR: optional(z.string()),
  EVENTSTORE_URL: optional(urlWithScheme(['esdb', 'esdb+discover', 'kurrentdb', 'kurrentdb+discover'])),
  REDIS_URL: optional(urlWithScheme(['redis', 'rediss'])),
  INFLUX_URL: optional(urlWithScheme(['http', 'https'])),
  HOST: optional(z.string().min(1)),
  PORT: optional(
    z.coerce
      .number({ message: 'must be a number' })
      .int({ message: 'must be a whole number' })
      .min(0, { message: 'must be 0 to 65535 (0 picks a free port)' })
      .max(65_535, { message: 'must be 0 to 65535 (0 picks a free port)' }),
  ),
  LOG_LEVEL: optional(z.enum(logLevels, { message: `must be one of ${logLevels.join(', ')}` })),
  // Stream names are `<type>-<tenant>-<id>`, so a tenant id may not contain '-'.
  TENANT_ID: optional(z.string().regex(/^[A-Za-z0-9_]{1,64}$/, { message: 'must be 1 to 64 letters, digits or _' })),
  NODE_ID: optional(z.string().regex(nodeIdPattern, { message: nodeIdRule })),
  OCPP_UNKNOWN_STATIONS: optional(z.enum(unknownStationPolicies, { message: `must be one of ${unknownStationPolicies.join(', ')}` })),
  OCPP_UNKNOWN_TOKENS: optional(z.enum(unknownTokenPolicies, { message: `must be one of ${unknownTokenPolicies.join(', ')}` })),
  OCPP_HEARTBEAT_INTERVAL_S: optional(seconds(heartbeatIntervalSecondsMax)),
  OCPP_PING_INTERVAL_S: optional(seconds(pingIntervalSecondsMax)),
  OCPP_ALLOW_UNSECURED: optional(z.enum(['true', 'false'], { message: 'must be true or false' })),
  TLS_CERT_FILE: optional(z.string()),
  TLS_KEY_FILE: optional(z.string()),
  TLS_CA_FILE: optional(z.string()),
  TLS_PROFILE: optional(z.enum(tlsProfiles, { message: `must be one of ${tlsProfiles.join(', ')}` })),
  TLS_CIPHERS: optional(z.string().refine((ciphers) => cipherListProblem(ciphers) === null, { message: 'OpenSSL accepts none of these cipher suites' })),
  METRICS_TOKEN: optional(z.string().min(adminApiTokenCharsMin, { message: `must be at least ${adminApiTokenCharsMin} characters` })),
  METRICS_HOST: optional(z.string().min(1)),
  METRICS_PORT: optional(
    z.coerce
      .number({ message: 'must be a number' })
      .int({ message: 'must be a whole number' })
      .min(0, { message: 'must be 0 to 65535 (0 picks a free port)' })
      .max(65_535, { message: 'must be 0 to 65535 (0 picks a free port)' }),
  ),
  ADMIN_API_TOKEN: optional(z.string().min(adminApiTokenCharsMin, { message: `must be at least ${adminApiTokenCharsMin} characters` })),
  OCPI_PUBLIC_URL: optional(urlWithScheme(['http', 'https'])),
  OCPI_SECRET: optional(z.string().min(ocpiSecretCharsMin, { message: `must be at least ${ocpiSecretCharsMin} characters` })),
  OCPI_COUNTRY_CODE: optional(z.string().regex(/^[A-Za-z]{2}$/, { message: 'must be 2 letters (ISO 3166-1 alpha-2)' })),
  OCPI_PARTY_ID: optional(z.string().regex(/^[A-Za-z0-9]{3}$/, { message: 'must be 3 letters or digits' })),
  OCPI_BUSINESS_NAME: optional(z.string().max(100, { message: 'must be at most 100 characters' })),
  // Percent, as an OCPI tariff's vat: 0 to 100, at most 4 decimals (the tariff engine's VAT precision).
  BILLING_VAT_RATE_FALLBACK: optional(
    z
      .string()
      .regex(/^(0|[1-9]\d*)(\.\d{1,4})?$/, { message: 'must be a VAT rate in percent such as 21 or 5.5 (at most 4 decimals)' })
      .refine((rate) => Number(rate) <= 100, { message: 'must be at most 100' }),
  ),
});

/** Every variable read at start: `csms --help` and the README's configuration table list each (test/integration/cli-help.test.ts). */
export const configurationVariables: readonly string[] = Object.keys(environmentSchema.shape);

function seconds(max: number) {
  return z.coerce
    .number({ message: 'must be a number' })
    .int({ message: 'must be a whole number of seconds' })
    .min(1, { message: `must be 1 to ${max}` })
    .max(max, { message: `must be 1 to ${max}` });
}

export type Config = {
  /** Where events and read models live. */
  readonly database: { readonly kind: 'postgres'; readonly url: string } | { readonly kind: 'pglite'; readonly dataDir: string };
  /** EventStoreDB for events when set; otherwise events live in `database` too. */
  readonly eventStoreUrl: string | null;
  readonly redisUrl: string | null;
  readonly influxUrl: string | null;
  readonly host: string;
  readonly port: number;
  readonly logLevel: LogLevel;
  readonly tenantId: string;
  /** NODE_ID (default the host name); see nodeIdPattern. */
  readonly nodeId: string;
  readonly ocpp: {
    readonly unknownStations: UnknownStationPolicy;
    readonly unknownTokens: (typeof unknownTokenPolicies)[number];
    readonly heartbeatIntervalSeconds: number;
    readonly pingIntervalSeconds: number;
    /** Lets stations registered with security profile 0 (no credentials at all) connect. */
    readonly allowUnsecured: boolean;
  };
  /**
   * Serve HTTPS/WSS (security profiles 2 and 3). With `caFile` client certificates are requested
   * and, when they verify against it, passed to station authentication (profile 3).
   */
  readonly tls: {
    readonly certFile: string;
    readonly keyFile: string;
    readonly caFile: string | null;
    /** TLS_PROFILE: protocol versions and suites (api/tls-profile.ts). */
    readonly profile: TlsProfile;
    /** TLS_CIPHERS: replaces the profile's suite list (OpenSSL syntax); null: the profile's. */
    readonly ciphers: string | null;
  } | null;
  /** Bearer token for the operator REST endpoints; null: only loopback clients may use them. */
  readonly adminApiToken: string | null;
  /**
   * /metrics and /health details (api/plugins/observability-access.ts): METRICS_TOKEN, and the
   * separate listener METRICS_HOST:METRICS_PORT (null: none, only the main listener with a token
   * or from loopback).
   */
  readonly metrics: { readonly token: string | null; readonly listener: { readonly host: string; readonly port: number } | null };
  /** OCPI: public URL partners reach us at, the secret sealing partner tokens, our CPO identity. */
  readonly ocpi: OcpiSettings;
  /**
   * BILLING_VAT_RATE_FALLBACK: the VAT rate (percent) a CDR's VAT is posted at when its tariff
   * snapshot names none and its figures state none exactly (BillingConfig.vatRateFallbackPercent); null: refused.
   */
  readonly billing: { readonly vatRateFallbackPercent: string | null };
};

/** Thrown with every invalid variable listed, so one start tells the operator everything to fix. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly problems: readonly string[]) {
    super(`invalid configuration:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
  }
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env, cwd: string = process.cwd()): Config {
  const parsed = environmentSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const name = issue.path.join('.');
      const value = env[name];
      // A secret is never echoed, not even a wrong one (it may be the right one mistyped).
      const shown = secretVariables.has(name) ? '***' : name.endsWith('_URL') ? hidePassword(value ?? '') : value;
      return `${name}=${JSON.stringify(shown)}: ${issue.message}`;
    });
    throw new ConfigError(problems);
  }
  const values = parsed.data;
  if ((values.TLS_CERT_FILE === undefined) !== (values.TLS_KEY_FILE === undefined)) {
    throw new ConfigError(['TLS_CERT_FILE and TLS_KEY_FILE: set both (HTTPS/WSS) or neither']);
  }
  if (values.TLS_CA_FILE !== undefined && values.TLS_CERT_FILE === undefined) {
    throw new ConfigError(['TLS_CA_FILE: client certificates need TLS: set TLS_CERT_FILE and TLS_KEY_FILE too']);
  }
  for (const variable of ['TLS_PROFILE', 'TLS_CIPHERS'] as const) {
    if (values[variable] !== undefined && values.TLS_CERT_FILE === undefined) {
      throw new ConfigError([`${variable}: applies to TLS only: set TLS_CERT_FILE and TLS_KEY_FILE too`]);
    }
  }
  if (values.METRICS_HOST !== undefined && values.METRICS_PORT === undefined) {
    throw new ConfigError(['METRICS_HOST: the metrics listener needs METRICS_PORT too']);
  }
  const nodeId = values.NODE_ID ?? hostname();
  if (!nodeIdPattern.test(nodeId)) throw new ConfigError([`NODE_ID: the host name ${JSON.stringify(nodeId)} cannot be a node id (${nodeIdRule}): set NODE_ID`]);
  return {
    database: values.DATABASE_URL
      ? { kind: 'postgres', url: values.DATABASE_URL }
      : { kind: 'pglite', dataDir: path.resolve(cwd, values.DATA_DIR ?? dataDirDefault) },
    eventStoreUrl: values.EVENTSTORE_URL ?? null,
    redisUrl: values.REDIS_URL ?? null,
    influxUrl: values.INFLUX_URL ?? null,
    host: values.HOST ?? hostDefault,
    port: values.PORT ?? portDefault,
    logLevel: values.LOG_LEVEL ?? 'info',
    tenantId: values.TENANT_ID ?? tenantIdDefault,
    nodeId,
    ocpp: {
      unknownStations: values.OCPP_UNKNOWN_STATIONS ?? unknownStationPolicyDefault,
      unknownTokens: values.OCPP_UNKNOWN_TOKENS ?? unknownTokenPolicyDefault,
      heartbeatIntervalSeconds: values.OCPP_HEARTBEAT_INTERVAL_S ?? heartbeatIntervalSecondsDefault,
      pingIntervalSeconds: values.OCPP_PING_INTERVAL_S ?? pingIntervalSecondsDefault,
      allowUnsecured: values.OCPP_ALLOW_UNSECURED === 'true',
    },
    tls:
      values.TLS_CERT_FILE !== undefined && values.TLS_KEY_FILE !== undefined
        ? {
            certFile: path.resolve(cwd, values.TLS_CERT_FILE),
            keyFile: path.resolve(cwd, values.TLS_KEY_FILE),
            caFile: values.TLS_CA_FILE === undefined ? null : path.resolve(cwd, values.TLS_CA_FILE),
            profile: values.TLS_PROFILE ?? tlsProfileDefault,
            ciphers: values.TLS_CIPHERS ?? null,
          }
        : null,
    adminApiToken: values.ADMIN_API_TOKEN ?? null,
    metrics: {
      token: values.METRICS_TOKEN ?? null,
      listener: values.METRICS_PORT === undefined ? null : { host: values.METRICS_HOST ?? metricsHostDefault, port: values.METRICS_PORT },
    },
    ocpi: {
      publicUrl: values.OCPI_PUBLIC_URL?.replace(/\/+$/, '') ?? null,
      secret: values.OCPI_SECRET ?? null,
      roles: [
        {
          role: 'CPO',
          country_code: (values.OCPI_COUNTRY_CODE ?? ocpiCountryCodeDefault).toUpperCase(),
          party_id: (values.OCPI_PARTY_ID ?? ocpiPartyIdDefault).toUpperCase(),
          business_details: { name: values.OCPI_BUSINESS_NAME?.trim() || ocpiBusinessNameDefault },
        },
      ],
    },
    billing: { vatRateFallbackPercent: values.BILLING_VAT_RATE_FALLBACK ?? null },
  };
}

/** A URL safe to print: the password replaced by `***`; text that is not a URL is left alone. */
export function hidePassword(text: string): string {
  try {
    const url = new URL(text);
    if (url.password === '') return text;
    url.password = '***';
    return url.toString();
  } catch {
    return text;
  }
}

/** One line saying where data lives, for `csms serve` and error messages. */
export function describeStorage(config: Config): { database: string; eventStore: string } {
  const database =
    config.database.kind === 'pglite'
      ? `embedded PGlite in ${config.database.dataDir}`
      : `PostgreSQL at ${hidePassword(config.database.url)}`;
  const eventStore = config.eventStoreUrl ? `EventStoreDB at ${hidePassword(config.eventStoreUrl)}` : `same database (${config.database.kind})`;
  return { database, eventStore };
}
