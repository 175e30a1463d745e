import type { EventStore } from '../../../adapters/event-store/port.js';
import { upcast } from '../../../domain/events.js';
import { invariant } from '../../../domain/shared/assert.js';
import { streamName } from '../../../domain/shared/event.js';
import { meterReadingsPerTransactionMax } from '../../../domain/transaction/decide.js';
import { transactionDecider, type TransactionEvent, type TransactionState } from '../../../domain/transaction/index.js';

/** A reading limit's worth of events, plus start, end and authorizations. */
const transactionEventsMax = meterReadingsPerTransactionMax + 1_000;
const pageSize = 1_000;

/**
 * Folds a transaction stream, for the checks a command cannot make itself: does 1.6 transaction
 * 123 exist, and does it belong to the station that names it? Command-side code, never a read model.
 */
export async function loadTransaction(eventStore: EventStore, tenantId: string, transactionId: string): Promise<TransactionState> {
  const stream = streamName(transactionDecider.aggregateType, tenantId, transactionId);
  let state = transactionDecider.initialState();
  let revision = 0;
  for (;;) {
    const page = await eventStore.readStream(stream, { fromRevision: revision, maxCount: pageSize });
    for (const event of page) state = transactionDecider.evolve(state, upcast(event.type, event.schemaVersion, event.data) as unknown as TransactionEvent);
    revision += page.length;
    invariant(revision <= transactionEventsMax, `${stream} is longer than ${transactionEventsMax} events`);
    if (page.length < pageSize) return state;
  }
}

/** The transaction's station, or null when it has not started. */
export function stationOf(state: TransactionState): string | null {
  return state.status === 'none' ? null : state.data.stationId;
}
