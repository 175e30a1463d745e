import type { Clock } from '../adapters/clock/clock.js';
import type { SqlExecutor } from '../adapters/sql/port.js';
import type { CommandBus } from '../commands/index.js';
import { createPartnerDirectory } from '../ocpi/credentials/directory.js';
import { createTokenSealer } from '../ocpi/credentials/seal.js';
import {
  invitePartner,
  registerWithPartner,
  type CredentialsDeps,
  type RegisterWithPartnerOutcome,
} from '../ocpi/credentials/service.js';
import type { OcpiSettings } from '../ocpi/plugin.js';
import { OcpiError } from '../ocpi/transport/status.js';
import { surfacePrefixes } from './surfaces.js';

/**
 * What an operator does to OCPI partners (`csms ocpi invite | register`). The CLI calls these
 * directly on the database; the operator REST API (api/plugins/operator-api.ts) calls the same
 * credentials service with the server's own partner directory, so both paths record the same events.
 */

/** Our versions endpoint on a server reachable at `origin` (scheme, host, port). */
export function ocpiVersionsUrl(origin: string): string {
  return `${origin.replace(/\/+$/, '')}${surfacePrefixes.ocpi}/versions`;
}

/** Credentials service dependencies for a process that does not serve OCPI itself (the CLI). */
export function cliCredentialsDeps(deps: { db: SqlExecutor; bus: CommandBus; clock: Clock; tenantId: string; settings: OcpiSettings }): CredentialsDeps {
  return {
    bus: deps.bus,
    clock: deps.clock,
    tenantId: deps.tenantId,
    sealer: createTokenSealer(deps.settings.secret),
    // Its in-process overlay is of no use here; the server learns the tokens from the partners read model.
    directory: createPartnerDirectory(deps.db, deps.tenantId),
    roles: deps.settings.roles,
  };
}

export interface OcpiInvitation {
  readonly partnerId: string;
  /** Token A: shown once, only its hash is recorded. */
  readonly token: string;
  /** Where the partner starts its registration with token A. */
  readonly versionsUrl: string;
}

export async function inviteOcpiPartner(deps: CredentialsDeps, partnerId: string, versionsUrl: string, actor: string): Promise<OcpiInvitation> {
  const { token } = await invitePartner(deps, partnerId, actor);
  return { partnerId, token, versionsUrl };
}

export interface RegisterOcpiPartnerRequest {
  readonly partnerId: string;
  /** Their versions endpoint. */
  readonly url: string;
  /** Their token A. */
  readonly token: string;
}

/**
 * The partner never answered over HTTP (connection refused, unknown host, TLS failure, timeout):
 * unlike a refusal, nothing of ours reached them or their answer never came. The CLI ends with
 * "could not run" (exit 3), the operator API with 504.
 */
export class PartnerUnreachableError extends Error {
  override readonly name = 'PartnerUnreachableError';
  constructor(
    readonly url: string,
    readonly reason: string,
  ) {
    super(`${url}: ${reason}`);
  }
}

/** Socket and DNS error codes (the `cause` of Node's "fetch failed") in an operator's words. */
const unreachableCodes: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  ENOTFOUND: 'host name not found',
  EAI_AGAIN: 'host name lookup failed',
  EHOSTUNREACH: 'no route to the host',
  ENETUNREACH: 'network unreachable',
  ETIMEDOUT: 'connection timed out',
  UND_ERR_CONNECT_TIMEOUT: 'connection timed out',
  UND_ERR_SOCKET: 'connection closed',
};

/** Why a fetch got no HTTP answer, with Node's own message in brackets. */
export function unreachableReason(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  if (error.name === 'TimeoutError' || error.name === 'AbortError') return 'no answer in time (timed out)';
  const cause = error.cause instanceof Error ? (error.cause as Error & { code?: unknown }) : null;
  if (cause === null) return error.message;
  const words = typeof cause.code === 'string' ? unreachableCodes[cause.code] : undefined;
  return words === undefined ? `${error.message}: ${cause.message}` : `${words} (${cause.message})`;
}

/** fetch that remembers whether its latest request got no HTTP answer at all, and why. */
function watchReachability(inner: typeof fetch): { readonly fetch: typeof fetch; lastFailure(): { url: string; reason: string } | null } {
  let lastFailure: { url: string; reason: string } | null = null;
  const watched: typeof fetch = async (input, init) => {
    try {
      const response = await inner(input, init);
      lastFailure = null;
      return response;
    } catch (error) {
      lastFailure = { url: input instanceof Request ? input.url : String(input), reason: unreachableReason(error) };
      throw error;
    }
  };
  return { fetch: watched, lastFailure: () => lastFailure };
}

/**
 * Registers with the partner (credentials service). A failure whose last request got no HTTP
 * answer is `PartnerUnreachableError`; an OcpiError after an answer stays their refusal.
 */
export async function registerOcpiPartner(
  deps: CredentialsDeps,
  request: RegisterOcpiPartnerRequest,
  ourVersionsUrl: string,
  actor: string,
): Promise<RegisterWithPartnerOutcome> {
  const reachability = watchReachability(deps.client?.fetch ?? fetch);
  try {
    return await registerWithPartner(
      { ...deps, client: { ...deps.client, fetch: reachability.fetch } },
      { partnerId: request.partnerId, versionsUrl: request.url, tokenA: request.token, ourVersionsUrl, actor },
    );
  } catch (error) {
    const failure = reachability.lastFailure();
    if (failure !== null && error instanceof OcpiError) throw new PartnerUnreachableError(failure.url, failure.reason);
    throw error;
  }
}
