import { Decimal } from 'decimal.js';
import type { RecordedEvent } from '../adapters/event-store/port.js';
import type { SqlExecutor } from '../adapters/sql/port.js';
import { invariant } from '../domain/shared/assert.js';
import { parseStreamName } from '../domain/shared/event.js';
import type { TransactionEventData } from '../domain/transaction/events.js';
import type { Projection } from './projection.js';
import { foldIntoTable, type Row, type TableSpec } from './rows.js';

/** Kysely types of `proj_sessions`. Wh values are numeric: strings here, parse with decimal.js. */
export interface TransactionsTable {
  tenant_id: string;
  transaction_id: string;
  station_transaction_id: string | null;
  station_id: string;
  evse_id: number;
  connector_id: number;
  id_token: string | null;
  id_token_type: string | null;
  status: 'active' | 'ended';
  started_at: Date;
  ended_at: Date | null;
  meter_start_wh: string;
  latest_register_wh: string | null;
  latest_reading_at: Date | null;
  energy_wh: string;
  readings: number;
  stop_reason: string | null;
}
export interface SessionsReadModel {
  transactions: TransactionsTable;
}

const text = (name: string) => ({ name, type: 'text' });
const transactionsSpec: TableSpec = {
  table: 'transactions',
  key: ['tenant_id', 'transaction_id'],
  columns: [
    ...['tenant_id', 'transaction_id', 'station_transaction_id', 'station_id'].map(text),
    { name: 'evse_id', type: 'integer' },
    { name: 'connector_id', type: 'integer' },
    ...['id_token', 'id_token_type', 'status'].map(text),
    { name: 'started_at', type: 'timestamptz' },
    { name: 'ended_at', type: 'timestamptz' },
    { name: 'meter_start_wh', type: 'numeric' },
    { name: 'latest_register_wh', type: 'numeric' },
    { name: 'latest_reading_at', type: 'timestamptz' },
    { name: 'energy_wh', type: 'numeric' },
    { name: 'readings', type: 'integer' },
    text('stop_reason'),
  ],
};

/** Energy so far: register minus meter start, exact decimals; a register below start counts as 0. */
function energyWh(meterStartWh: string, registerWh: string): string {
  return Decimal.max(new Decimal(registerWh).minus(meterStartWh), 0).toFixed();
}

function evolve(current: Row | undefined, event: RecordedEvent, key: Row): Row {
  if (event.type === 'TransactionStarted') {
    const data = event.data as unknown as TransactionEventData<'TransactionStarted'>;
    invariant(current === undefined, `transaction ${event.streamId} starts once`);
    return {
      ...key,
      station_transaction_id: data.stationTransactionId,
      station_id: data.stationId,
      evse_id: data.evseId,
      connector_id: data.connectorId,
      id_token: data.idToken?.idToken ?? null,
      id_token_type: data.idToken?.type ?? null,
      status: 'active',
      started_at: data.startedAt,
      ended_at: null,
      meter_start_wh: data.meterStartWh,
      latest_register_wh: null,
      latest_reading_at: null,
      energy_wh: '0',
      readings: 0,
      stop_reason: null,
    };
  }
  // The domain only records readings and ends for a started transaction: anything else is a bug.
  invariant(current !== undefined, `${event.type} of ${event.streamId} follows TransactionStarted`);
  if (event.type === 'MeterReadingRecorded') {
    const data = event.data as unknown as TransactionEventData<'MeterReadingRecorded'>;
    const row = { ...current, readings: (current.readings as number) + 1 };
    const latestAt = current.latest_reading_at as string | null;
    // Late (offline-queued) readings are counted but never replace a newer register.
    if (data.registerWh === null || (latestAt !== null && Date.parse(data.sampledAt) < Date.parse(latestAt))) return row;
    if (current.status === 'ended') return row; // after the end, meterStop is the final figure
    return {
      ...row,
      latest_register_wh: data.registerWh,
      latest_reading_at: data.sampledAt,
      energy_wh: energyWh(current.meter_start_wh as string, data.registerWh),
    };
  }
  invariant(event.type === 'TransactionEnded', `sessions projection handles ${event.type}`);
  const data = event.data as unknown as TransactionEventData<'TransactionEnded'>;
  return {
    ...current,
    status: 'ended',
    ended_at: data.endedAt,
    latest_register_wh: data.meterStopWh,
    energy_wh: energyWh(current.meter_start_wh as string, data.meterStopWh),
    stop_reason: data.reason,
  };
}

export const sessionsProjection: Projection = {
  name: 'sessions',
  version: 1,
  handledEventTypes: new Set(['TransactionStarted', 'MeterReadingRecorded', 'TransactionEnded']),
  migrationsGroup: 'readmodels-sessions',
  checksumTables: [{ table: 'transactions', orderBy: transactionsSpec.key }],
  async applyBatch(tx: SqlExecutor, schema: string, events: readonly RecordedEvent[]): Promise<void> {
    const keyOf = (event: RecordedEvent): Row => ({ tenant_id: event.metadata.tenantId, transaction_id: parseStreamName(event.streamId).id });
    await foldIntoTable(tx, schema, transactionsSpec, events, keyOf, evolve);
  },
};
