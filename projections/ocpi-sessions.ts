import { Decimal } from 'decimal.js';
import type { RecordedEvent } from '../adapters/event-store/port.js';
import { quoteIdentifier, type SqlExecutor } from '../adapters/sql/port.js';
import { invariant } from '../domain/shared/assert.js';
import { parseStreamName } from '../domain/shared/event.js';
import type { TokenEvent } from '../domain/token/events.js';
import type { AuthorizationBasis, TransactionEventData } from '../domain/transaction/events.js';
import { endedEnergyWh, extendsRunningRegister, isStartOrStopCopy, runningEnergyWh } from '../domain/transaction/meter-energy.js';
import {
  tokenWithAuthorized,
  tokenWithStarted,
  withAuthorized,
  withStarted,
  type SessionAuthorization,
  type SessionToken,
} from '../domain/transaction/session-authorization.js';
import { periodsAfterReading, periodsAfterStateChange, periodsAtEnd, registerBefore, type PeriodRow } from './ocpi-sessions-periods.js';
import { loadTokensByUid, tokensSpec, withAuthorizingParty, withToken } from './ocpi-sessions-tokens.js';
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
  /** OCPI authorization_reference: the last one the eMSP gave (real-time answer or START_SESSION). */
  authorization_reference: string | null;
  status: 'AUTHORIZED' | 'PENDING' | 'ACTIVE' | 'COMPLETED' | 'INVALID';
  start_date_time: Date | null;
  end_date_time: Date | null;
  meter_start_wh: string | null;
  meter_start_at: Date | null;
  /** The highest register the energy rule counted (domain/transaction/meter-energy.ts) and its time; the stop register once ended. */
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
    text('authorization_reference'),
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
  /** Periods the batch removed (a trailing one at the end), by key: deleted when written. */
  readonly removedPeriods: Set<string>;
}

const periodKey = (session: Row, index: number) => rowKey(chargingPeriodsSpec, { tenant_id: session.tenant_id, session_id: session.session_id, period_index: index });

function putPeriod(rows: BatchRows, session: Row, period: Row): void {
  rows.periods.set(periodKey(session, period.period_index as number), period);
}

/**
 * The session's open periods, oldest first: the last one whose start register is known and the
 * pending ones after it (ocpi-sessions-periods.ts). loadBatch loads them and the one before.
 */
function openPeriods(rows: BatchRows, session: Row): PeriodRow[] {
  const open: PeriodRow[] = [];
  for (let index = (session.period_count as number) - 1; index >= 0; index -= 1) {
    const period = rows.periods.get(periodKey(session, index));
    invariant(period !== undefined, `period ${index} of session ${String(session.session_id)} is loaded`);
    open.unshift(period as unknown as PeriodRow);
    if (period.start_register_wh != null) break;
  }
  return open;
}

function putPeriods(rows: BatchRows, session: Row, periods: readonly PeriodRow[]): void {
  for (const period of periods) {
    const key = periodKey(session, period.period_index);
    if (rows.periods.get(key) !== (period as unknown as Row)) rows.periods.set(key, period as unknown as Row);
    rows.removedPeriods.delete(key);
  }
}

/** A row's authorization columns as the domain's summary (domain/transaction/session-authorization.ts), and back. */
const authorizationOfRow = (row: Row): SessionAuthorization => ({
  remoteStart: Boolean(row.remote_start),
  basis: (row.auth_basis ?? null) as AuthorizationBasis | null,
  authorizationReference: (row.authorization_reference ?? null) as string | null,
});
const authorizationColumns = (summary: SessionAuthorization): Row => ({
  remote_start: summary.remoteStart,
  auth_basis: summary.basis,
  authorization_reference: summary.authorizationReference,
});

/**
 * The row's token as the domain's SessionToken. Its eMSP is left out: the rule only ever sets one
 * (never clears it), so the row's token columns keep what earlier events said.
 */
const tokenOfRow = (row: Row): SessionToken | null =>
  row.token_uid == null ? null : { idToken: { idToken: String(row.token_uid), type: String(row.token_type ?? 'OTHER') }, authorizingParty: null };

/** The token columns after the domain's token rule (session-authorization.ts, the CDR's rule too) moved to `next`. */
function withSessionToken(tokens: ReadonlyMap<string, Row>, row: Row, next: SessionToken | null): Row {
  if (next === null) return row;
  const named = row.token_uid === next.idToken.idToken ? row : withToken(tokens, row, next.idToken);
  return next.authorizingParty === null ? named : withAuthorizingParty(tokens, named, next.authorizingParty);
}

function applyTransactionEvent(rows: BatchRows, event: RecordedEvent, key: Row): void {
  const id = rowKey(sessionsSpec, key);
  const current = rows.sessions.get(id);
  const last_updated = event.metadata.recordedAt;
  if (event.type === 'TransactionAuthorized') {
    const data = dataOf(event, 'TransactionAuthorized');
    if (data.result !== 'Accepted') return;
    const base = current ?? { ...key, status: 'AUTHORIZED', remote_start: false, energy_wh: '0', register_known: false, period_count: 0 };
    // The start's own token stands; an authorization names the token when the start had none (2.0.1),
    // and the eMSP that authorized it (real time, START_SESSION) becomes the cdr_token's party.
    const named = withSessionToken(rows.tokens, base, tokenWithAuthorized(tokenOfRow(base), data));
    rows.sessions.set(id, { ...named, ...authorizationColumns(withAuthorized(authorizationOfRow(named), data)), last_updated });
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
    session = { ...session, ...authorizationColumns(withStarted(authorizationOfRow(session), data)) };
    session = withSessionToken(rows.tokens, session, tokenWithStarted(tokenOfRow(session), data));
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
  const open = openPeriods(rows, current);
  invariant(open.length > 0, `session ${event.streamId} has a charging period`);
  if (event.type === 'MeterReadingRecorded') {
    const data = dataOf(event, 'MeterReadingRecorded');
    const next = withReading(current, data, last_updated);
    rows.sessions.set(id, next);
    // Only a reading the energy rule counts spreads energy over the periods (ocpi-sessions-periods.ts).
    const counts = next.latest_register_at !== current.latest_register_at || next.latest_register_wh !== current.latest_register_wh;
    putPeriods(rows, current, periodsAfterReading(open, registerBefore(current), data, current.end_date_time != null, counts));
    return;
  }
  if (event.type === 'ChargingStateChanged') {
    const data = dataOf(event, 'ChargingStateChanged');
    const activated = current.status === 'PENDING' && data.state === 'Charging' ? 'ACTIVE' : current.status;
    const session: Row = { ...current, status: activated, charging_state: data.late ? current.charging_state : data.state, last_updated };
    // A late change (offline queue, or after the end) would split a period already closed; the
    // periods keep the live order instead, the session's energy and times stay exact.
    if (!data.late) {
      const periods = periodsAfterStateChange(open, registerBefore(current), data);
      session.period_count = periods.at(-1)!.period_index + 1;
      putPeriods(rows, session, periods);
    }
    rows.sessions.set(id, session);
    return;
  }
  invariant(event.type === 'TransactionEnded', `ocpi_sessions projection handles ${event.type}`);
  const data = dataOf(event, 'TransactionEnded');
  const registerKnown = Boolean(current.register_known) || data.meterStopSource === 'station';
  // No start register yet: the stop stands in, at the end, until a reading sampled before it arrives late (withReading).
  const baselined = current.meter_start_wh == null ? { ...current, meter_start_wh: data.meterStopWh, meter_start_at: data.endedAt } : current;
  rows.sessions.set(id, {
    ...baselined,
    status: registerKnown ? 'COMPLETED' : 'INVALID',
    end_date_time: data.endedAt,
    latest_register_wh: data.meterStopWh,
    latest_register_at: data.endedAt,
    energy_wh: endedEnergyWh(current.meter_start_wh == null ? null : new Decimal(current.meter_start_wh as string), new Decimal(data.meterStopWh)).toFixed(),
    register_known: registerKnown,
    last_updated,
  });
  const beforeOpen = rows.periods.get(periodKey(current, open[0]!.period_index - 1)) as unknown as PeriodRow | undefined;
  const { periods, removedIndex } = periodsAtEnd(open, beforeOpen, registerBefore(current), { at: data.endedAt, wh: data.meterStopWh });
  putPeriods(rows, current, periods);
  if (removedIndex !== null) {
    const ended = rows.sessions.get(id)!;
    rows.sessions.set(id, { ...ended, period_count: removedIndex });
    rows.periods.delete(periodKey(current, removedIndex));
    rows.removedPeriods.add(periodKey(current, removedIndex));
  }
}

/**
 * A reading and the session's energy, by the one rule for which readings count
 * (domain/transaction/meter-energy.ts, as energy so far and the CDR): `latest_register_*` is the
 * highest register of the readings that extend the session's run (a Transaction.Begin/End copy,
 * a reading before the start or below that register never moves it), energy is it − start, so the
 * kwh never goes down as readings arrive. A register older than the baseline of a session without
 * meter start becomes the baseline (ties: the lower), as the CDR's start register, even after the
 * end (offline-queued readings flushed after it): the energy is then stop − that baseline.
 */
function withReading(session: Row, data: TransactionEventData<'MeterReadingRecorded'>, last_updated: string): Row {
  if (data.registerWh === null) return { ...session, last_updated };
  let row: Row = { ...session, register_known: true, last_updated };
  const sampledMs = Date.parse(data.sampledAt);
  const wh = new Decimal(data.registerWh);
  const baselineAt = row.meter_start_at == null ? null : Date.parse(row.meter_start_at as string);
  if (row.meter_start_wh == null || (baselineAt !== null && (sampledMs < baselineAt || (sampledMs === baselineAt && wh.lt(row.meter_start_wh as string))))) {
    row = { ...row, meter_start_wh: data.registerWh, meter_start_at: data.sampledAt };
  }
  // After the end the stop register is the last word (latest_register_* holds it).
  if (row.end_date_time != null) return { ...row, energy_wh: endedEnergyWh(new Decimal(row.meter_start_wh as string), new Decimal(row.latest_register_wh as string)).toFixed() };
  const highestWh = row.latest_register_wh == null ? null : new Decimal(row.latest_register_wh as string);
  const sample = { atMs: sampledMs, wh, startOrStopCopy: isStartOrStopCopy(data.sampledValues) };
  // An equal register later in time moves the time on (the periods' register up to it); one earlier does not.
  const raises = highestWh === null || wh.gt(highestWh) || sampledMs >= Date.parse(row.latest_register_at as string);
  if (extendsRunningRegister(highestWh, sample, Date.parse(row.start_date_time as string)) && raises) {
    row = { ...row, latest_register_wh: data.registerWh, latest_register_at: data.sampledAt };
  }
  const energy = runningEnergyWh(new Decimal(row.meter_start_wh as string), row.latest_register_wh == null ? null : new Decimal(row.latest_register_wh as string));
  const flowing = row.status === 'PENDING' && energy.gt(0);
  return { ...row, energy_wh: energy.toFixed(), status: flowing ? 'ACTIVE' : row.status };
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
  const periods = await loadOpenPeriods(tx, schema, [...sessions.values()].filter((s) => (s.period_count as number) > 0));
  return { sessions, periods, tokens, removedPeriods: new Set() };
}

/**
 * Each session's open periods (see openPeriods) and the one before them, which the end needs
 * when it removes a trailing period. At most ocpiSessionPeriodsMax per session.
 */
async function loadOpenPeriods(tx: SqlExecutor, schema: string, sessions: readonly Row[]): Promise<Map<string, Row>> {
  const found = new Map<string, Row>();
  if (sessions.length === 0) return found;
  const table = `${quoteIdentifier(schema)}.charging_periods`;
  const { rows } = await tx.query<Row>(
    `SELECT p.* FROM ${table} p JOIN unnest($1::text[], $2::text[]) AS k(tenant_id, session_id) ON p.tenant_id = k.tenant_id AND p.session_id = k.session_id
      WHERE p.period_index >= coalesce((SELECT max(q.period_index) FROM ${table} q
                                          WHERE q.tenant_id = p.tenant_id AND q.session_id = p.session_id AND q.start_register_wh IS NOT NULL), 0) - 1`,
    [sessions.map((s) => s.tenant_id), sessions.map((s) => s.session_id)],
  );
  for (const row of rows) {
    for (const [column, value] of Object.entries(row)) if (value instanceof Date) row[column] = value.toISOString();
    found.set(rowKey(chargingPeriodsSpec, row), row);
  }
  return found;
}

async function deletePeriods(tx: SqlExecutor, schema: string, keys: ReadonlySet<string>): Promise<void> {
  if (keys.size === 0) return;
  const parsed = [...keys].map((key) => JSON.parse(key) as [string, string, number]);
  await tx.query(
    `DELETE FROM ${quoteIdentifier(schema)}.charging_periods WHERE (tenant_id, session_id, period_index) IN (SELECT * FROM unnest($1::text[], $2::text[], $3::integer[]))`,
    [parsed.map((key) => key[0]), parsed.map((key) => key[1]), parsed.map((key) => key[2])],
  );
}

export const ocpiSessionsProjection: Projection = {
  name: 'ocpi_sessions',
  // 2: periods partition the session, energy spread by the charging rule (ocpi-sessions-periods.ts);
  // authorization_reference and remote starts recorded on TransactionAuthorized (auth_method COMMAND).
  // 3: energy and periods by the one rule for which readings count (domain/transaction/meter-energy.ts).
  version: 3,
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
    await deletePeriods(tx, schema, rows.removedPeriods);
    await upsertRows(tx, schema, chargingPeriodsSpec, changedPeriods);
    await upsertRows(tx, schema, tokensSpec, [...touched.tokens].map((id) => rows.tokens.get(id)!));
  },
};
