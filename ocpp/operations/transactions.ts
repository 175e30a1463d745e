import type { EventStore } from '../../adapters/event-store/port.js';
import { upcast } from '../../domain/events.js';
import { streamName } from '../../domain/shared/event.js';
import { transactionAggregateType, type TransactionEventData } from '../../domain/transaction/events.js';

/** Page size and bound, as the command handler reads streams (commands/handler.ts). */
const transactionReadPageSize = 1_000;
const transactionEventsMax = 100_000;

export interface StationTransaction {
  readonly transactionId: string;
  readonly stationId: string;
  /** The id the station uses: 1.6 the integer we gave it, 2.0.1 its own; null when not recorded. */
  readonly stationTransactionId: string | null;
  readonly ended: boolean;
}

/** How the runner finds the id a station knows a transaction by. */
export interface TransactionLookup {
  find(tenantId: string, transactionId: string): Promise<StationTransaction | null>;
}

/**
 * Reads the transaction's stream through the event store: the command side's own source of truth
 * (docs/design.md: only command handlers read streams; this is the read half of one). A read model
 * could lag behind a transaction that started a second ago, which is exactly when an operator
 * presses "stop". Only TransactionStarted and TransactionEnded are upcast; meter readings are
 * skipped unread, so a long session costs its stream read and nothing more.
 */
export function createTransactionLookup(eventStore: EventStore): TransactionLookup {
  return {
    async find(tenantId, transactionId) {
      const stream = streamName(transactionAggregateType, tenantId, transactionId);
      let started: TransactionEventData<'TransactionStarted'> | null = null;
      let ended = false;
      for (let fromRevision = 0; ; fromRevision += transactionReadPageSize) {
        const page = await eventStore.readStream(stream, { fromRevision, maxCount: transactionReadPageSize });
        for (const recorded of page) {
          if (recorded.type === 'TransactionStarted') {
            started = upcast(recorded.type, recorded.schemaVersion, recorded.data).data as TransactionEventData<'TransactionStarted'>;
          } else if (recorded.type === 'TransactionEnded') {
            ended = true;
          }
        }
        if (page.length < transactionReadPageSize) break;
        if (fromRevision + transactionReadPageSize >= transactionEventsMax) throw new Error(`${stream} is longer than ${transactionEventsMax} events`);
      }
      if (!started) return null;
      return { transactionId, stationId: started.stationId, stationTransactionId: started.stationTransactionId, ended };
    },
  };
}
