import { monthOf } from '../../domain/settlement/carry.js';
import type { CdrSummary, ComparedField } from '../../domain/settlement/events.js';
import type { WidenedTolerance } from '../../domain/settlement/precision.js';
import type { DuplicateDifference, DuplicateRow, Reconciliation, ReconciliationTolerance } from '../../domain/settlement/reconcile.js';
import { formatTable } from './projections.js';

/**
 * The text `csms settlement reconcile` prints for one period (partner, month, currency): the
 * tolerances used (and any the statement's precision widened), one row per pair and field that
 * differs (or one "matched" row), rows for CDRs missing on either side and for CDR ids given twice,
 * the CDRs settled here that started in an earlier month, and a summary line. Figures a side did
 * not state are named in NOTE as not compared, never shown as matching.
 */

/** The CDR field names an operator knows (OCPI's, in the CSV export's spelling). */
export const fieldLabels: Readonly<Record<ComparedField, string>> = {
  amount: 'excl_vat',
  amountInclVat: 'incl_vat',
  energyKwh: 'energy_kwh',
  timeHours: 'time_h',
};

const lackingText = { ours: 'we did not record it', theirs: 'their statement lacks it', both: 'neither side states it' } as const;

const duplicateFieldLabels: Readonly<Record<DuplicateDifference, string>> = {
  ...fieldLabels,
  sessionId: 'session_id',
  startDateTime: 'start_date_time',
  creditReferenceId: 'credit_reference_id',
};

/** Lines saying which tolerances the statement's precision widened (none when it widened none). */
export function widenedLines(widened: WidenedTolerance): string[] {
  const lines: string[] = [];
  if (widened.energyKwh) lines.push(`their statement states energy_kwh to ${widened.energyKwh.decimals} decimals: energy tolerance widened to ±${widened.energyKwh.tolerance} kWh (half its last decimal)`);
  if (widened.timeHours) lines.push(`their statement states time_h to ${widened.timeHours.decimals} decimals: time tolerance widened to ±${widened.timeHours.tolerance} s (half its last decimal)`);
  return lines;
}

/** NOTE of a duplicate row: whether it repeats its first row or charges again with other figures. */
function duplicateNote(duplicate: DuplicateRow): string {
  if (duplicate.differsIn.length === 0) return 'same figures as its first row';
  const shown = (value: string | null) => value ?? '-';
  const fields = duplicate.differsIn.map((field) => `${duplicateFieldLabels[field]} ${shown(duplicate.first[field])} first`);
  return `OTHER FIGURES than its first row (${fields.join(', ')})`;
}

/** CDRs settled in this period that started in an earlier month: they arrived after that period closed (carry.ts). */
function carriedLine(ours: readonly CdrSummary[], period: string): string[] {
  const carried = ours.filter((cdr) => monthOf(cdr.startDateTime) < period);
  if (carried.length === 0) return [];
  const shown = carried.slice(0, 20).map((cdr) => `${cdr.cdrId} (started ${monthOf(cdr.startDateTime)})`);
  const more = carried.length > shown.length ? ` and ${carried.length - shown.length} more` : '';
  return [`settled here after their own month's period closed: ${shown.join(', ')}${more}`];
}

export function toleranceLine(tolerance: ReconciliationTolerance, currency: string): string {
  return `tolerances (inclusive): money ±${tolerance.amount} ${currency} (excl. and incl. VAT), energy ±${tolerance.energyKwh} kWh, time ±${tolerance.timeSeconds} s`;
}

export interface ReportedPeriod {
  readonly partner: string;
  readonly period: string;
  readonly currency: string;
  /** Our CDRs as the period holds them. */
  readonly ours: readonly CdrSummary[];
}

export function reconciliationReport(result: Reconciliation, configured: ReconciliationTolerance, reported: ReportedPeriod): string[] {
  const table: string[][] = [['CDR', 'THEIR CDR', 'RESULT', 'FIELD', 'OURS', 'THEIRS', 'DIFFERENCE', 'NOTE']];
  for (const pair of result.matched) {
    const ids = [pair.ours.cdrId, pair.theirs.cdrId];
    const note = pair.notCompared.map((item) => `${fieldLabels[item.field]} not compared (${lackingText[item.lacking]})`).join('; ');
    if (pair.differences.length === 0) {
      const { amount: ours } = pair.ours;
      const { amount: theirs } = pair.theirs;
      table.push([...ids, 'matched', fieldLabels.amount, ours.toFixed(), theirs.toFixed(), ours.minus(theirs).toFixed(), note]);
      continue;
    }
    pair.differences.forEach((difference, i) => {
      table.push([...ids, 'mismatch', fieldLabels[difference.field], difference.ours, difference.theirs, difference.difference, i === 0 ? note : '']);
    });
  }
  for (const record of result.missingOnTheirSide) table.push([record.cdrId, '-', 'missing on their side', fieldLabels.amount, record.amount.toFixed(), '-', record.amount.toFixed(), '']);
  for (const record of result.missingOnOurSide) table.push(['-', record.cdrId, 'missing on our side', fieldLabels.amount, '-', record.amount.toFixed(), record.amount.negated().toFixed(), '']);
  for (const duplicate of result.duplicateRowsOnOurSide) table.push([duplicate.cdrId, '-', 'duplicate on our side', fieldLabels.amount, duplicate.row.amount, '-', '', duplicateNote(duplicate)]);
  for (const duplicate of result.duplicateRowsOnTheirSide) table.push(['-', duplicate.cdrId, 'duplicate on their side', fieldLabels.amount, '-', duplicate.row.amount, '', duplicateNote(duplicate)]);

  const agreeing = result.matched.filter((pair) => pair.differences.length === 0).length;
  const mismatches = [
    [fieldLabels.amount, result.amountMismatches],
    [fieldLabels.amountInclVat, result.amountInclVatMismatches],
    [fieldLabels.energyKwh, result.energyMismatches],
    [fieldLabels.timeHours, result.timeMismatches],
  ] as const;
  const differing = (rows: readonly DuplicateRow[]) => rows.filter((row) => row.differsIn.length > 0).length;
  const summary =
    `${reported.partner} ${reported.period} ${reported.currency}: ${result.matched.length} paired (${agreeing} matched), ` +
    `mismatches: ${mismatches.map(([label, list]) => `${label} ${list.length}`).join(', ')}; ` +
    `${result.missingOnTheirSide.length} missing on their side, ${result.missingOnOurSide.length} missing on ours; ` +
    `not compared: ${fieldLabels.amountInclVat} ${result.amountInclVatNotCompared.length}, ${fieldLabels.timeHours} ${result.timeNotCompared.length}; ` +
    `duplicate rows: ${result.duplicateRowsOnTheirSide.length} on their side (${differing(result.duplicateRowsOnTheirSide)} with other figures), ` +
    `${result.duplicateRowsOnOurSide.length} on ours`;
  return [
    toleranceLine(configured, reported.currency),
    ...widenedLines(result.widened),
    ...formatTable(table),
    ...carriedLine(reported.ours, reported.period),
    summary,
  ];
}
