import { Decimal } from 'decimal.js';
import type { RecordedEvent } from '../adapters/event-store/port.js';
import type { SqlExecutor } from '../adapters/sql/port.js';
import { invariant } from '../domain/shared/assert.js';
import { parseStreamName } from '../domain/shared/event.js';
import type { TransactionEventData } from '../domain/transaction/events.js';
import { endedEnergyWh, extendsRunningRegister, isStartOrStopCopy, runningEnergyWh } from '../domain/transaction/meter-energy.js';
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
  meter_start_wh: string | null;
  /** Earliest register by station time: the baseline when the station sent no meter start. */
  first_register_wh: string | null;
  first_reading_at: Date | null;
  /** The highest register the energy rule counted (meter-energy.ts), and its time; the stop register once ended. */
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
    { name: 'first_register_wh', type: 'numeric' },
    { name: 'first_reading_at', type: 'timestamptz' },
    { name: 'latest_register_wh', type: 'numeric' },
    { name: 'latest_reading_at', type: 'timestamptz' },
    { name: 'energy_wh', type: 'numeric' },
    { name: 'readings', type: 'integer' },
    text('stop_reason'),
  ],
};

/** The register the energy counts from: meter start, else the earliest register by station time (never 0 Wh). */
const baselineOf = (row: Row): string | null => (row.meter_start_wh as string | null) ?? (row.first_register_wh as string | null);

/**
 * Energy by the one rule for which readings count (domain/transaction/meter-energy.ts, as the
 * transaction's energy so far, the OCPI Session and the CDR): running, the highest counted register
 * (`latest_register_wh`) − start; ended, stop − start; never negative, 0 without a start.
 */
function energyWh(row: Row): string {
  const baseline = baselineOf(row);
  const start = baseline === null ? null : new Decimal(baseline);
  const register = row.latest_register_wh == null ? null : new Decimal(row.latest_register_wh as string);
  if (row.status === 'ended') return endedEnergyWh(start, register ?? new Decimal(0)).toFixed();
  return runningEnergyWh(start, register).toFixed();
}

/** Keeps the earliest reading by station time (ties: the lower) as the baseline for a session without meter start. */
function withBaseline(row: Row, registerWh: string, sampledAt: string): Row {
  if (row.meter_start_wh !== null) return row;
  const firstAt = row.first_reading_at as string | null;
  if (firstAt !== null && (Date.parse(firstAt) < Date.parse(sampledAt) || (Date.parse(firstAt) === Date.parse(sampledAt) && new Decimal(registerWh).gte(row.first_register_wh as string)))) return row;
  return { ...row, first_register_wh: registerWh, first_reading_at: sampledAt };
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
      first_register_wh: null,
      first_reading_at: null,
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
    const counted = { ...current, readings: (current.readings as number) + 1 };
    if (data.registerWh === null) return counted;
    const row = withBaseline(counted, data.registerWh, data.sampledAt);
    // After the end the stop register is the last word; a late reading may still move the baseline.
    if (current.status === 'ended') return { ...row, energy_wh: energyWh(row) };
    // The highest register of the readings the energy rule counts, whatever order they arrive in.
    const highest = row.latest_register_wh == null ? null : new Decimal(row.latest_register_wh as string);
    const sample = { atMs: Date.parse(data.sampledAt), wh: new Decimal(data.registerWh), startOrStopCopy: isStartOrStopCopy(data.sampledValues) };
    const raises = highest === null || sample.wh.gt(highest) || sample.atMs >= Date.parse(row.latest_reading_at as string);
    const latest = extendsRunningRegister(highest, sample, Date.parse(row.started_at as string)) && raises ? { latest_register_wh: data.registerWh, latest_reading_at: data.sampledAt } : {};
    const next = { ...row, ...latest };
    return { ...next, energy_wh: energyWh(next) };
  }
  invariant(event.type === 'TransactionEnded', `sessions projection handles ${event.type}`);
  const data = event.data as unknown as TransactionEventData<'TransactionEnded'>;
  return {
    ...current,
    status: 'ended',
    ended_at: data.endedAt,
    latest_register_wh: data.meterStopWh,
    energy_wh: energyWh({ ...current, status: 'ended', latest_register_wh: data.meterStopWh }),
    stop_reason: data.reason,
  };
}

export const sessionsProjection: Projection = {
  name: 'sessions',
  // v2: meter start may be unknown (2.0.1), with the earliest reading as baseline.
  // v3: energy by the one rule for which readings count (domain/transaction/meter-energy.ts).
  version: 3,
  handledEventTypes: new Set(['TransactionStarted', 'MeterReadingRecorded', 'TransactionEnded']),
  migrationsGroup: 'readmodels-sessions',
  checksumTables: [{ table: 'transactions', orderBy: transactionsSpec.key }],
  async applyBatch(tx: SqlExecutor, schema: string, events: readonly RecordedEvent[]): Promise<void> {
    const keyOf = (event: RecordedEvent): Row => ({ tenant_id: event.metadata.tenantId, transaction_id: parseStreamName(event.streamId).id });
    await foldIntoTable(tx, schema, transactionsSpec, events, keyOf, evolve);
  },
};
