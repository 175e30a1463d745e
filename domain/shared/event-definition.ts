import type { z } from 'zod';
import type { DomainEvent } from './event.js';

/**
 * One event type as the registry (domain/events.ts) knows it: its current schema and how to bring
 * each older stored version up to date. Upcasting happens on read; stored events are never rewritten.
 */
export interface EventDefinition<TType extends string = string, TSchema extends z.ZodType = z.ZodType> {
  readonly type: TType;
  readonly aggregateType: string;
  /** The version `decide` writes today. */
  readonly schemaVersion: number;
  readonly schema: TSchema;
  /**
   * For each older version v (1 ≤ v < schemaVersion): the schema it was stored with and the
   * function that turns its data into version v + 1.
   */
  readonly upcasters?: Readonly<Record<number, { readonly schema: z.ZodType; readonly up: (data: unknown) => unknown }>>;
}

export function defineEvent<TType extends string, TSchema extends z.ZodType>(
  definition: EventDefinition<TType, TSchema>,
): EventDefinition<TType, TSchema> {
  return definition;
}

/** The domain event a definition describes. */
export type EventOf<D> = D extends EventDefinition<infer TType, infer TSchema> ? DomainEvent<TType, z.infer<TSchema>> : never;

/** Makes a domain event at the definition's current version. */
export function eventFrom<TType extends string, TSchema extends z.ZodType>(
  definition: EventDefinition<TType, TSchema>,
  data: z.infer<TSchema>,
): DomainEvent<TType, z.infer<TSchema>> {
  return { type: definition.type, schemaVersion: definition.schemaVersion, data };
}
