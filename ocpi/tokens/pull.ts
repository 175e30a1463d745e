import { randomUUID } from 'node:crypto';
import type { Clock } from '../../adapters/clock/clock.js';
import type { SqlExecutor } from '../../adapters/sql/port.js';
import type { CommandBus } from '../../commands/index.js';
import { ocpiGetAll, type OcpiClientOptions } from '../client/client.js';
import { loadPartnerConnection, partnerEndpointUrl, routingTo } from '../client/partners.js';
import type { TokenSealer } from '../credentials/seal.js';
import { tokenSchema } from '../schemas/tokens.js';
import type { OcpiParty } from '../transport/headers.js';
import { writeToken } from './store.js';

/**
 * Pull model (mod_tokens "Pull model"): GET every token of an eMSP from its tokens Sender
 * interface (pages followed through Link, bounded by the client's page limit) and issue or update
 * each through the bus. Unchanged tokens append nothing (the decider compares facts), so running
 * it again is harmless. `csms ocpi sync --module tokens` calls it.
 */

/** Pages of one pull: with the eMSP's page size (often 100–1000) this covers a large card base. */
export const tokensPullPagesMax = 1_000;

export interface PullTokensDeps {
  readonly db: SqlExecutor;
  readonly bus: CommandBus;
  /** Unused today (tokens carry the eMSP's last_updated); kept so callers pass one set of OCPI deps. */
  readonly clock: Clock;
  readonly tenantId: string;
  readonly sealer: TokenSealer;
  readonly us: OcpiParty;
  readonly client?: Omit<OcpiClientOptions, 'token' | 'correlationId' | 'routing'>;
}

export class TokensPullError extends Error {
  override readonly name = 'TokensPullError';
}

export async function pullPartnerTokens(deps: PullTokensDeps, partnerId: string, options: { dateFrom?: Date } = {}): Promise<{ received: number; changed: number }> {
  const connection = await loadPartnerConnection(deps.db, deps.tenantId, deps.sealer, partnerId);
  if (connection === null) throw new TokensPullError(`partner ${partnerId} is not registered`);
  const url = partnerEndpointUrl(connection, 'tokens', 'SENDER');
  if (url === null) throw new TokensPullError(`partner ${partnerId} has no tokens SENDER endpoint`);
  const query = options.dateFrom === undefined ? '' : `?date_from=${encodeURIComponent(options.dateFrom.toISOString())}`;
  const correlationId = randomUUID();
  const routing = routingTo(connection, deps.us, 'EMSP');
  const tokens = await ocpiGetAll(`${url}${query}`, tokenSchema, {
    ...deps.client,
    token: connection.token,
    correlationId,
    pagesMax: tokensPullPagesMax,
    ...(routing ? { routing } : {}),
  });
  const hub = connection.roles.some((role) => role.role === 'HUB');
  const ownParty = (countryCode: string, partyId: string) =>
    hub || connection.roles.some((role) => role.countryCode.toUpperCase() === countryCode.toUpperCase() && role.partyId.toUpperCase() === partyId.toUpperCase());
  let changed = 0;
  for (const token of tokens) {
    // As on PUT: a partner's tokens are those of its own parties (a HUB speaks for its parties).
    if (!ownParty(token.country_code, token.party_id)) continue;
    const outcome = await writeToken(
      deps.bus,
      // One command id per token and pull: a retried pull is a new pull, and unchanged facts append nothing.
      { tenantId: deps.tenantId, partnerId, correlationId, commandIdPrefix: `ocpi:tokens-pull:${correlationId}:${token.country_code}${token.party_id}:${token.uid}` },
      token,
    );
    if (outcome.changed) changed += 1;
  }
  return { received: tokens.length, changed };
}
