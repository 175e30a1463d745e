import { z } from 'zod';
import { defineEvent, type EventOf } from '../shared/event-definition.js';
import { evseFactsSchema, locationFactsSchema, locationIdSchema } from './facts.js';

/**
 * Events of the `location` aggregate, one stream per OCPI location: `location-<tenant>-<locationId>`.
 * Each carries the whole facts it states (not a diff), so a reader needs no earlier event to
 * render the object. Times are in the metadata (occurredAt/recordedAt): a location fact has no
 * clock of its own.
 */

export const locationAggregateType = 'location';

export const LocationDeclared = defineEvent({
  type: 'LocationDeclared',
  aggregateType: locationAggregateType,
  schemaVersion: 1,
  schema: z.object({ locationId: locationIdSchema, facts: locationFactsSchema }),
});

export const LocationUpdated = defineEvent({
  type: 'LocationUpdated',
  aggregateType: locationAggregateType,
  schemaVersion: 1,
  schema: z.object({ locationId: locationIdSchema, facts: locationFactsSchema }),
});

export const EvseAssigned = defineEvent({
  type: 'EvseAssigned',
  aggregateType: locationAggregateType,
  schemaVersion: 1,
  schema: z.object({ locationId: locationIdSchema, evse: evseFactsSchema }),
});

export const EvseUpdated = defineEvent({
  type: 'EvseUpdated',
  aggregateType: locationAggregateType,
  schemaVersion: 1,
  schema: z.object({ locationId: locationIdSchema, evse: evseFactsSchema }),
});

/** OCPI has no DELETE for EVSEs: a removed EVSE stays, with status REMOVED. */
export const EvseRemoved = defineEvent({
  type: 'EvseRemoved',
  aggregateType: locationAggregateType,
  schemaVersion: 1,
  schema: z.object({ locationId: locationIdSchema, evseUid: evseFactsSchema.shape.evseUid, reason: z.string().min(1).max(255).nullable() }),
});

export const locationEventDefinitions = [LocationDeclared, LocationUpdated, EvseAssigned, EvseUpdated, EvseRemoved] as const;
export type LocationEvent = EventOf<(typeof locationEventDefinitions)[number]>;
export type LocationEventType = LocationEvent['type'];
export type LocationEventData<T extends LocationEventType> = Extract<LocationEvent, { type: T }>['data'];
export const locationEventTypes: readonly LocationEventType[] = locationEventDefinitions.map((d) => d.type);
