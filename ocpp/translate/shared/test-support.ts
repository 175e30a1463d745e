import { fixedClock } from '../../../adapters/clock/clock.js';
import { openMemoryEventStore } from '../../../adapters/event-store/memory.js';
import type { RecordedEvent } from '../../../adapters/event-store/port.js';
import { createCommandBus } from '../../../commands/bus.js';
import type { Command } from '../../../commands/bus.js';
import { createCsmsOcppHandler, type CsmsOcppHandlerDeps, type UnrecordedMessage } from '../../csms-handler.js';
import { ocppSchemas } from '../../schemas.js';
import { memoryTransactionIdAllocator } from '../../transaction-ids.js';
import type { ConnectionContext, OcppVersion } from '../../types.js';

/**
 * A CSMS handler over the real command bus and the in-memory event store, for translator tests.
 * Every request a test sends and every answer the handler gives is checked against the official
 * schema, as the gateway would.
 */
export function csmsUnderTest(version: OcppVersion, overrides: Partial<CsmsOcppHandlerDeps> = {}) {
  const eventStore = openMemoryEventStore();
  const clock = fixedClock('2025-06-01T12:00:00.000Z');
  const bus = createCommandBus({ eventStore, clock });
  const unrecorded: UnrecordedMessage[] = [];
  const handler = createCsmsOcppHandler({
    bus,
    eventStore,
    clock,
    transactionIds: memoryTransactionIdAllocator(),
    defaultTenantId: 't1',
    registrationPolicy: { unknownStation: 'Accepted' },
    onUnrecorded: (message) => unrecorded.push(message),
    ...overrides,
  });
  const schemas = ocppSchemas();
  let messages = 0;
  let seen = 0;

  /**
   * One CALL as the gateway hands it over. `connectionId`: the socket it came on; by default one
   * socket per station for the whole test (a reconnect is a new id).
   */
  async function call(
    action: string,
    payload: unknown,
    options: { messageId?: string; stationId?: string; admission?: 'accepted' | 'pending'; connectionId?: string } = {},
  ) {
    const violation = schemas.validate(version, action, 'Request', payload);
    if (violation) throw new Error(`test request ${action} breaks the schema: ${violation.description}`);
    const messageId = options.messageId ?? `m${++messages}`;
    const answer = await handler.handleCall(
      {
        stationId: options.stationId ?? 'CP-1',
        ocppVersion: version,
        messageId,
        connectionId: options.connectionId ?? 'socket-1',
        admission: options.admission ?? 'accepted',
      },
      action,
      payload,
    );
    const answerViolation = schemas.validate(version, action, 'Response', answer);
    if (answerViolation) throw new Error(`answer to ${action} breaks the schema: ${answerViolation.description} ${JSON.stringify(answer)}`);
    return answer as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  }

  async function all(): Promise<RecordedEvent[]> {
    return eventStore.readAll({ limit: 10_000 });
  }

  /** Events appended since the last call of `newEvents`, as type + stream + data. */
  async function newEvents() {
    const events = await all();
    const fresh = events.slice(seen);
    seen = events.length;
    return fresh.map((event) => ({ type: event.type, streamId: event.streamId, data: event.data as Record<string, any> })); // eslint-disable-line @typescript-eslint/no-explicit-any
  }

  /** The socket a station's calls come on (the gateway's connection id): `socket-1` unless a test reconnects. */
  const connection = (stationId = 'CP-1', connectionId = 'socket-1'): ConnectionContext => ({ stationId, ocppVersion: version, connectionId, admission: 'accepted' });

  /** Issues a local token the way an operator would (token id = uid). */
  async function issueToken(uid: string, extra: Partial<Extract<Command, { type: 'IssueToken' }>> = {}) {
    await bus.send({
      commandId: `issue-${uid}`,
      tenantId: 't1',
      aggregateId: uid,
      actor: 'user:op',
      correlationId: `issue-${uid}`,
      occurredAt: clock.now().toISOString(),
      command: { type: 'IssueToken', uid, tokenType: 'RFID', contractId: `C-${uid}`, issuer: 'op', whitelist: 'ALWAYS', source: 'local', ...extra },
    });
    await newEvents();
  }

  async function blockToken(uid: string) {
    await bus.send({
      commandId: `block-${uid}`,
      tenantId: 't1',
      aggregateId: uid,
      actor: 'user:op',
      correlationId: `block-${uid}`,
      occurredAt: clock.now().toISOString(),
      command: { type: 'BlockToken', reason: 'lost' },
    });
    await newEvents();
  }

  return { eventStore, clock, bus, handler, call, all, newEvents, unrecorded, connection, issueToken, blockToken };
}
