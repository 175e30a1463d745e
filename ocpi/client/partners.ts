import type { SqlExecutor } from '../../adapters/sql/port.js';
import { liveSchemaName } from '../../projections/schema.js';
import type { TokenSealer } from '../credentials/seal.js';
import { isHub, partiesOf, type OcpiParty, type OcpiPartyRole, type OcpiRouting } from '../transport/headers.js';

/**
 * The registered partners we call: their endpoints, roles and the token we present to them,
 * read from the `partners` read model. Every outgoing call (pushes, real-time authorization,
 * command results, sync) starts here, so the rules for "who may we call, where, as whom" live
 * in one place.
 */

export interface PartnerRoleRef extends OcpiParty {
  readonly role: string;
}

export interface PartnerEndpointRef {
  readonly identifier: string;
  readonly role: 'SENDER' | 'RECEIVER';
  readonly url: string;
}

export interface PartnerConnection {
  readonly partnerId: string;
  readonly version: string | null;
  readonly roles: readonly PartnerRoleRef[];
  readonly endpoints: readonly PartnerEndpointRef[];
  /** The credentials token we present to them, opened from its seal. */
  readonly token: string;
}

/** Bound on partners loaded at once: a CPO with more partners than this needs paging here. */
export const partnerConnectionsMax = 1_000;

interface PartnerRow {
  partner_id: string;
  version: string | null;
  roles: string;
  endpoints: string;
  token_sealed: string | null;
}

function toConnection(row: PartnerRow, sealer: TokenSealer): PartnerConnection | null {
  if (row.token_sealed === null) return null;
  const roles = (JSON.parse(row.roles) as { role: string; countryCode: string; partyId: string }[]).map((role) => ({
    role: role.role,
    countryCode: role.countryCode,
    partyId: role.partyId,
  }));
  const endpoints = JSON.parse(row.endpoints) as PartnerEndpointRef[];
  return { partnerId: row.partner_id, version: row.version, roles, endpoints, token: sealer.open(row.token_sealed) };
}

/** Registered partners (status 'registered' with a token to present), ordered by id. */
export async function loadPartnerConnections(db: SqlExecutor, tenantId: string, sealer: TokenSealer): Promise<PartnerConnection[]> {
  const table = `${liveSchemaName('partners')}.partners`;
  const { rows } = await db.query<PartnerRow>(
    `SELECT partner_id, version, roles, endpoints, token_sealed FROM ${table}
      WHERE tenant_id = $1 AND status = 'registered' ORDER BY partner_id LIMIT ${partnerConnectionsMax}`,
    [tenantId],
  );
  return rows.map((row) => toConnection(row, sealer)).filter((connection): connection is PartnerConnection => connection !== null);
}

export async function loadPartnerConnection(db: SqlExecutor, tenantId: string, sealer: TokenSealer, partnerId: string): Promise<PartnerConnection | null> {
  const table = `${liveSchemaName('partners')}.partners`;
  const { rows } = await db.query<PartnerRow>(
    `SELECT partner_id, version, roles, endpoints, token_sealed FROM ${table}
      WHERE tenant_id = $1 AND partner_id = $2 AND status = 'registered'`,
    [tenantId, partnerId],
  );
  const row = rows[0];
  return row === undefined ? null : toConnection(row, sealer);
}

/** The URL of the partner's interface for a module (e.g. their locations RECEIVER), or null. */
export function partnerEndpointUrl(connection: PartnerConnection, module: string, role: 'SENDER' | 'RECEIVER'): string | null {
  return connection.endpoints.find((endpoint) => endpoint.identifier === module && endpoint.role === role)?.url ?? null;
}

/** The partner's party for a role (their eMSP party for tokens and CDRs), or its first role. */
export function partnerParty(connection: PartnerConnection, role?: string): OcpiParty | null {
  const found = (role === undefined ? undefined : connection.roles.find((candidate) => candidate.role === role)) ?? connection.roles[0];
  return found === undefined ? null : { countryCode: found.countryCode, partyId: found.partyId };
}

/** Routing headers for a request of ours to this partner (functional modules only). */
export function routingTo(connection: PartnerConnection, us: OcpiParty, role?: string): OcpiRouting | undefined {
  const them = partnerParty(connection, role);
  return them === null ? undefined : { from: us, to: them };
}

/** Whose objects a request may see or write: the sender party's; a HUB speaks for every party. */
export interface PartnerAudience {
  readonly hub: boolean;
  /** Upper case: the sender party (a HUB: every party of its credentials). */
  readonly parties: readonly OcpiParty[];
}

/**
 * The audience of a request, from what the transport resolved once for it (ocpi/transport/route.ts):
 * the caller's credentials as they are for the token presented (never behind its handshake, see
 * credentials/directory.ts) and the sender party (headers.ts `resolveRouting`). No read model is
 * asked here: a partner lists its objects the moment its handshake is done.
 */
export function requestAudience(context: { readonly caller: { readonly roles: readonly OcpiPartyRole[] }; readonly routing: OcpiRouting | null }): PartnerAudience {
  const hub = isHub(context.caller.roles);
  if (hub || context.routing === null) return { hub, parties: partiesOf(context.caller.roles) };
  return { hub, parties: [context.routing.from] };
}
