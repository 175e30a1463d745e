import path from 'node:path';
import { z } from 'zod';

/**
 * Configuration from environment variables (design.md, "Configuration"), validated once at
 * start. The defaults run the embedded mode: no DATABASE_URL means PGlite in DATA_DIR.
 */

export const portDefault = 8080;
export const hostDefault = '0.0.0.0';
export const dataDirDefault = './data';
export const tenantIdDefault = 'default';

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
});

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
      return `${name}=${JSON.stringify(name.endsWith('_URL') ? hidePassword(value ?? '') : value)}: ${issue.message}`;
    });
    throw new ConfigError(problems);
  }
  const values = parsed.data;
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
