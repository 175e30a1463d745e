/**
 * The domain's public surface: deciders, their commands and events, and the event registry.
 * Gateways build commands from these types; projections read the event types and data shapes.
 */
export * from './station/index.js';
export * from './transaction/index.js';
export * from './token/index.js';
export { eventDefinition, eventRegistry, EventSchemaError, upcast, validateNewEvent, type AnyDomainEvent, type EventType } from './events.js';
export type { Decider } from './shared/decider.js';
export { fold } from './shared/decider.js';
export type { DomainEvent, EventMetadata } from './shared/event.js';
export { parseStreamName, streamName } from './shared/event.js';
export { defineEvent, eventFrom, type EventDefinition, type EventOf } from './shared/event-definition.js';
export { IllegalStateError, InvalidCommandError } from './shared/errors.js';
export { idTokenSchema, isoTimestamp, nonNegativeDecimalString, ocppVersions, timeMs, type IdToken, type OcppVersion } from './shared/values.js';
export * from './cdr/index.js';
export * from './ledger/index.js';
export * from './settlement/index.js';
