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

export function registerOcpiPartner(
  deps: CredentialsDeps,
  request: RegisterOcpiPartnerRequest,
  ourVersionsUrl: string,
  actor: string,
): Promise<RegisterWithPartnerOutcome> {
  return registerWithPartner(deps, { partnerId: request.partnerId, versionsUrl: request.url, tokenA: request.token, ourVersionsUrl, actor });
}
