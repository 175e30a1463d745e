import { attachedTariffAt, type ScopeChange } from './scope-decider.js';
import type { TariffScope } from './scope.js';
import { tariffInForce, type TariffInForce, type TariffState } from './state.js';

/**
 * Which tariff prices a session, without I/O: the CDR process manager loads the scope and tariff
 * streams (commands/process/tariff-lookup.ts) and asks this.
 */

/**
 * Scopes a session can be priced by, most specific first (scope.ts): the token's group (a deal
 * with that customer), the EVSE, the location, the tenant.
 */
export function scopesForSession(session: { stationId: string; evseId: number; tokenGroupId: string | null; locationId: string }): TariffScope[] {
  const scopes: TariffScope[] = [];
  if (session.tokenGroupId) scopes.push({ kind: 'tokenGroup', groupId: session.tokenGroupId });
  scopes.push({ kind: 'evse', stationId: session.stationId, evseId: session.evseId });
  scopes.push({ kind: 'location', locationId: session.locationId });
  scopes.push({ kind: 'tenant' });
  return scopes;
}

export interface ScopeAttachments {
  readonly scope: TariffScope;
  readonly changes: readonly ScopeChange[];
}

/**
 * The tariff version that prices a session starting at `startedAt`: the first scope (most
 * specific first, as given) with a tariff attached at that time whose version in force then
 * exists. A scope whose tariff has no version in force (deactivated, not yet valid, past its
 * end_date_time, unknown) falls through to the next scope.
 */
export function tariffInForceForSession(
  scopes: readonly ScopeAttachments[],
  tariffOf: (tariffId: string) => TariffState | undefined,
  startedAt: string,
): (TariffInForce & { scope: TariffScope }) | null {
  for (const { scope, changes } of scopes) {
    const tariffId = attachedTariffAt(changes, startedAt);
    if (tariffId === null) continue;
    const tariff = tariffOf(tariffId);
    if (tariff === undefined || tariff.status === 'none') continue;
    const found = tariffInForce(tariff.versions, startedAt, tariff.deactivatedAt);
    if (found) return { ...found, scope };
  }
  return null;
}
