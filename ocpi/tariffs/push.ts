import type { RecordedEvent } from '../../adapters/event-store/port.js';
import type { PushSource, PushTrigger } from '../push/source.js';
import { findTariff, sendableTariff, tariffKeys } from './read.js';

/**
 * Tariffs pushed to eMSP Receivers (mod_tariffs "Receiver interface"): a new or changed tariff is
 * PUT whole at /{country_code}/{party_id}/{tariff_id}; a deactivated one is DELETEd there. Every
 * partner gets every tariff: a tariff is not an eMSP's object.
 */

/** Keys per listKeys call at most, whatever the caller asks: a sync pages with afterKey. */
export const tariffKeysPerCallMax = 1_000;

const versionEvents: ReadonlySet<string> = new Set(['TariffCreated', 'TariffVersioned']);

const tariffPath = (countryCode: string, partyId: string, tariffId: string) =>
  `/${encodeURIComponent(countryCode)}/${encodeURIComponent(partyId)}/${encodeURIComponent(tariffId)}`;

export const tariffsPushSource: PushSource = {
  module: 'tariffs',
  projections: ['tariffs'],
  eventTypes: new Set(['TariffCreated', 'TariffVersioned', 'TariffDeactivated']),
  triggers(event: RecordedEvent): readonly PushTrigger[] {
    const tariffId = (event.data as { tariffId?: unknown }).tariffId;
    if (typeof tariffId !== 'string') return [];
    if (versionEvents.has(event.type)) return [{ module: 'tariffs', objectKey: tariffId, change: 'object' }];
    if (event.type === 'TariffDeactivated') return [{ module: 'tariffs', objectKey: tariffId, change: 'delete' }];
    return [];
  },
  async build(context, objectKey, change) {
    const row = await findTariff(context.db, context.tenantId, objectKey);
    if (row === null) return null;
    const path = tariffPath(row.country_code, row.party_id, row.tariff_id);
    // The read model is at least as new as the event: a tariff deactivated since its version
    // was recorded is deleted rather than put back.
    if (change === 'delete' || !row.active) return { method: 'DELETE', path };
    return { method: 'PUT', path, body: sendableTariff(row) };
  },
  listKeys(context, afterKey, limit) {
    return tariffKeys(context.db, context.tenantId, afterKey, Math.min(limit, tariffKeysPerCallMax));
  },
};
