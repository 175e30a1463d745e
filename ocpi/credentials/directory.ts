import type { SqlExecutor } from '../../adapters/sql/port.js';
import { liveSchemaName } from '../../projections/schema.js';
import { credentialsTokenHash } from '../transport/auth.js';
import type { OcpiPartyRole } from '../transport/headers.js';
import type { OcpiAuthenticator, OcpiCaller } from '../transport/route.js';
import { readModelBarrier, type CaughtUpOptions, type EventHead } from './caught-up.js';

/**
 * Who a credentials token belongs to, and the roles of that partner's credentials (the parties it
 * may send as, for routing and for whose objects it sees). Answers are never older than the
 * handshake that issued the token, whichever process made it:
 * - this node's own token changes of the last minutes (an overlay, with the roles of the
 *   handshake): right after we answer a POST with token C the partner calls us with C, during our
 *   own POST it calls our versions with the B we just issued, and a token revoked by DELETE must
 *   stop working at once;
 * - else the `partners` read model (reads come from read models, docs/design.md). A row that
 *   holds the token as registered holds the roles that came with it (PartnerRegistered/Updated is
 *   appended before the token it issues);
 * - an answer short of what the request needs (unknown token, or not registered on a module that
 *   needs it) is asked again once the read model has caught up with every event committed before
 *   the request (`caught-up.ts`): the handshake may have been made by the CLI or another node.
 */

/** How long this node's own token changes override the read model: far beyond projection lag. */
export const tokenOverlayTtlMs = 5 * 60_000;
/** Bound on remembered changes; the oldest go first (they are the ones the read model has by now). */
export const tokenOverlayEntriesMax = 10_000;

interface OverlayEntry {
  readonly partnerId: string | null; // null: revoked
  readonly registered: boolean;
  readonly roles: readonly OcpiPartyRole[];
  readonly atMs: number;
}

export interface PartnerDirectory extends OcpiAuthenticator {
  /** This node issued `token` to `partnerId`: still registering (no roles yet), or registered with these roles. */
  remember(token: string, partnerId: string, registration: { readonly registered: boolean; readonly roles: readonly OcpiPartyRole[] }): void;
  /** This node revoked the token with this hash. */
  revokeHash(tokenHash: string): void;
}

export interface PartnerDirectoryOptions {
  /** The event store, to wait for the read model on a miss; null: the read model as it is. */
  readonly events?: EventHead | null;
  readonly caughtUp?: CaughtUpOptions;
  readonly now?: () => number;
}

type Lookup = { readonly kind: 'found'; readonly caller: OcpiCaller } | { readonly kind: 'none' };

/** Roles as the partners read model stores them (JSON of the domain's PartnerRole), upper case. */
function rolesOf(json: string): OcpiPartyRole[] {
  return (JSON.parse(json) as { role: string; countryCode: string; partyId: string }[]).map((role) => ({
    role: role.role,
    countryCode: role.countryCode.toUpperCase(),
    partyId: role.partyId.toUpperCase(),
  }));
}

export function createPartnerDirectory(db: SqlExecutor, tenantId: string, options: PartnerDirectoryOptions = {}): PartnerDirectory {
  const now = options.now ?? Date.now;
  const overlay = new Map<string, OverlayEntry>();
  const table = `${liveSchemaName('partners')}.partners`;
  const caughtUp = options.events ? readModelBarrier(db, options.events, 'partners', options.caughtUp) : null;
  const put = (hash: string, entry: OverlayEntry) => {
    overlay.delete(hash);
    overlay.set(hash, entry);
    while (overlay.size > tokenOverlayEntriesMax) overlay.delete(overlay.keys().next().value!);
  };

  async function lookup(candidates: readonly string[]): Promise<Lookup> {
    for (const token of candidates) {
      const hash = credentialsTokenHash(token);
      const entry = overlay.get(hash);
      if (entry !== undefined && now() - entry.atMs < tokenOverlayTtlMs) {
        if (entry.partnerId === null) continue;
        return { kind: 'found', caller: { partnerId: entry.partnerId, registered: entry.registered, token, roles: entry.roles } };
      }
      if (entry !== undefined) overlay.delete(hash);
      const { rows } = await db.query<{ partner_id: string; status: string; roles: string }>(
        `SELECT partner_id, status, roles FROM ${table} WHERE tenant_id = $1 AND token_hash = $2 LIMIT 1`,
        [tenantId, hash],
      );
      const row = rows[0];
      if (row === undefined || row.status === 'unregistered') continue;
      const registered = row.status === 'registered';
      return { kind: 'found', caller: { partnerId: row.partner_id, registered, token, roles: registered ? rolesOf(row.roles) : [] } };
    }
    return { kind: 'none' };
  }

  const enough = (found: Lookup, need: 'any' | 'registered') => found.kind === 'found' && (need === 'any' || found.caller.registered);

  return {
    remember(token, partnerId, registration) {
      put(credentialsTokenHash(token), { partnerId, registered: registration.registered, roles: registration.roles, atMs: now() });
    },
    revokeHash(tokenHash) {
      put(tokenHash, { partnerId: null, registered: false, roles: [], atMs: now() });
    },
    async authenticate(candidates, need = 'any'): Promise<OcpiCaller | null> {
      let found = await lookup(candidates);
      if (!enough(found, need) && caughtUp !== null) {
        await caughtUp();
        found = await lookup(candidates);
      }
      return found.kind === 'found' ? found.caller : null;
    },
  };
}
