import type { EventStore } from '../../adapters/event-store/port.js';
import { streamName } from '../../domain/shared/event.js';
import {
  attachedTariffAt,
  scopeKey,
  tariffDecider,
  tariffInForce,
  tariffScopeDecider,
  type TariffInForce,
  type TariffScope,
} from '../../domain/tariff/aggregate/index.js';
import { loadState } from './streams.js';

/** Scopes a session can be priced by, most specific first (domain/tariff/aggregate/scope.ts). */
export function scopesOf(session: { stationId: string; evseId: number; tokenGroupId: string | null; locationId: string }): TariffScope[] {
  const scopes: TariffScope[] = [];
  if (session.tokenGroupId) scopes.push({ kind: 'tokenGroup', groupId: session.tokenGroupId });
  scopes.push({ kind: 'evse', stationId: session.stationId, evseId: session.evseId });
  scopes.push({ kind: 'location', locationId: session.locationId });
  scopes.push({ kind: 'tenant' });
  return scopes;
}

/**
 * The tariff version that prices a session starting at `startedAt`: the first scope (most
 * specific) with a tariff attached at that time whose version in force then exists. A scope
 * whose tariff has no version in force (deactivated, not yet valid) falls through to the next.
 */
export async function findTariffInForce(
  store: EventStore,
  tenantId: string,
  scopes: readonly TariffScope[],
  startedAt: string,
): Promise<(TariffInForce & { scope: TariffScope }) | null> {
  for (const scope of scopes) {
    const attachments = await loadState(store, tariffScopeDecider, streamName(tariffScopeDecider.aggregateType, tenantId, scopeKey(scope)));
    const tariffId = attachedTariffAt(attachments.changes, startedAt);
    if (tariffId === null) continue;
    const tariff = await loadState(store, tariffDecider, streamName(tariffDecider.aggregateType, tenantId, tariffId));
    if (tariff.status === 'none') continue;
    const found = tariffInForce(tariff.versions, startedAt, tariff.deactivatedAt);
    if (found) return { ...found, scope };
  }
  return null;
}
