/**
 * The shape of every event in the system (docs/design.md, "Events"). Domain code produces
 * `DomainEvent`s (type, schemaVersion, data); command handlers wrap them with metadata and ids
 * before they reach the event store.
 */
export interface DomainEvent<TType extends string = string, TData = unknown> {
  readonly type: TType;
  readonly schemaVersion: number;
  readonly data: TData;
}

/** Who or what caused an event, kept with it for the audit trail. */
export interface EventMetadata {
  readonly tenantId: string;
  /** OCPP message id, OCPI request id or GraphQL request id of the input that caused it. */
  readonly correlationId: string;
  /** Id of the command (or event) that directly caused it. */
  readonly causationId: string;
  /** e.g. `station:CP-1`, `partner:NL-ABC`, `user:alice`, `system:cdr-process`. */
  readonly actor: string;
  /** ISO-8601 time on the clock of whoever sent the input (station, partner). */
  readonly occurredAt: string;
  /** ISO-8601 server time when the command was handled. */
  readonly recordedAt: string;
}

/** Stream names carry the tenant: `<type>-<tenantId>-<id>` (docs/design.md). */
export function streamName(aggregateType: string, tenantId: string, id: string): string {
  if (aggregateType.includes('-') || tenantId.includes('-')) {
    throw new Error(`aggregate type and tenant id may not contain '-': ${aggregateType}, ${tenantId}`);
  }
  return `${aggregateType}-${tenantId}-${id}`;
}

/** Splits a stream name made by `streamName`; the id part may itself contain '-'. */
export function parseStreamName(stream: string): { aggregateType: string; tenantId: string; id: string } {
  const first = stream.indexOf('-');
  const second = stream.indexOf('-', first + 1);
  if (first <= 0 || second <= first + 1 || second === stream.length - 1) {
    throw new Error(`not a stream name of the form <type>-<tenant>-<id>: ${stream}`);
  }
  return { aggregateType: stream.slice(0, first), tenantId: stream.slice(first + 1, second), id: stream.slice(second + 1) };
}
