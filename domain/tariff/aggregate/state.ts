import { assertNever, invariant } from '../../shared/assert.js';
import { timeMs } from '../../shared/values.js';
import { isTariffInForce, parseTariff } from '../parse.js';
import type { Tariff } from '../schema.js';
import { tariffVersionIdOf, type TariffEvent } from './events.js';

export interface TariffVersion {
  readonly version: number;
  readonly versionId: string;
  /** As stored (the OCPI JSON accepted then). */
  readonly tariff: { readonly id: string; readonly currency: string } & Record<string, unknown>;
  readonly validFrom: string;
}

export type TariffState =
  | { readonly status: 'none' }
  | {
      readonly status: 'active' | 'deactivated';
      readonly tariffId: string;
      /** Oldest first; validFrom never decreases (decide makes sure). */
      readonly versions: readonly TariffVersion[];
      readonly deactivatedAt: string | null;
    };

export const initialTariffState = (): TariffState => ({ status: 'none' });

export function evolveTariff(state: TariffState, event: TariffEvent): TariffState {
  switch (event.type) {
    case 'TariffCreated': {
      invariant(state.status === 'none', `tariff ${event.data.tariffId} created twice`);
      const { tariffId, version, tariff, validFrom } = event.data;
      return { status: 'active', tariffId, versions: [{ version, versionId: tariffVersionIdOf(tariffId, version), tariff, validFrom }], deactivatedAt: null };
    }
    case 'TariffVersioned': {
      invariant(state.status === 'active', `tariff ${event.data.tariffId} versioned while ${state.status}`);
      const { tariffId, version, tariff, validFrom } = event.data;
      invariant(version === state.versions.length + 1, `tariff ${tariffId}: version ${version} after ${state.versions.length}`);
      return { ...state, versions: [...state.versions, { version, versionId: tariffVersionIdOf(tariffId, version), tariff, validFrom }] };
    }
    case 'TariffDeactivated':
      invariant(state.status === 'active', `tariff ${event.data.tariffId} deactivated while ${state.status}`);
      return { ...state, status: 'deactivated', deactivatedAt: event.data.deactivatedAt };
    default:
      return assertNever(event, 'tariff event');
  }
}

export interface TariffInForce {
  readonly versionId: string;
  readonly version: number;
  readonly tariff: Tariff;
}

/**
 * The version that prices a session starting at `at` (docs/design.md: "a session prices with the
 * version in force at start"): the newest version whose validFrom is at or before `at`, unless
 * the tariff was deactivated by then or that version's own start/end_date_time excludes `at`.
 * null: no version of this tariff applies (the caller falls back to a less specific scope).
 */
export function tariffInForce(versions: readonly TariffVersion[], at: string, deactivatedAt: string | null = null): TariffInForce | null {
  const atMs = timeMs(at);
  if (deactivatedAt !== null && timeMs(deactivatedAt) <= atMs) return null;
  let found: TariffVersion | undefined;
  for (const version of versions) if (timeMs(version.validFrom) <= atMs) found = version;
  if (found === undefined) return null;
  const tariff = parseTariff(found.tariff);
  // The OCPI fields are UTC RFC 3339; ours carry milliseconds, which the tariff check reads too.
  if (!isTariffInForce(tariff, at)) return null;
  return { versionId: found.versionId, version: found.version, tariff };
}
