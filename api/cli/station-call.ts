import { userInfo } from 'node:os';
import { Option, type Command } from 'commander';
import type { Config } from '../config.js';
import type { Services } from '../composition.js';
import { EmbeddedDatabaseInUseError } from '../embedded-lock.js';
import { surfacePrefixes } from '../surfaces.js';
import { CliError, embeddedWriteNotice, ExitCode, readConfig, reportError, type CliAccess, type CliContext } from './run.js';

/**
 * `csms station call ID ACTION --payload JSON`: any CSMS→station message, answered inline. The
 * station's WebSocket lives in the server process, so this is an HTTP call to the running server
 * (POST /api/stations/:id/calls, api/plugins/operator-api.ts). Also here: the client the other
 * operator commands use when the server holds the embedded database.
 */

/** Time for a server request other than a station call (a command on the bus, a read model query). */
export const serverRequestTimeoutMs = 30_000;
/** A station call's HTTP request may take this much longer than the call itself (queueing, recording). */
const stationCallMarginMs = 5_000;
export const stationCallTimeoutSecondsDefault = 30;
export const stationCallTimeoutSecondsMax = 300;
/** Largest --payload accepted; the gateway refuses frames over 64 KiB anyway. */
export const stationCallPayloadCharsMax = 60_000;

export interface ServerClient {
  readonly url: string;
  request(method: 'GET' | 'POST', path: string, body?: unknown, timeoutMs?: number): Promise<{ status: number; body: unknown }>;
}

/** The server's base URL: --server, else CSMS_SERVER_URL, else HOST and PORT of the configuration. */
export function serverUrl(config: Config, env: NodeJS.ProcessEnv, option: string | undefined): string {
  const given = namedServer(env, option);
  if (given !== undefined) {
    try {
      const url = new URL(given);
      if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('not http(s)');
      return url.origin;
    } catch {
      throw new CliError(`--server / CSMS_SERVER_URL must be an http(s) URL, not ${JSON.stringify(given)}`, ExitCode.usage);
    }
  }
  const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host.includes(':') ? `[${config.host}]` : config.host;
  return `${config.tls ? 'https' : 'http'}://${host}:${config.port}`;
}

export function serverClient(config: Config, url: string): ServerClient {
  return {
    url,
    async request(method, path, body, timeoutMs = serverRequestTimeoutMs) {
      const headers: Record<string, string> = {};
      if (config.adminApiToken) headers.authorization = `Bearer ${config.adminApiToken}`;
      if (body !== undefined) headers['content-type'] = 'application/json';
      let response: Response;
      try {
        response = await fetch(`${url}${surfacePrefixes.rest}${path}`, {
          method,
          headers,
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
          signal: AbortSignal.timeout(timeoutMs),
        });
      } catch (error) {
        const cause = (error as { cause?: { message?: string } }).cause?.message ?? (error as Error).message;
        // Nothing was done anywhere: the command never falls back to a database of its own.
        throw new CliError(`cannot reach the server at ${url} (${cause}): nothing was done; is it running? (--server or CSMS_SERVER_URL)`, ExitCode.failed);
      }
      const text = await response.text();
      let parsed: unknown = text;
      try {
        parsed = JSON.parse(text);
      } catch {
        // not JSON: keep the text for the message
      }
      if (response.status === 401 || response.status === 403) {
        throw new CliError(`the server refused: ${messageOf(parsed)} (set ADMIN_API_TOKEN to the server's)`, ExitCode.failed);
      }
      if (response.status === 400 || response.status === 409) throw new CliError(messageOf(parsed), ExitCode.usage);
      if (response.status >= 500 && response.status !== 502 && response.status !== 504) {
        throw new CliError(`the server failed (HTTP ${response.status}): ${messageOf(parsed)}`, ExitCode.failed);
      }
      return { status: response.status, body: parsed };
    },
  };
}

function messageOf(body: unknown): string {
  if (body && typeof body === 'object' && 'message' in body) return String((body as { message: unknown }).message);
  return typeof body === 'string' ? body : JSON.stringify(body);
}

/** Who the CLI acts as, in events: the operating-system user. */
export function cliActor(): string {
  try {
    return `user:${userInfo().username}`;
  } catch {
    return 'user:cli';
  }
}

/** The server the operator named: --server, else a non-empty CSMS_SERVER_URL; undefined when neither. */
export function namedServer(env: NodeJS.ProcessEnv, option: string | undefined): string | undefined {
  return option ?? (env.CSMS_SERVER_URL?.trim() || undefined);
}

/**
 * Where an operator command runs (README "Operating it"):
 *  - a server was named (--server or CSMS_SERVER_URL): always through it, `viaServer`. If it cannot
 *    be reached the command fails (exit 3); it never falls back to a database of its own, which
 *    the server may not use (the bug behind this rule: "registered" into ./data, unseen).
 *  - otherwise `direct` on the configured database; when the server holds the embedded database
 *    (its lock), through the server at HOST:PORT instead, so operators need not stop it. A change
 *    written directly into an embedded folder is announced on stderr with the folder's path.
 */
export async function withDatabaseOrServer<T>(
  context: CliContext,
  command: string,
  serverOption: string | undefined,
  direct: (services: Services) => Promise<T>,
  viaServer: (client: ServerClient) => Promise<T>,
  access: CliAccess = 'write',
): Promise<T> {
  const config = readConfig(context);
  if (namedServer(context.env, serverOption) !== undefined) {
    return viaServer(serverClient(config, serverUrl(config, context.env, serverOption)));
  }
  const { openServices } = await import('../composition.js');
  let services: Services;
  try {
    services = await openServices(config, { command, log: context.err });
  } catch (error) {
    if (error instanceof EmbeddedDatabaseInUseError) {
      const url = serverUrl(config, context.env, serverOption);
      context.err(`the server holds the embedded database: sending this to it at ${url}`);
      return viaServer(serverClient(config, url));
    }
    throw new CliError(`cannot open the database: ${(error as Error).message}`, ExitCode.failed);
  }
  let result: T;
  try {
    result = await direct(services);
  } finally {
    await services.close();
  }
  if (access === 'write' && config.database.kind === 'pglite') context.err(embeddedWriteNotice(config.database.dataDir, 'no-server-named'));
  return result;
}

export const serverOption = (
  description = 'send this to the running server at URL, never to a database of its own (default: CSMS_SERVER_URL; neither: open the database, or the server at HOST:PORT when it holds the embedded one)',
) => new Option('--server <url>', description);

function parsePayload(text: string): Record<string, unknown> {
  if (text.length > stationCallPayloadCharsMax) throw new CliError(`--payload is longer than ${stationCallPayloadCharsMax} characters`, ExitCode.usage);
  let payload: unknown;
  try {
    payload = JSON.parse(text);
  } catch (error) {
    throw new CliError(`--payload is not JSON: ${(error as Error).message}`, ExitCode.usage);
  }
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) {
    throw new CliError('--payload must be a JSON object, e.g. {} or {"key":["HeartbeatInterval"]}', ExitCode.usage);
  }
  return payload as Record<string, unknown>;
}

export function registerStationCallCommand(program: Command, context: CliContext): void {
  const station = program.command('station').description('talk to one connected station through the running server');
  station
    .command('call')
    .description('send any CSMS→station message (OCPP action of the station\'s version) and print its answer as JSON')
    .argument('<id>', 'station id')
    .argument('<action>', 'OCPP action, e.g. GetConfiguration (1.6), GetVariables (2.0.1), Reset')
    .requiredOption('--payload <json>', 'the request payload, a JSON object')
    .option('--timeout <seconds>', `how long to wait for the station (1 to ${stationCallTimeoutSecondsMax})`, String(stationCallTimeoutSecondsDefault))
    .addOption(serverOption('URL of the running server (default: CSMS_SERVER_URL, else HOST and PORT)'))
    .addHelpText(
      'after',
      `
Exit codes: 0 answered, 1 the station answered with a CALLERROR, timed out or is not connected,
2 bad arguments, 3 the server could not be reached or refused.
The call is recorded as a station operation (StationOperationRequested, then Answered or Failed).
Example: csms station call CP-1 GetConfiguration --payload '{"key":["HeartbeatInterval"]}'`,
    )
    .action(async (id: string, action: string, options: { payload: string; timeout: string; server?: string }) => {
      try {
        const payload = parsePayload(options.payload);
        const seconds = Number(options.timeout);
        if (!Number.isInteger(seconds) || seconds < 1 || seconds > stationCallTimeoutSecondsMax) {
          throw new CliError(`--timeout must be a whole number of seconds from 1 to ${stationCallTimeoutSecondsMax}`, ExitCode.usage);
        }
        const config = readConfig(context);
        const client = serverClient(config, serverUrl(config, context.env, options.server));
        const timeoutMs = seconds * 1000;
        const { status, body } = await client.request(
          'POST',
          `/stations/${encodeURIComponent(id)}/calls`,
          { action, payload, timeoutMs },
          timeoutMs + stationCallMarginMs,
        );
        const result = body as { outcome?: string; answer?: unknown; reason?: { kind: string; code?: string; description?: string } };
        if (status === 200 && result.outcome === 'answered') {
          context.out(JSON.stringify(result.answer, null, 2));
          return;
        }
        const reason = result.reason;
        const detail = reason?.kind === 'call-error' ? `${reason.code}: ${reason.description}` : (reason?.kind ?? `HTTP ${status}`);
        context.out(JSON.stringify(body, null, 2));
        context.err(`csms: ${action} to ${id} failed: ${detail}`);
        context.exitCode = ExitCode.checkFailed;
      } catch (error) {
        reportError(context, error);
      }
    });
}
