import { z } from 'zod';
import { defineEvent, type EventOf } from '../../shared/event-definition.js';
import { isoTimestamp } from '../../shared/values.js';

/**
 * Events of the `tariff` aggregate, one stream per OCPI tariff: `tariff-<tenantId>-<tariffId>`.
 * Each version is the whole OCPI 2.2.1 Tariff object as accepted by parseTariff, kept verbatim:
 * a CDR's tariff snapshot and a re-pricing use exactly what was accepted.
 *
 * The event schema checks only the shape that identifies a version, not every tariff rule: when
 * parseTariff grows stricter, versions accepted before must still be readable (they are facts).
 */

export const tariffAggregateType = 'tariff';

/** OCPI Tariff.id is CiString(36). */
export const tariffIdSchema = z.string().min(1).max(36);
/** `<tariffId>@<version>`: what a CDR records as the version it was priced with. */
export const tariffVersionIdOf = (tariffId: string, version: number) => `${tariffId}@${version}`;

/** Versions per tariff: one a day for years; more is a script in a loop. */
export const tariffVersionsMax = 5_000;

const storedTariff = z.looseObject({ id: tariffIdSchema, currency: z.string().length(3) });

const versionFields = {
  tariffId: tariffIdSchema,
  version: z.number().int().min(1).max(tariffVersionsMax),
  tariff: storedTariff,
  /**
   * When this version starts to price sessions (by session START): the tariff's own
   * start_date_time, but never before the version was recorded, so a new version cannot re-price
   * sessions that already started (their CDRs stay what they were).
   */
  validFrom: isoTimestamp,
};

export const TariffCreated = defineEvent({
  type: 'TariffCreated',
  aggregateType: tariffAggregateType,
  schemaVersion: 1,
  schema: z.object({ ...versionFields, createdAt: isoTimestamp }),
});

export const TariffVersioned = defineEvent({
  type: 'TariffVersioned',
  aggregateType: tariffAggregateType,
  schemaVersion: 1,
  schema: z.object({ ...versionFields, versionedAt: isoTimestamp }),
});

/** From `deactivatedAt` on, no version of the tariff prices a session that starts then. */
export const TariffDeactivated = defineEvent({
  type: 'TariffDeactivated',
  aggregateType: tariffAggregateType,
  schemaVersion: 1,
  schema: z.object({ tariffId: tariffIdSchema, deactivatedAt: isoTimestamp, reason: z.string().min(1).max(255).nullable() }),
});

export const tariffEventDefinitions = [TariffCreated, TariffVersioned, TariffDeactivated] as const;
export type TariffEvent = EventOf<(typeof tariffEventDefinitions)[number]>;
export type TariffEventData<T extends TariffEvent['type']> = Extract<TariffEvent, { type: T }>['data'];
