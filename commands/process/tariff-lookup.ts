import type { EventStore } from '../../adapters/event-store/port.js';
import { streamName } from '../../domain/shared/event.js';
import {
  attachedTariffAt,
  scopeKey,
  scopesForSession,
  tariffDecider,
  tariffInForceForSession,
  tariffScopeDecider,
  type ScopeAttachments,
  type TariffInForce,
  type TariffScope,
  type TariffState,
} from '../../domain/tariff/aggregate/index.js';
import { loadState } from './streams.js';

/** Scopes a session can be priced by, most specific first (domain/tariff/aggregate/lookup.ts). */
export const scopesOf = scopesForSession;

/**
 * The tariff version that prices a session starting at `startedAt`: loads the scopes' streams and
 * the tariffs attached to them at that time, and lets tariffInForceForSession choose (most
 * specific scope with a version in force wins).
 */
export async function findTariffInForce(
  store: EventStore,
  tenantId: string,
  scopes: readonly TariffScope[],
  startedAt: string,
): Promise<(TariffInForce & { scope: TariffScope }) | null> {
  const attachments: ScopeAttachments[] = [];
  const tariffs = new Map<string, TariffState>();
  for (const scope of scopes) {
    const { changes } = await loadState(store, tariffScopeDecider, streamName(tariffScopeDecider.aggregateType, tenantId, scopeKey(scope)));
    attachments.push({ scope, changes });
    const tariffId = attachedTariffAt(changes, startedAt);
    if (tariffId !== null && !tariffs.has(tariffId)) {
      tariffs.set(tariffId, await loadState(store, tariffDecider, streamName(tariffDecider.aggregateType, tenantId, tariffId)));
    }
  }
  return tariffInForceForSession(attachments, (tariffId) => tariffs.get(tariffId), startedAt);
}
