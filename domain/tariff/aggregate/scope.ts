import { z } from 'zod';
import { defineEvent, type EventOf } from '../../shared/event-definition.js';
import { InvalidCommandError } from '../../shared/errors.js';
import { isoTimestamp } from '../../shared/values.js';
import { tariffIdSchema } from './events.js';

/**
 * Which tariff applies where. One stream per scope, `tariffscope-<tenantId>-<scopeKey>`, holding
 * the attachments to that scope over time. A scope of its own (rather than TariffAttached on the
 * tariff's stream) because the CDR process manager is command-side and must find "the tariff of
 * this EVSE at 10:00" by reading streams whose names it can compute, without a read model.
 *
 * Precedence when a session is priced (most specific first): token group, EVSE, location, tenant.
 * A token group's tariff is a deal with that customer and wins over the site's price.
 */

export const tariffScopeAggregateType = 'tariffscope';

export const tariffScopeSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('tenant') }),
  z.object({ kind: z.literal('location'), locationId: z.string().min(1).max(36) }),
  z.object({ kind: z.literal('evse'), stationId: z.string().min(1).max(48), evseId: z.number().int().min(1) }),
  z.object({ kind: z.literal('tokenGroup'), groupId: z.string().min(1).max(36) }),
]);
export type TariffScope = z.infer<typeof tariffScopeSchema>;

/** The stream id part of a scope. */
export function scopeKey(scope: TariffScope): string {
  switch (scope.kind) {
    case 'tenant':
      return 'tenant';
    case 'location':
      return `location:${scope.locationId}`;
    case 'evse':
      return `evse:${scope.stationId}:${scope.evseId}`;
    case 'tokenGroup':
      return `tokengroup:${scope.groupId}`;
  }
}

/** Parses the CLI form: `tenant`, `location:ID`, `evse:STATION:EVSE`, `token-group:ID`. */
export function parseScope(text: string): TariffScope {
  const [kind, ...rest] = text.split(':');
  const value = rest.join(':');
  if (kind === 'tenant' && rest.length === 0) return { kind: 'tenant' };
  if (kind === 'location' && value) return { kind: 'location', locationId: value };
  if ((kind === 'token-group' || kind === 'tokengroup') && value) return { kind: 'tokenGroup', groupId: value };
  if (kind === 'evse' && rest.length >= 2) {
    const evseId = Number(rest.at(-1));
    const stationId = rest.slice(0, -1).join(':');
    if (Number.isInteger(evseId) && evseId >= 1 && stationId) return { kind: 'evse', stationId, evseId };
  }
  throw new InvalidCommandError(`scope must be tenant, location:ID, evse:STATION:EVSE or token-group:ID, got ${JSON.stringify(text)}`, 'AttachTariff');
}

export const TariffAttached = defineEvent({
  type: 'TariffAttached',
  aggregateType: tariffScopeAggregateType,
  schemaVersion: 1,
  schema: z.object({ tariffId: tariffIdSchema, scope: tariffScopeSchema, attachedAt: isoTimestamp }),
});

export const TariffDetached = defineEvent({
  type: 'TariffDetached',
  aggregateType: tariffScopeAggregateType,
  schemaVersion: 1,
  schema: z.object({ tariffId: tariffIdSchema, scope: tariffScopeSchema, detachedAt: isoTimestamp }),
});

export const tariffScopeEventDefinitions = [TariffAttached, TariffDetached] as const;
export type TariffScopeEvent = EventOf<(typeof tariffScopeEventDefinitions)[number]>;

export interface AttachTariff {
  readonly type: 'AttachTariff';
  readonly tariffId: string;
  readonly scope: TariffScope;
  readonly attachedAt: string;
}

export interface DetachTariff {
  readonly type: 'DetachTariff';
  readonly scope: TariffScope;
  readonly detachedAt: string;
}

export type TariffScopeCommand = AttachTariff | DetachTariff;
export const tariffScopeCommandTypes = ['AttachTariff', 'DetachTariff'] as const satisfies readonly TariffScopeCommand['type'][];
