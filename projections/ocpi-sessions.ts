import { Decimal } from 'decimal.js';
import type { RecordedEvent } from '../adapters/event-store/port.js';
import type { SqlExecutor } from '../adapters/sql/port.js';
import { invariant } from '../domain/shared/assert.js';
import { parseStreamName } from '../domain/shared/event.js';
import type { TokenEvent } from '../domain/token/events.js';
import type { TransactionEventData } from '../domain/transaction/events.js';
import { ocpiSessionPeriodsMax, periodWithReading, type PeriodRow } from './ocpi-sessions-periods.js';
import { loadTokensByUid, tokensSpec, withToken } from './ocpi-sessions-tokens.js';
import type { Projection } from './projection.js';
import { loadRows, rowKey, upsertRows, type Row, type TableSpec } from './rows.js';

export { ocpiSessionPeriodsMax } from './ocpi-sessions-periods.js';
export { ocpiTokenTypeOf } from './ocpi-sessions-tokens.js';
export type { PeriodRow as OcpiChargingPeriodsTable } from './ocpi-sessions-periods.js';

/**
 * `proj_ocpi_sessions`: transactions as OCPI 2.2.1 Sessions (ocpi/sessions reads it), with their
 * charging periods and the token facts their cdr_token names. Status: PENDING once started,
 * ACTIVE once the EV is seen charging or energy flows, COMPLETED when ended, INVALID when it ended
 * without any energy register ever known (nothing to bill on). last_updated is the event's
 * recordedAt (server clock): station clocks drift and offline queues deliver old station times,
 * and a partner crawling with date_from would then miss the change.
 */
export interface OcpiSessionsTable {
  tenant_id: string;
  session_id: string;
  station_id: string | null;
  station_evse_id: number | null;
  station_connector_id: number | null;
  token_uid: string | null;
  token_type: string | null;
  contract_id: string | null;
  token_country_code: string | null;
  token_party_id: string | null;
  auth_basis: string | null;
  remote_start: boolean;
  status: 'AUTHORIZED' | 'PENDING' | 'ACTIVE' | 'COMPLETED' | 'INVALID';
  start_date_time: Date | null;
  end_date_time: Date | null;
  meter_start_wh: string | null;
  meter_start_at: Date | null;
  latest_register_wh: string | null;
  latest_register_at: Date | null;
  energy_wh: string;
  register_known: boolean;
  charging_state: string | null;
  period_count: number;
  last_updated: Date;
}
export interface OcpiSessionsReadModel {
  sessions: OcpiSessionsTable;
  charging_periods: PeriodRow;
}

const text = (name: string) => ({ name, type: 'text' });
const at = (name: string) => ({ name, type: 'timestamptz' });
const numeric = (name: string) => ({ name, type: 'numeric' });
const integer = (name: string) => ({ name, type: 'integer' });
const boolean = (name: string) => ({ name, type: 'boolean' });

const sessionsSpec: TableSpec = {
  table: 'sessions',
  key: ['tenant_id', 'session_id'],
  columns: [
    ...['tenant_id', 'session_id', 'station_id'].map(text),
    integer('station_evse_id'),
    integer('station_connector_id'),
    ...['token_uid', 'token_type', 'contract_id', 'token_country_code', 'token_party_id', 'auth_basis'].map(text),
    boolean('remote_start'),
    text('status'),
    at('start_date_time'),
    at('end_date_time'),
    numeric('meter_start_wh'),
    at('meter_start_at'),
    numeric('latest_register_wh'),
    at('latest_register_at'),
    numeric('energy_wh'),
    boolean('register_known'),
    text('charging_state'),
    integer('period_count'),
    at('last_updated'),
  ],
};
export const chargingPeriodsSpec: TableSpec = {
  table: 'charging_periods',
  key: ['tenant_id', 'session_id', 'period_index'],
  columns: [
    ...['tenant_id', 'session_id'].map(text),
    integer('period_index'),
    at('start_date_time'),
    at('end_at'),
    text('charging_state'),
    numeric('start_register_wh'),
    numeric('end_register_wh'),
    at('end_register_at'),
    ...['max_current_a', 'min_current_a', 'max_power_kw', 'min_power_kw'].map(numeric),
  ],
};

type Data<T extends Parameters<typeof dataOf>[1]> = T extends 'TokenIssued' ? Extract<TokenEvent, { type: 'TokenIssued' }>['data'] : TransactionEventData<Exclude<T, 'TokenIssued'>>;
function dataOf<T extends 'TokenIssued' | 'TransactionAuthorized' | 'TransactionStarted' | 'MeterReadingRecorded' | 'TransactionEnded' | 'ChargingStateChanged'>(event: RecordedEvent, _type: T): Data<T> {
  return event.data as unknown as Data<T>;
}

/** The batch's rows in memory: loaded once, changed in event order, written once per table. */
interface BatchRows {
  readonly sessions: Map<string, Row>;
  readonly periods: Map<string, Row>;
  readonly tokens: Map<string, Row>;
}

function energyWh(session: Row, registerWh: string): string {
  const baseline = (session.meter_start_wh as string | null) ?? registerWh;
  return Decimal.max(new Decimal(registerWh).minus(baseline), 0).toFixed();
}

const periodKey = (session: Row, index: number) => rowKey(chargingPeriodsSpec, { tenant_id: session.tenant_id, session_id: session.session_id, period_index: index });

function lastPeriod(rows: BatchRows, session: Row): Row | undefined {
  const count = session.period_count as number;
  return count === 0 ? undefined : rows.periods.get(periodKey(session, count - 1));
}

function putPeriod(rows: BatchRows, session: Row, period: Row): void {
  rows.periods.set(periodKey(session, period.period_index as number), period);
}

function applyTransactionEvent(rows: BatchRows, event: RecordedEvent, key: Row): void {
  const id = rowKey(sessionsSpec, key);
  const current = rows.sessions.get(id);
  const last_updated = event.metadata.recordedAt;
  if (event.type === 'TransactionAuthorized') {
    const data = dataOf(event, 'TransactionAuthorized');
    if (data.result !== 'Accepted') return;
    const base = current ?? { ...key, status: 'AUTHORIZED', remote_start: false, energy_wh: '0', register_known: false, period_count: 0 };
    // The start's own token stands; an authorization names the token when the start had none (2.0.1).
    const named = base.token_uid == null ? withToken(rows.tokens, base, data.idToken) : base;
    rows.sessions.set(id, { ...named, auth_basis: data.basis, last_updated });
    return;
  }
  if (event.type === 'TransactionStarted') {
    const data = dataOf(event, 'TransactionStarted');
    invariant(current === undefined || current.status === 'AUTHORIZED', `transaction ${event.streamId} starts once`);
    let session: Row = {
      ...(current ?? { ...key, auth_basis: null, remote_start: false, token_uid: null }),
      station_id: data.stationId,
      station_evse_id: data.evseId,
      station_connector_id: data.connectorId,
      status: 'PENDING',
      start_date_time: data.startedAt,
      end_date_time: null,
      meter_start_wh: data.meterStartWh,
      meter_start_at: null,
      latest_register_wh: null,
      latest_register_at: null,
      energy_wh: '0',
      register_known: data.meterStartWh !== null,
      charging_state: null,
      period_count: 1,
      last_updated,
    };
    if (data.triggerReason === 'RemoteStart') session.remote_start = true;
    if (data.idToken) session = withToken(rows.tokens, session, data.idToken);
    rows.sessions.set(id, session);
    putPeriod(rows, session, {
      tenant_id: key.tenant_id, session_id: key.session_id, period_index: 0, start_date_time: data.startedAt, end_at: data.startedAt,
      charging_state: null, start_register_wh: data.meterStartWh, end_register_wh: data.meterStartWh, end_register_at: data.meterStartWh === null ? null : data.startedAt,
      max_current_a: null, min_current_a: null, max_power_kw: null, min_power_kw: null,
    });
    return;
  }
  // The domain records readings, states and ends only for a started transaction: anything else is a bug.
  invariant(current !== undefined && current.status !== 'AUTHORIZED', `${event.type} of ${event.streamId} follows TransactionStarted`);
  const period = lastPeriod(rows, current);
  invariant(period !== undefined, `session ${event.streamId} has a charging period`);
  if (event.type === 'MeterReadingRecorded') {
    rows.sessions.set(id, withReading(current, dataOf(event, 'MeterReadingRecorded'), last_updated));
    const updated = periodWithReading(period as unknown as PeriodRow, dataOf(event, 'MeterReadingRecorded'));
    if (updated !== null) putPeriod(rows, current, updated as unknown as Row);
    return;
  }
  if (event.type === 'ChargingStateChanged') {
    const data = dataOf(event, 'ChargingStateChanged');
    const activated = current.status === 'PENDING' && data.state === 'Charging' ? 'ACTIVE' : current.status;
    const session: Row = { ...current, status: activated, charging_state: data.late ? current.charging_state : data.state, last_updated };
    // A late change (offline queue, or after the end) would split a period already closed; the
    // periods keep the live order instead, the session's energy and times stay exact.
    const splits = !data.late && Date.parse(data.changedAt) >= Date.parse(period.start_date_time as string);
    if (splits && (current.period_count as number) < ocpiSessionPeriodsMax) {
      putPeriod(rows, current, { ...period, end_at: data.changedAt });
      const start = period.end_register_wh ?? period.start_register_wh ?? null;
      const next: Row = {
        ...period, period_index: current.period_count, start_date_time: data.changedAt, end_at: data.changedAt, charging_state: data.state,
        start_register_wh: start, end_register_wh: start, max_current_a: null, min_current_a: null, max_power_kw: null, min_power_kw: null,
      };
      session.period_count = (current.period_count as number) + 1;
      putPeriod(rows, session, next);
    } else if (splits) {
      putPeriod(rows, current, { ...period, end_at: maxTime(period.end_at as string, data.changedAt) });
    }
    rows.sessions.set(id, session);
    return;
  }
  invariant(event.type === 'TransactionEnded', `ocpi_sessions projection handles ${event.type}`);
  const data = dataOf(event, 'TransactionEnded');
  const registerKnown = Boolean(current.register_known) || data.meterStopSource === 'station';
  const baselined = current.meter_start_wh == null ? { ...current, meter_start_wh: data.meterStopWh } : current;
  rows.sessions.set(id, {
    ...baselined,
    status: registerKnown ? 'COMPLETED' : 'INVALID',
    end_date_time: data.endedAt,
    latest_register_wh: data.meterStopWh,
    latest_register_at: data.endedAt,
    energy_wh: energyWh(baselined, data.meterStopWh),
    register_known: registerKnown,
    last_updated,
  });
  const endsAfter = Date.parse(data.endedAt) >= Date.parse(period.start_date_time as string);
  if (endsAfter) putPeriod(rows, current, { ...period, end_at: maxTime(period.end_at as string, data.endedAt), end_register_wh: data.meterStopWh, end_register_at: data.endedAt, start_register_wh: period.start_register_wh ?? data.meterStopWh });
}

const maxTime = (a: string, b: string) => (Date.parse(a) >= Date.parse(b) ? a : b);

/**
 * A reading moves the energy when it is the newest register by station time; a register older
 * than the baseline of a session without meter start becomes the baseline (as projections/sessions.ts).
 */
function withReading(session: Row, data: TransactionEventData<'MeterReadingRecorded'>, last_updated: string): Row {
  if (data.registerWh === null || session.end_date_time != null) return { ...session, last_updated };
  let row: Row = { ...session, register_known: true, last_updated };
  const sampledMs = Date.parse(data.sampledAt);
  if (row.meter_start_wh == null || (row.meter_start_at != null && sampledMs < Date.parse(row.meter_start_at as string))) {
    row = { ...row, meter_start_wh: data.registerWh, meter_start_at: data.sampledAt };
  }
  const latestAt = row.latest_register_at as string | null;
  if (latestAt === null || sampledMs >= Date.parse(latestAt)) row = { ...row, latest_register_wh: data.registerWh, latest_register_at: data.sampledAt };
  const energy = energyWh(row, row.latest_register_wh as string);
  const flowing = row.status === 'PENDING' && new Decimal(energy).gt(0);
  return { ...row, energy_wh: energy, status: flowing ? 'ACTIVE' : row.status };
}

async function loadBatch(tx: SqlExecutor, schema: string, events: readonly RecordedEvent[]): Promise<BatchRows> {
  const sessionKeys: Row[] = [];
  const tokenIds: Row[] = [];
  const uids = new Set<string>();
  const tenants = new Set<string>();
  for (const event of events) {
    const { aggregateType, id } = parseStreamName(event.streamId);
    const tenant_id = event.metadata.tenantId;
    if (aggregateType === 'token') tokenIds.push({ tenant_id, token_id: id });
    else sessionKeys.push({ tenant_id, session_id: id });
    if (event.type === 'TransactionStarted' || event.type === 'TransactionAuthorized') {
      const idToken = (event.data as { idToken?: { idToken: string } | null }).idToken;
      if (idToken) {
        uids.add(idToken.idToken);
        tenants.add(tenant_id);
      }
    }
  }
  const sessions = await loadRows(tx, schema, sessionsSpec, sessionKeys);
  const tokens = await loadRows(tx, schema, tokensSpec, tokenIds);
  await loadTokensByUid(tx, schema, tokens, [...tenants], [...uids]);
  const periodKeys = [...sessions.values()].filter((s) => (s.period_count as number) > 0).map((s) => ({ tenant_id: s.tenant_id, session_id: s.session_id, period_index: (s.period_count as number) - 1 }));
  const periods = await loadRows(tx, schema, chargingPeriodsSpec, periodKeys);
  return { sessions, periods, tokens };
}

export const ocpiSessionsProjection: Projection = {
  name: 'ocpi_sessions',
  version: 1,
  handledEventTypes: new Set(['TransactionAuthorized', 'TransactionStarted', 'MeterReadingRecorded', 'ChargingStateChanged', 'TransactionEnded', 'TokenIssued', 'TokenUpdated']),
  migrationsGroup: 'readmodels-ocpi-sessions',
  checksumTables: [
    { table: 'sessions', orderBy: sessionsSpec.key },
    { table: 'charging_periods', orderBy: chargingPeriodsSpec.key },
    { table: 'tokens', orderBy: tokensSpec.key },
  ],
  async applyBatch(tx: SqlExecutor, schema: string, events: readonly RecordedEvent[]): Promise<void> {
    if (events.length === 0) return;
    const rows = await loadBatch(tx, schema, events);
    const touched = { sessions: new Set<string>(), tokens: new Set<string>() };
    const before = { periods: new Map(rows.periods) };
    for (const event of events) {
      const { aggregateType, id } = parseStreamName(event.streamId);
      const tenant_id = event.metadata.tenantId;
      if (aggregateType === 'token') {
        const data = dataOf(event, 'TokenIssued');
        const token = { tenant_id, token_id: id, uid: data.uid, token_type: data.tokenType, contract_id: data.contractId, country_code: data.countryCode ?? null, party_id: data.partyId ?? null };
        rows.tokens.set(rowKey(tokensSpec, token), token);
        touched.tokens.add(rowKey(tokensSpec, token));
        continue;
      }
      const key = { tenant_id, session_id: id };
      applyTransactionEvent(rows, event, key);
      touched.sessions.add(rowKey(sessionsSpec, key));
    }
    const changedPeriods = [...rows.periods.entries()].filter(([id, row]) => before.periods.get(id) !== row).map(([, row]) => row);
    await upsertRows(tx, schema, sessionsSpec, [...touched.sessions].map((id) => rows.sessions.get(id)).filter((row): row is Row => row !== undefined));
    await upsertRows(tx, schema, chargingPeriodsSpec, changedPeriods);
    await upsertRows(tx, schema, tokensSpec, [...touched.tokens].map((id) => rows.tokens.get(id)!));
  },
};
