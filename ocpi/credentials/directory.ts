import type { SqlExecutor } from '../../adapters/sql/port.js';
import { liveSchemaName } from '../../projections/schema.js';
import { credentialsTokenHash } from '../transport/auth.js';
import type { OcpiAuthenticator, OcpiCaller } from '../transport/route.js';

/**
 * Who a credentials token belongs to. The answer comes from the `partners` read model (reads come
 * from read models, docs/design.md), overlaid with the token changes this node made in the last
 * minutes: the partners projection applies events a little later, and the OCPI handshake cannot
 * wait for it. Right after we answer a POST with token C the partner calls us with C, and during
 * our own POST the partner calls our versions with the B we just issued; a token revoked by
 * DELETE must stop working at once. Other nodes see the change when their read model does.
 */

/** How long this node's own token changes override the read model: far beyond projection lag. */
export const tokenOverlayTtlMs = 5 * 60_000;
/** Bound on remembered changes; the oldest go first (they are the ones the read model has by now). */
export const tokenOverlayEntriesMax = 10_000;

interface OverlayEntry {
  readonly partnerId: string | null; // null: revoked
  readonly registered: boolean;
  readonly atMs: number;
}

export interface PartnerDirectory extends OcpiAuthenticator {
  /** This node issued `token` to `partnerId` (state: registered or still registering). */
  remember(token: string, partnerId: string, registered: boolean): void;
  rememberHash(tokenHash: string, partnerId: string, registered: boolean): void;
  /** This node revoked the token with this hash. */
  revokeHash(tokenHash: string): void;
}

export function createPartnerDirectory(db: SqlExecutor, tenantId: string, now: () => number = Date.now): PartnerDirectory {
  const overlay = new Map<string, OverlayEntry>();
  const table = `${liveSchemaName('partners')}.partners`;
  const put = (hash: string, entry: OverlayEntry) => {
    overlay.delete(hash);
    overlay.set(hash, entry);
    while (overlay.size > tokenOverlayEntriesMax) overlay.delete(overlay.keys().next().value!);
  };
  return {
    remember(token, partnerId, registered) {
      put(credentialsTokenHash(token), { partnerId, registered, atMs: now() });
    },
    rememberHash(tokenHash, partnerId, registered) {
      put(tokenHash, { partnerId, registered, atMs: now() });
    },
    revokeHash(tokenHash) {
      put(tokenHash, { partnerId: null, registered: false, atMs: now() });
    },
    async authenticate(candidates): Promise<OcpiCaller | null> {
      for (const token of candidates) {
        const hash = credentialsTokenHash(token);
        const entry = overlay.get(hash);
        if (entry !== undefined && now() - entry.atMs < tokenOverlayTtlMs) {
          if (entry.partnerId === null) continue;
          return { partnerId: entry.partnerId, registered: entry.registered, token };
        }
        if (entry !== undefined) overlay.delete(hash);
        const { rows } = await db.query<{ partner_id: string; status: string }>(
          `SELECT partner_id, status FROM ${table} WHERE tenant_id = $1 AND token_hash = $2 LIMIT 1`,
          [tenantId, hash],
        );
        const row = rows[0];
        if (row !== undefined && row.status !== 'unregistered') return { partnerId: row.partner_id, registered: row.status === 'registered', token };
      }
      return null;
    },
  };
}
