import type { Decimal } from 'decimal.js';
import { z } from 'zod';
import type { IssuedCdr } from '../cdr/events.js';
import { Money, nonNegativeDecimal, toDecimalString } from '../cdr/money.js';
import type { OcpiCdr } from '../cdr/ocpi.js';
import { assertNever } from '../shared/assert.js';
import { InvalidCommandError } from '../shared/errors.js';
import { cdrSummarySchema, cdrsPerPeriodMax, comparedFields, type CdrSummary, type ComparedField } from './events.js';
import { toleranceForStatement, type WidenedTolerance } from './precision.js';

/**
 * Reconciliation of our CDRs against a partner's for one settlement period: which CDRs both sides
 * have (by CDR id, or failing that by session id and start time), which only one side has, and
 * for each pair which figures differ beyond a tolerance: total_cost excl VAT, total_cost incl VAT,
 * total_energy and total_time. A figure one side does not state (null) is not compared, and the
 * pair is listed as such rather than called a match or a mismatch on it.
 *
 * Credits net first, on each side: a credit CDR whose original is on the same side is folded into
 * it, so "CDR + its credit" is one record of amount and energy zero. A record that nets to zero and
 * that the other side lacks is not missing (neither side bills anything); the other side having
 * the original un-credited is an amount mismatch. A credit CDR whose original is in another period
 * stays a record of its own.
 *
 * A CDR id given twice on a side (a double charge, a repeated line) is reconciled by its first row
 * and reported: the reconciliation is not clean while a side has one.
 */

export interface ReconciliationTolerance {
  /** Largest |ours − theirs| still a match, in the period's currency (inclusive), excl and incl VAT alike. */
  readonly amount: string;
  /** Largest |ours − theirs| still a match, in kWh (inclusive). */
  readonly energyKwh: string;
  /** Largest |ours − theirs| of total_time still a match, in seconds (inclusive); CDRs state hours. */
  readonly timeSeconds: string;
}

/**
 * Defaults, for two statements of CDRs that started as the same OCPI CDR:
 * - money 0: CDR totals are rounded to the currency's minor unit, so any difference is money owed;
 * - energy 0.001 kWh (1 Wh): our totals carry 4 decimals; a partner keeping whole Wh rounds by up
 *   to 0.0005 kWh, which must not read as a dispute, while 1 Wh more is a different meter reading;
 * - time 1 s: our hours carry 4 decimals (0.36 s steps); 1 s absorbs that and a partner keeping
 *   whole seconds, and still catches a session that ended at another second.
 */
export const defaultReconciliationTolerance: ReconciliationTolerance = { amount: '0', energyKwh: '0.001', timeSeconds: '1' };

/** One side's CDR after netting: the original's id, and every CDR id folded into it. */
export interface NettedCdr {
  readonly cdrId: string;
  readonly cdrIds: readonly string[];
  readonly sessionId: string | null;
  readonly startDateTime: string;
  readonly amount: Decimal;
  /** null: not stated by every CDR folded in. */
  readonly amountInclVat: Decimal | null;
  readonly energyKwh: Decimal;
  /** Hours; null: not stated by every CDR folded in. */
  readonly timeHours: Decimal | null;
}

export interface Mismatch {
  readonly ourCdrId: string;
  readonly theirCdrId: string;
  readonly ours: string;
  readonly theirs: string;
  /** ours − theirs. */
  readonly difference: string;
}

/** A field of a pair that was not compared: one side (or both) did not state it. */
export interface NotCompared {
  readonly ourCdrId: string;
  readonly theirCdrId: string;
  readonly lacking: 'ours' | 'theirs' | 'both';
}

export interface MatchedCdr {
  readonly ours: NettedCdr;
  readonly theirs: NettedCdr;
  readonly matchedBy: 'id' | 'session';
  /** The fields whose figures differ beyond the tolerance, in `comparedFields` order. */
  readonly differences: readonly (Mismatch & { readonly field: ComparedField })[];
  readonly notCompared: readonly (NotCompared & { readonly field: ComparedField })[];
}

/** A field a duplicate row states otherwise than the first row of its id. */
export type DuplicateDifference = ComparedField | 'sessionId' | 'startDateTime' | 'creditReferenceId';

/** A row whose CDR id an earlier row of the same side already has. */
export interface DuplicateRow {
  readonly cdrId: string;
  /** 0-based position of the row in its side's list. */
  readonly index: number;
  readonly row: CdrSummary;
  /** The first row of the id: the one reconciled. */
  readonly first: CdrSummary;
  /** Empty: the same CDR given again; otherwise a second charge with other figures. */
  readonly differsIn: readonly DuplicateDifference[];
}

export interface Reconciliation {
  /** The tolerance compared with: the configured one, widened to the statement's precision (precision.ts). */
  readonly tolerance: ReconciliationTolerance;
  readonly widened: WidenedTolerance;
  /** Every pair found, whether its figures agree or not (the mismatches are among these). */
  readonly matched: MatchedCdr[];
  readonly missingOnOurSide: NettedCdr[];
  readonly missingOnTheirSide: NettedCdr[];
  /** total_cost excl VAT. */
  readonly amountMismatches: Mismatch[];
  readonly amountInclVatMismatches: Mismatch[];
  readonly energyMismatches: Mismatch[];
  /** In hours. */
  readonly timeMismatches: Mismatch[];
  readonly amountInclVatNotCompared: NotCompared[];
  readonly timeNotCompared: NotCompared[];
  /** CDR ids given more than once on a side; only the first counts. */
  readonly duplicatesOnOurSide: string[];
  readonly duplicatesOnTheirSide: string[];
  /** Each row after the first of such an id, in list order. */
  readonly duplicateRowsOnOurSide: DuplicateRow[];
  readonly duplicateRowsOnTheirSide: DuplicateRow[];
  /** Records netted to zero (CDR + credit) that the other side does not have: nothing to settle. */
  readonly nettedToZero: NettedCdr[];
}

/** The summary settlement uses of an issued CDR. */
export function cdrSummaryOf(issued: IssuedCdr): CdrSummary {
  return summaryOfOcpiCdr(issued.cdr);
}

/** The summary of an OCPI CDR as stored (decimal strings). */
export function summaryOfOcpiCdr(cdr: OcpiCdr): CdrSummary {
  return {
    cdrId: cdr.id,
    sessionId: cdr.session_id ?? null,
    startDateTime: cdr.start_date_time,
    amount: cdr.total_cost.excl_vat,
    amountInclVat: cdr.total_cost.incl_vat ?? null,
    energyKwh: cdr.total_energy,
    timeHours: cdr.total_time,
    creditReferenceId: cdr.credit_reference_id ?? null,
  };
}

const toleranceSchema = z.object({ amount: nonNegativeDecimal, energyKwh: nonNegativeDecimal, timeSeconds: nonNegativeDecimal });
const secondsPerHour = 3600;

function refuse(message: string): never {
  throw new InvalidCommandError(message, 'ReconcileSettlement');
}

const sameDecimal = (a: string | null, b: string | null) => (a === null || b === null ? a === b : new Money(a).eq(b));

/** The fields a duplicate row states otherwise than the first (numbers by value, times by instant). */
function duplicateDifferences(first: CdrSummary, row: CdrSummary): DuplicateDifference[] {
  const differences: DuplicateDifference[] = comparedFields.filter((field) => !sameDecimal(first[field], row[field]));
  if (first.sessionId !== row.sessionId) differences.push('sessionId');
  if (Date.parse(first.startDateTime) !== Date.parse(row.startDateTime)) differences.push('startDateTime');
  if (first.creditReferenceId !== row.creditReferenceId) differences.push('creditReferenceId');
  return differences;
}

/** Dedupes by id (first wins) and folds credits into their originals on the same side. */
function netted(side: string, summaries: readonly CdrSummary[]): { records: NettedCdr[]; duplicates: string[]; duplicateRows: DuplicateRow[] } {
  if (summaries.length > cdrsPerPeriodMax) refuse(`${side}: ${summaries.length} CDRs, more than ${cdrsPerPeriodMax}`);
  const byId = new Map<string, CdrSummary>();
  const duplicates = new Set<string>();
  const duplicateRows: DuplicateRow[] = [];
  for (const [index, summary] of summaries.entries()) {
    const parsed = cdrSummarySchema.safeParse(summary);
    if (!parsed.success) refuse(`${side}[${index}]: ${parsed.error.message}`);
    const first = byId.get(summary.cdrId);
    if (first === undefined) {
      byId.set(summary.cdrId, summary);
      continue;
    }
    duplicates.add(summary.cdrId);
    duplicateRows.push({ cdrId: summary.cdrId, index, row: summary, first, differsIn: duplicateDifferences(first, summary) });
  }
  const records = new Map<string, { summary: CdrSummary; cdrIds: string[]; amount: Decimal; amountInclVat: Decimal | null; energyKwh: Decimal; timeHours: Decimal | null }>();
  for (const summary of byId.values()) {
    const original = summary.creditReferenceId;
    if (original !== null && byId.has(original) && byId.get(original)!.creditReferenceId === null) continue;
    records.set(summary.cdrId, {
      summary,
      cdrIds: [summary.cdrId],
      amount: new Money(summary.amount),
      amountInclVat: optionalMoney(summary.amountInclVat),
      energyKwh: new Money(summary.energyKwh),
      timeHours: optionalMoney(summary.timeHours),
    });
  }
  for (const summary of byId.values()) {
    const record = summary.creditReferenceId === null ? undefined : records.get(summary.creditReferenceId);
    if (record === undefined || records.has(summary.cdrId)) continue;
    record.cdrIds.push(summary.cdrId);
    record.amount = record.amount.plus(summary.amount);
    record.amountInclVat = plusIfStated(record.amountInclVat, summary.amountInclVat);
    record.energyKwh = record.energyKwh.plus(summary.energyKwh);
    record.timeHours = plusIfStated(record.timeHours, summary.timeHours);
  }
  return {
    records: [...records.values()].map(({ summary, ...figures }) => ({ ...figures, cdrId: summary.cdrId, sessionId: summary.sessionId, startDateTime: summary.startDateTime })),
    duplicates: [...duplicates],
    duplicateRows,
  };
}

const optionalMoney = (value: string | null) => (value === null ? null : new Money(value));
/** A netted figure is known only if every CDR folded in states it. */
const plusIfStated = (total: Decimal | null, value: string | null) => (total === null || value === null ? null : total.plus(value));

const sessionKey = (record: NettedCdr) => (record.sessionId === null ? null : `${record.sessionId}|${Date.parse(record.startDateTime)}`);
const nettedOut = (record: NettedCdr) => record.cdrIds.length > 1 && record.amount.isZero() && record.energyKwh.isZero();

/** Whether |difference| is within the tolerance of `field` (time: hours against seconds, exactly). */
function withinTolerance(field: ComparedField, difference: Decimal, tolerance: ReconciliationTolerance): boolean {
  switch (field) {
    case 'amount':
    case 'amountInclVat':
      return difference.abs().lte(tolerance.amount);
    case 'energyKwh':
      return difference.abs().lte(tolerance.energyKwh);
    case 'timeHours':
      return difference.abs().times(secondsPerHour).lte(tolerance.timeSeconds);
    default:
      return assertNever(field, 'compared field');
  }
}

function compare(ours: NettedCdr, theirs: NettedCdr, tolerance: ReconciliationTolerance): Pick<MatchedCdr, 'differences' | 'notCompared'> {
  const differences: (Mismatch & { field: ComparedField })[] = [];
  const notCompared: (NotCompared & { field: ComparedField })[] = [];
  const ids = { ourCdrId: ours.cdrId, theirCdrId: theirs.cdrId };
  for (const field of comparedFields) {
    const [our, their] = [ours[field], theirs[field]];
    if (our === null || their === null) {
      notCompared.push({ field, ...ids, lacking: our === null && their === null ? 'both' : our === null ? 'ours' : 'theirs' });
      continue;
    }
    const difference = our.minus(their);
    if (withinTolerance(field, difference, tolerance)) continue;
    differences.push({ field, ...ids, ours: toDecimalString(our), theirs: toDecimalString(their), difference: toDecimalString(difference) });
  }
  return { differences, notCompared };
}

/**
 * `configured`: the tolerance asked for; energy and time are widened to the precision `theirs`
 * states them to where that is coarser (precision.ts), and the result gives the tolerance used.
 */
export function reconcile(ours: readonly CdrSummary[], theirs: readonly CdrSummary[], configured: ReconciliationTolerance): Reconciliation {
  const parsedTolerance = toleranceSchema.safeParse(configured);
  if (!parsedTolerance.success) refuse(`tolerance must be non-negative decimals: ${parsedTolerance.error.message}`);
  const our = netted('ours', ours);
  const their = netted('theirs', theirs);
  const { tolerance, widened } = toleranceForStatement(theirs, configured);

  const pairs: Omit<MatchedCdr, 'differences' | 'notCompared'>[] = [];
  const theirsLeft = new Map(their.records.map((record) => [record.cdrId, record]));
  let oursLeft: NettedCdr[] = [];
  for (const record of our.records) {
    const counterpart = theirsLeft.get(record.cdrId);
    if (counterpart === undefined) oursLeft.push(record);
    else {
      theirsLeft.delete(record.cdrId);
      pairs.push({ ours: record, theirs: counterpart, matchedBy: 'id' });
    }
  }
  // Fallback: the partner may know the CDR under another id (re-keyed, or their own numbering).
  const theirsBySession = new Map<string, NettedCdr[]>();
  for (const record of theirsLeft.values()) {
    const key = sessionKey(record);
    if (key !== null) theirsBySession.set(key, [...(theirsBySession.get(key) ?? []), record]);
  }
  oursLeft = oursLeft.filter((record) => {
    const key = sessionKey(record);
    const counterpart = key === null ? undefined : theirsBySession.get(key)?.shift();
    if (counterpart === undefined) return true;
    theirsLeft.delete(counterpart.cdrId);
    pairs.push({ ours: record, theirs: counterpart, matchedBy: 'session' });
    return false;
  });

  const matched = pairs.map((pair): MatchedCdr => ({ ...pair, ...compare(pair.ours, pair.theirs, tolerance) }));
  const differing = (field: ComparedField): Mismatch[] =>
    matched.flatMap((pair) => pair.differences.filter((difference) => difference.field === field)).map(({ field: _field, ...mismatch }) => mismatch);
  const uncompared = (field: ComparedField): NotCompared[] =>
    matched.flatMap((pair) => pair.notCompared.filter((item) => item.field === field)).map(({ field: _field, ...item }) => item);
  const unmatchedTheirs = [...theirsLeft.values()];
  return {
    tolerance,
    widened,
    matched,
    missingOnOurSide: unmatchedTheirs.filter((record) => !nettedOut(record)),
    missingOnTheirSide: oursLeft.filter((record) => !nettedOut(record)),
    amountMismatches: differing('amount'),
    amountInclVatMismatches: differing('amountInclVat'),
    energyMismatches: differing('energyKwh'),
    timeMismatches: differing('timeHours'),
    amountInclVatNotCompared: uncompared('amountInclVat'),
    timeNotCompared: uncompared('timeHours'),
    duplicatesOnOurSide: our.duplicates,
    duplicatesOnTheirSide: their.duplicates,
    duplicateRowsOnOurSide: our.duplicateRows,
    duplicateRowsOnTheirSide: their.duplicateRows,
    nettedToZero: [...oursLeft, ...unmatchedTheirs].filter(nettedOut),
  };
}

/** Whether a reconciliation found nothing to settle by hand: no CDR missing or given twice, no figure differing. */
export function reconciliationIsClean(result: Reconciliation): boolean {
  const missing = result.missingOnOurSide.length + result.missingOnTheirSide.length;
  const duplicates = result.duplicatesOnOurSide.length + result.duplicatesOnTheirSide.length;
  return missing === 0 && duplicates === 0 && result.matched.every((pair) => pair.differences.length === 0);
}
