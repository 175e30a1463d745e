import type { Decimal } from 'decimal.js';
import { z } from 'zod';
import type { IssuedCdr } from '../cdr/events.js';
import { Money, nonNegativeDecimal, toDecimalString } from '../cdr/money.js';
import { InvalidCommandError } from '../shared/errors.js';
import { cdrSummarySchema, cdrsPerPeriodMax, type CdrSummary } from './events.js';

/**
 * Reconciliation of our CDRs against a partner's for one settlement period: which CDRs both sides
 * have (by CDR id, or failing that by session id and start time), which only one side has, and
 * where the amounts or energy differ beyond a tolerance.
 *
 * Credits net first, on each side: a credit CDR whose original is on the same side is folded into
 * it, so "CDR + its credit" is one record of amount and energy zero. A record that nets to zero and
 * that the other side lacks is not missing (neither side bills anything); the other side having
 * the original un-credited is an amount mismatch. A credit CDR whose original is in another period
 * stays a record of its own.
 */

export interface ReconciliationTolerance {
  /** Largest |ours − theirs| still a match, in the period's currency (inclusive). */
  readonly amount: string;
  /** Largest |ours − theirs| still a match, in kWh (inclusive). */
  readonly energyKwh: string;
}

/** One side's CDR after netting: the original's id, and every CDR id folded into it. */
export interface NettedCdr {
  readonly cdrId: string;
  readonly cdrIds: readonly string[];
  readonly sessionId: string | null;
  readonly startDateTime: string;
  readonly amount: Decimal;
  readonly energyKwh: Decimal;
}

export interface MatchedCdr {
  readonly ours: NettedCdr;
  readonly theirs: NettedCdr;
  readonly matchedBy: 'id' | 'session';
}

export interface Mismatch {
  readonly ourCdrId: string;
  readonly theirCdrId: string;
  readonly ours: string;
  readonly theirs: string;
  /** ours − theirs. */
  readonly difference: string;
}

export interface Reconciliation {
  /** Every pair found, whether its figures agree or not (the mismatches are among these). */
  readonly matched: MatchedCdr[];
  readonly missingOnOurSide: NettedCdr[];
  readonly missingOnTheirSide: NettedCdr[];
  readonly amountMismatches: Mismatch[];
  readonly energyMismatches: Mismatch[];
  /** CDR ids given more than once on a side; only the first counts. */
  readonly duplicatesOnOurSide: string[];
  readonly duplicatesOnTheirSide: string[];
  /** Records netted to zero (CDR + credit) that the other side does not have: nothing to settle. */
  readonly nettedToZero: NettedCdr[];
}

/** The summary settlement uses of an issued CDR. */
export function cdrSummaryOf(issued: IssuedCdr): CdrSummary {
  const { cdr } = issued;
  return {
    cdrId: cdr.id,
    sessionId: cdr.session_id ?? null,
    startDateTime: cdr.start_date_time,
    amount: cdr.total_cost.excl_vat,
    energyKwh: cdr.total_energy,
    creditReferenceId: cdr.credit_reference_id ?? null,
  };
}

const toleranceSchema = z.object({ amount: nonNegativeDecimal, energyKwh: nonNegativeDecimal });

function refuse(message: string): never {
  throw new InvalidCommandError(message, 'ReconcileSettlement');
}

/** Dedupes by id (first wins) and folds credits into their originals on the same side. */
function netted(side: string, summaries: readonly CdrSummary[]): { records: NettedCdr[]; duplicates: string[] } {
  if (summaries.length > cdrsPerPeriodMax) refuse(`${side}: ${summaries.length} CDRs, more than ${cdrsPerPeriodMax}`);
  const byId = new Map<string, CdrSummary>();
  const duplicates = new Set<string>();
  for (const [index, summary] of summaries.entries()) {
    const parsed = cdrSummarySchema.safeParse(summary);
    if (!parsed.success) refuse(`${side}[${index}]: ${parsed.error.message}`);
    if (byId.has(summary.cdrId)) duplicates.add(summary.cdrId);
    else byId.set(summary.cdrId, summary);
  }
  const records = new Map<string, { summary: CdrSummary; cdrIds: string[]; amount: Decimal; energyKwh: Decimal }>();
  for (const summary of byId.values()) {
    const original = summary.creditReferenceId;
    if (original !== null && byId.has(original) && byId.get(original)!.creditReferenceId === null) continue;
    records.set(summary.cdrId, { summary, cdrIds: [summary.cdrId], amount: new Money(summary.amount), energyKwh: new Money(summary.energyKwh) });
  }
  for (const summary of byId.values()) {
    const record = summary.creditReferenceId === null ? undefined : records.get(summary.creditReferenceId);
    if (record === undefined || records.has(summary.cdrId)) continue;
    record.cdrIds.push(summary.cdrId);
    record.amount = record.amount.plus(summary.amount);
    record.energyKwh = record.energyKwh.plus(summary.energyKwh);
  }
  return {
    records: [...records.values()].map(({ summary, cdrIds, amount, energyKwh }) => ({
      cdrId: summary.cdrId,
      cdrIds,
      sessionId: summary.sessionId,
      startDateTime: summary.startDateTime,
      amount,
      energyKwh,
    })),
    duplicates: [...duplicates],
  };
}

const sessionKey = (record: NettedCdr) => (record.sessionId === null ? null : `${record.sessionId}|${Date.parse(record.startDateTime)}`);
const nettedOut = (record: NettedCdr) => record.cdrIds.length > 1 && record.amount.isZero() && record.energyKwh.isZero();

function mismatch(ours: NettedCdr, theirs: NettedCdr, field: 'amount' | 'energyKwh', tolerance: Decimal): Mismatch | null {
  const difference = ours[field].minus(theirs[field]);
  if (difference.abs().lte(tolerance)) return null;
  return {
    ourCdrId: ours.cdrId,
    theirCdrId: theirs.cdrId,
    ours: toDecimalString(ours[field]),
    theirs: toDecimalString(theirs[field]),
    difference: toDecimalString(difference),
  };
}

export function reconcile(ours: readonly CdrSummary[], theirs: readonly CdrSummary[], tolerance: ReconciliationTolerance): Reconciliation {
  const parsedTolerance = toleranceSchema.safeParse(tolerance);
  if (!parsedTolerance.success) refuse(`tolerance must be non-negative decimals: ${parsedTolerance.error.message}`);
  const amountTolerance = new Money(tolerance.amount);
  const energyTolerance = new Money(tolerance.energyKwh);
  const our = netted('ours', ours);
  const their = netted('theirs', theirs);

  const matched: MatchedCdr[] = [];
  const theirsLeft = new Map(their.records.map((record) => [record.cdrId, record]));
  let oursLeft: NettedCdr[] = [];
  for (const record of our.records) {
    const counterpart = theirsLeft.get(record.cdrId);
    if (counterpart === undefined) oursLeft.push(record);
    else {
      theirsLeft.delete(record.cdrId);
      matched.push({ ours: record, theirs: counterpart, matchedBy: 'id' });
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
    matched.push({ ours: record, theirs: counterpart, matchedBy: 'session' });
    return false;
  });

  const amountMismatches: Mismatch[] = [];
  const energyMismatches: Mismatch[] = [];
  for (const pair of matched) {
    const amount = mismatch(pair.ours, pair.theirs, 'amount', amountTolerance);
    if (amount) amountMismatches.push(amount);
    const energy = mismatch(pair.ours, pair.theirs, 'energyKwh', energyTolerance);
    if (energy) energyMismatches.push(energy);
  }
  const unmatchedTheirs = [...theirsLeft.values()];
  return {
    matched,
    missingOnOurSide: unmatchedTheirs.filter((record) => !nettedOut(record)),
    missingOnTheirSide: oursLeft.filter((record) => !nettedOut(record)),
    amountMismatches,
    energyMismatches,
    duplicatesOnOurSide: our.duplicates,
    duplicatesOnTheirSide: their.duplicates,
    nettedToZero: [...oursLeft, ...unmatchedTheirs].filter(nettedOut),
  };
}
