import { readFile } from 'node:fs/promises';
import { Decimal } from 'decimal.js';
import type { Command } from '../../commands/index.js';
import type { CommandResult } from '../../commands/envelope.js';
import { isCurrencyCode } from '../../domain/cdr/money.js';
import type { OcpiCdr } from '../../domain/cdr/ocpi.js';
import {
  carriedCdrIds, cdrSummarySchema, cdrsPerPeriodMax, closedMonthsBefore, currentCdrs, isClosedPeriod, lateCdrMonthsMax, monthBefore, reconcile, reconciliationIsClean,
  settlementDecider, settlementPeriodId, settlementPeriodIdBeforeCurrencies, summaryOfOcpiCdr, type CdrSummary, type ReconciliationTolerance, type SettlementState,
} from '../../domain/settlement/index.js';
import { streamName } from '../../domain/shared/event.js';
import type { Services } from '../composition.js';
import { reconciliationReport } from './settlement-report.js';
import { theirStatement, type StatementRow } from './settlement-statement.js';
import { CliError, ExitCode, type CliContext } from './run.js';

/**
 * `csms settlement reconcile`: for one partner and month, one settlement period per currency
 * (our CDRs and their statement rows of a currency go to that currency's period only). Every
 * check runs first (statement rows, currencies, tolerances, what each period will include);
 * only then is anything recorded, period by period: open, include our CDRs (and those that
 * arrived after their own month's period closed, carry.ts), close, reconcile.
 */

export interface SettlementReconcileOptions {
  readonly partner: string;
  readonly period: string;
  readonly their: string;
  readonly tolerance: string;
  readonly toleranceEnergy: string;
  readonly toleranceTime: string;
  /** Currency of statement rows that state none. */
  readonly currency?: string;
  readonly json?: boolean;
}

export interface SettlementReconcileDeps {
  readonly send: (aggregateId: string, commandId: string, command: Command) => Promise<CommandResult>;
  /** The live schema of a read model, caught up to the head of $all. */
  readonly caughtUpSchema: (name: 'cdrs') => Promise<string>;
  readonly theirFileBytesMax: number;
  readonly rowsMax: number;
}

/** A tolerance option, checked before anything is recorded (a bad one must not close the period first). */
export function toleranceText(value: string, option: string): string {
  let tolerance: Decimal;
  try {
    tolerance = new Decimal(value);
  } catch {
    throw new CliError(`${option}: not a number: ${value}`, ExitCode.usage);
  }
  if (!tolerance.isFinite() || tolerance.isNegative()) throw new CliError(`${option} must be zero or more: ${value}`, ExitCode.usage);
  return tolerance.toFixed();
}

/** Findings printed beside the reports, each line at most this many times (then a count). */
const flagLinesMax = 20;

export interface StatementByCurrency {
  /** The currencies to reconcile, sorted: ours and those their statement bills in. */
  readonly currencies: string[];
  readonly theirs: ReadonlyMap<string, CdrSummary[]>;
  /** Currency problems, each a line to print; any makes the run exit 1. */
  readonly flags: string[];
}

/**
 * Their rows by currency. A row that states none is in `explicit` (--currency), else in our CDRs'
 * only currency, else EUR when we have none; with our CDRs in several currencies that is ambiguous
 * and refused. A currency only their statement bills, and a CDR they bill in another currency than
 * we issued it in, are flagged.
 */
export function statementByCurrency(ourCurrencyById: ReadonlyMap<string, string>, theirs: readonly StatementRow[], explicit: string | undefined, label: string): StatementByCurrency {
  const ours = [...new Set(ourCurrencyById.values())].sort();
  const unstated = theirs.find((row) => row.currency === null);
  const fallback = explicit ?? (ours.length === 1 ? ours[0]! : ours.length === 0 ? 'EUR' : null);
  if (unstated !== undefined && fallback === null) {
    throw new CliError(
      `their statement states no currency (${unstated.where}) and our CDRs of ${label} are in ${ours.join(' and ')}: ` +
        'add a currency column (as `csms cdr export --format csv` writes it) or name their currency with --currency',
      ExitCode.usage,
    );
  }
  const byCurrency = new Map<string, CdrSummary[]>(ours.map((currency) => [currency, []]));
  const otherCurrency: string[] = [];
  for (const row of theirs) {
    const currency = row.currency ?? fallback!;
    byCurrency.set(currency, [...(byCurrency.get(currency) ?? []), row.summary]);
    const ourCurrency = ourCurrencyById.get(row.summary.cdrId);
    if (ourCurrency !== undefined && ourCurrency !== currency) otherCurrency.push(`currency: their ${row.where} bills ${row.summary.cdrId} in ${currency}; we issued it in ${ourCurrency}`);
  }
  if (byCurrency.size === 0) byCurrency.set(fallback!, []);
  const flags = [...byCurrency.entries()]
    .filter(([currency, rows]) => !ours.includes(currency) && rows.length > 0)
    .map(([currency, rows]) => `currency ${currency}: their statement bills ${rows.length} CDR(s) in ${currency}; we have none of ${label} in ${currency}`);
  flags.push(...otherCurrency.slice(0, flagLinesMax));
  if (otherCurrency.length > flagLinesMax) flags.push(`currency: ${otherCurrency.length - flagLinesMax} more CDRs billed in another currency than we issued them in`);
  return { currencies: [...byCurrency.keys()].sort(), theirs: byCurrency, flags };
}

interface OurCdrRow {
  readonly cdr_id: string;
  readonly cdr_json: string;
  readonly currency: string;
}

interface PeriodKey {
  readonly partner: string;
  readonly period: string;
  readonly currency: string;
}

interface PreparedPeriod {
  readonly key: PeriodKey;
  readonly aggregateId: string;
  readonly state: SettlementState;
  /** Our CDRs to include (none once the period is closed): the month's, then those carried. */
  readonly include: readonly CdrSummary[];
}

const monthStart = (period: string) => new Date(`${period}-01T00:00:00Z`).toISOString();
const nextMonthStart = (period: string) => {
  const [year, month] = period.split('-').map(Number) as [number, number];
  return new Date(Date.UTC(year, month, 1)).toISOString();
};

/** The period's stream: the one opened before periods were per currency if it is in this currency. */
async function periodAggregateId(services: Services, key: PeriodKey): Promise<string> {
  const before = settlementPeriodIdBeforeCurrencies(key.partner, key.period);
  const [first] = await services.eventStore.readStream(streamName('settlement', services.config.tenantId, before), { fromRevision: 0, maxCount: 1 });
  const openedIn = first?.type === 'SettlementPeriodOpened' ? (first.data as { currency?: unknown }).currency : undefined;
  return openedIn === key.currency ? before : settlementPeriodId(key.partner, key.period, key.currency);
}

async function periodState(services: Services, aggregateId: string): Promise<SettlementState> {
  const { loadState } = await import('../../commands/process/streams.js');
  return loadState(services.eventStore, settlementDecider, streamName('settlement', services.config.tenantId, aggregateId));
}

async function ourCdrRows(services: Services, cdrs: string, rowsMax: number, where: string, parameters: unknown[], what: string): Promise<OurCdrRow[]> {
  const { rows } = await services.db.query<OurCdrRow>(
    `SELECT cdr_id, cdr_json, currency FROM ${cdrs} WHERE tenant_id = $1 AND emsp = $2 AND ${where} ORDER BY start_date_time, cdr_id LIMIT ${rowsMax + 1}`,
    [services.config.tenantId, ...parameters],
  );
  if (rows.length > rowsMax) throw new CliError(`${what}: more than ${rowsMax} CDRs, more than one run settles`, ExitCode.failed);
  return rows;
}

/** Our CDRs of this partner and currency that the period carries (carry.ts): started in an earlier month whose period closed without them. */
async function carriedRows(services: Services, deps: SettlementReconcileDeps, cdrs: string, key: PeriodKey): Promise<OurCdrRow[]> {
  const closed = new Map<string, SettlementState>();
  for (let back = 1; back <= lateCdrMonthsMax; back += 1) {
    const month = monthBefore(key.period, back);
    const state = await periodState(services, await periodAggregateId(services, { ...key, period: month }));
    closed.set(month, state);
    if (!isClosedPeriod(state)) break;
  }
  const months = closedMonthsBefore(key.period, (month) => closed.get(month));
  if (months.length === 0) return [];
  const included = months.flatMap((month) => currentCdrs(closed.get(month)!).map((cdr) => cdr.summary.cdrId));
  const candidates = await ourCdrRows(
    services, cdrs, deps.rowsMax,
    'currency = $3 AND start_date_time >= $4 AND start_date_time < $5 AND NOT (cdr_id = ANY($6::text[]))',
    [key.partner, key.currency, monthStart(months.at(-1)!), monthStart(key.period), included],
    `${key.partner} ${key.currency} CDRs that arrived after their period closed`,
  );
  const summaries = new Map(candidates.map((row) => [row.cdr_id, { row, summary: summaryOfOcpiCdr(JSON.parse(row.cdr_json) as OcpiCdr) }]));
  const carried = new Set(carriedCdrIds(months, closed, [...summaries.values()].map(({ summary }) => summary)));
  return candidates.filter((row) => carried.has(row.cdr_id));
}

/** What recording the period will do, checked before anything is recorded. */
async function preparePeriod(services: Services, deps: SettlementReconcileDeps, cdrs: string, key: PeriodKey, monthRows: readonly OurCdrRow[]): Promise<PreparedPeriod> {
  const aggregateId = await periodAggregateId(services, key);
  const state = await periodState(services, aggregateId);
  if (isClosedPeriod(state)) return { key, aggregateId, state, include: [] };
  const rows = [...monthRows, ...(await carriedRows(services, deps, cdrs, key))];
  const include = rows.map((row) => {
    const summary = summaryOfOcpiCdr(JSON.parse(row.cdr_json) as OcpiCdr);
    const parsed = cdrSummarySchema.safeParse(summary);
    if (!parsed.success) throw new CliError(`our CDR ${row.cdr_id} cannot be settled: ${parsed.error.message}`, ExitCode.failed);
    return summary;
  });
  const count = (state.status === 'none' ? 0 : state.cdrCount) + include.length;
  if (count > cdrsPerPeriodMax) throw new CliError(`${key.partner} ${key.period} ${key.currency}: ${count} CDRs, more than a period holds (${cdrsPerPeriodMax})`, ExitCode.failed);
  return { key, aggregateId, state, include };
}

async function recordPeriod(deps: SettlementReconcileDeps, prepared: PreparedPeriod, theirs: readonly CdrSummary[], tolerance: ReconciliationTolerance, now: string) {
  const { key, aggregateId: id, state } = prepared;
  if (state.status === 'none') {
    await deps.send(id, `settlement-open:${id}`, { type: 'OpenSettlementPeriod', partner: key.partner, period: key.period, currency: key.currency, openedAt: now });
  }
  if (!isClosedPeriod(state)) {
    for (const cdr of prepared.include) await deps.send(id, `settlement-include:${id}:${cdr.cdrId}`, { type: 'IncludeCdr', cdr, currency: key.currency, includedAt: now });
    await deps.send(id, `settlement-close:${id}`, { type: 'CloseSettlementPeriod', closedAt: now });
  }
  const result = await deps.send(id, `settlement-reconcile:${id}:${now}`, { type: 'ReconcileSettlement', theirs, tolerance, reconciledAt: now });
  return result.events.find((event) => event.type === 'SettlementReconciled')?.data ?? null;
}

async function statementOf(file: string, bytesMax: number): Promise<StatementRow[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new CliError(`cannot read ${file}: ${(error as Error).message}`, ExitCode.usage);
  }
  if (text.length > bytesMax) throw new CliError(`${file} is larger than ${bytesMax} bytes`, ExitCode.usage);
  return theirStatement(text);
}

export async function settlementReconcile(services: Services, context: CliContext, options: SettlementReconcileOptions, deps: SettlementReconcileDeps): Promise<void> {
  const { partner, period } = options;
  if (!/^\d{4}-(0[1-9]|1[0-2])$/.test(period)) throw new CliError('--period must be YYYY-MM', ExitCode.usage);
  if (options.currency !== undefined && !isCurrencyCode(options.currency)) throw new CliError(`--currency ${options.currency} is not an ISO 4217 currency code`, ExitCode.usage);
  const tolerance = {
    amount: toleranceText(options.tolerance, '--tolerance'),
    energyKwh: toleranceText(options.toleranceEnergy, '--tolerance-energy'),
    timeSeconds: toleranceText(options.toleranceTime, '--tolerance-time'),
  };
  const statement = await statementOf(options.their, deps.theirFileBytesMax);
  const cdrs = `${await deps.caughtUpSchema('cdrs')}.cdrs`;
  const label = `${partner} ${period}`;
  const monthRows = await ourCdrRows(services, cdrs, deps.rowsMax, 'start_date_time >= $3 AND start_date_time < $4', [partner, monthStart(period), nextMonthStart(period)], label);
  const plan = statementByCurrency(new Map(monthRows.map((row) => [row.cdr_id, row.currency])), statement, options.currency, label);
  // A currency whose CDRs only arrived late (none started this month, none billed) is settled too.
  const { rows: lateCurrencies } = await services.db.query<{ currency: string }>(
    `SELECT DISTINCT currency FROM ${cdrs} WHERE tenant_id = $1 AND emsp = $2 AND start_date_time >= $3 AND start_date_time < $4`,
    [services.config.tenantId, partner, monthStart(monthBefore(period, lateCdrMonthsMax)), monthStart(period)],
  );
  const prepared: PreparedPeriod[] = [];
  for (const currency of [...new Set([...plan.currencies, ...lateCurrencies.map((row) => row.currency)])].sort()) {
    const ready = await preparePeriod(services, deps, cdrs, { partner, period, currency }, monthRows.filter((row) => row.currency === currency));
    const nothingToSettle = !plan.currencies.includes(currency) && ready.include.length === 0;
    if (!nothingToSettle) prepared.push(ready);
  }

  const now = services.clock.now().toISOString();
  let clean = plan.flags.length === 0;
  const printed: { currency: string; lines: string[]; recorded: unknown }[] = [];
  for (const ready of prepared) {
    const theirs = plan.theirs.get(ready.key.currency) ?? [];
    const recorded = await recordPeriod(deps, ready, theirs, tolerance, now);
    const ours = currentCdrs(await periodState(services, ready.aggregateId)).map((cdr) => cdr.summary);
    const result = reconcile(ours, theirs, tolerance);
    clean &&= reconciliationIsClean(result);
    printed.push({ currency: ready.key.currency, lines: reconciliationReport(result, tolerance, { ...ready.key, ours }), recorded });
  }
  if (!clean) context.exitCode = ExitCode.checkFailed;
  if (options.json) {
    const records = printed.map(({ currency, recorded }) => ({ currency, ...(recorded as object) }));
    context.out(JSON.stringify(records.length === 1 ? records[0] : records, null, 2));
    for (const flag of plan.flags) context.err(flag);
    return;
  }
  printed.forEach(({ lines }, i) => {
    if (i > 0) context.out('');
    for (const line of lines) context.out(line);
  });
  for (const flag of plan.flags) context.out(flag);
}
