import { cdrEventDefinitions, type CdrEvent } from './cdr/events.js';
import { ledgerEventDefinitions, type LedgerEvent } from './ledger/events.js';
import { locationEventDefinitions, type LocationEvent } from './location/events.js';
import { partnerEventDefinitions, type PartnerEvent } from './partner/events.js';
import { settlementEventDefinitions, type SettlementEvent } from './settlement/events.js';
import type { DomainEvent } from './shared/event.js';
import type { EventDefinition } from './shared/event-definition.js';
import { stationEventDefinitions, type StationEvent } from './station/events.js';
import { tariffEventDefinitions, type TariffEvent } from './tariff/aggregate/events.js';
import { tariffScopeEventDefinitions, type TariffScopeEvent } from './tariff/aggregate/scope.js';
import { stationOperationEventDefinitions, type StationOperationEvent } from './station/operation/events.js';
import { remoteStartEventDefinitions, type RemoteStartEvent } from './station/remote-start/events.js';
import { reservationEventDefinitions, type ReservationEvent } from './station/reservation/events.js';
import { tokenEventDefinitions, type TokenEvent } from './token/events.js';
import { transactionEventDefinitions, type TransactionEvent } from './transaction/events.js';

/**
 * The registry of every event type: current schema version, zod schema and upcasters. Readers
 * (command handlers, projections) pass each stored event through `upcast`, so code only ever
 * sees the current version; stored events are never rewritten.
 */

export type AnyDomainEvent = StationEvent | StationOperationEvent | RemoteStartEvent | ReservationEvent | TransactionEvent | TokenEvent | CdrEvent | LedgerEvent | SettlementEvent | TariffEvent | TariffScopeEvent | PartnerEvent | LocationEvent;
export type EventType = AnyDomainEvent['type'];

const definitions: readonly EventDefinition[] = [
  ...stationEventDefinitions,
  ...stationOperationEventDefinitions,
  ...remoteStartEventDefinitions,
  ...reservationEventDefinitions,
  ...transactionEventDefinitions,
  ...tokenEventDefinitions,
  ...cdrEventDefinitions,
  ...ledgerEventDefinitions,
  ...settlementEventDefinitions,
  ...tariffEventDefinitions,
  ...tariffScopeEventDefinitions,
  ...partnerEventDefinitions,
  ...locationEventDefinitions,
];

export const eventRegistry: ReadonlyMap<string, EventDefinition> = buildRegistry(definitions);

function buildRegistry(all: readonly EventDefinition[]): Map<string, EventDefinition> {
  const registry = new Map<string, EventDefinition>();
  for (const definition of all) {
    if (registry.has(definition.type)) throw new Error(`event type registered twice: ${definition.type}`);
    // Every older version must have a way up, or a stored event of that version could not be read.
    for (let version = 1; version < definition.schemaVersion; version += 1) {
      if (!definition.upcasters?.[version]) {
        throw new Error(`${definition.type}: no upcaster from version ${version} to ${version + 1}`);
      }
    }
    registry.set(definition.type, definition);
  }
  return registry;
}

/** A stored event that cannot be read: unknown type, unknown version or data that fails its schema. */
export class EventSchemaError extends Error {
  override readonly name = 'EventSchemaError';
  constructor(
    message: string,
    readonly eventType: string,
    readonly schemaVersion: number,
  ) {
    super(`${eventType} v${schemaVersion}: ${message}`);
  }
}

export function eventDefinition(type: string): EventDefinition {
  const definition = eventRegistry.get(type);
  if (!definition) throw new EventSchemaError('unknown event type', type, 0);
  return definition;
}

/** Brings a stored event's data up to the current version and validates it. */
export function upcast(type: string, schemaVersion: number, data: unknown): AnyDomainEvent {
  const definition = eventRegistry.get(type);
  if (!definition) throw new EventSchemaError('unknown event type', type, schemaVersion);
  if (!Number.isInteger(schemaVersion) || schemaVersion < 1 || schemaVersion > definition.schemaVersion) {
    throw new EventSchemaError(`unknown schema version (current is ${definition.schemaVersion})`, type, schemaVersion);
  }
  let current = data;
  for (let version = schemaVersion; version < definition.schemaVersion; version += 1) {
    const step = definition.upcasters![version]!;
    const parsed = step.schema.safeParse(current);
    if (!parsed.success) throw new EventSchemaError(`invalid data: ${parsed.error.message}`, type, version);
    current = step.up(parsed.data);
  }
  const parsed = definition.schema.safeParse(current);
  if (!parsed.success) throw new EventSchemaError(`invalid data: ${parsed.error.message}`, type, schemaVersion);
  return { type, schemaVersion: definition.schemaVersion, data: parsed.data } as AnyDomainEvent;
}

/**
 * Checks an event about to be appended has the current version and valid data: `decide` builds
 * them, so a failure here is a bug in our code (docs/style.md: assert what must hold).
 */
export function validateNewEvent(event: DomainEvent): void {
  const definition = eventDefinition(event.type);
  if (event.schemaVersion !== definition.schemaVersion) {
    throw new Error(`invariant violated: ${event.type} written at v${event.schemaVersion}, current is v${definition.schemaVersion}`);
  }
  const parsed = definition.schema.safeParse(event.data);
  if (!parsed.success) throw new Error(`invariant violated: ${event.type} data fails its schema: ${parsed.error.message}`);
}
