import type { ComparedField } from '../../domain/settlement/events.js';
import type { Reconciliation, ReconciliationTolerance } from '../../domain/settlement/reconcile.js';
import { formatTable } from './projections.js';

/**
 * The text `csms settlement reconcile` prints: the tolerances used, one row per pair and field
 * that differs (or one "matched" row), rows for CDRs missing on either side, and a summary line.
 * Figures a side did not state are named in NOTE as not compared, never shown as matching.
 */

/** The CDR field names an operator knows (OCPI's, in the CSV export's spelling). */
export const fieldLabels: Readonly<Record<ComparedField, string>> = {
  amount: 'excl_vat',
  amountInclVat: 'incl_vat',
  energyKwh: 'energy_kwh',
  timeHours: 'time_h',
};

const lackingText = { ours: 'we did not record it', theirs: 'their statement lacks it', both: 'neither side states it' } as const;

export function toleranceLine(tolerance: ReconciliationTolerance, currency: string): string {
  return `tolerances (inclusive): money ±${tolerance.amount} ${currency} (excl. and incl. VAT), energy ±${tolerance.energyKwh} kWh, time ±${tolerance.timeSeconds} s`;
}

export function reconciliationReport(result: Reconciliation, tolerance: ReconciliationTolerance, currency: string, heading: string): string[] {
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

  const agreeing = result.matched.filter((pair) => pair.differences.length === 0).length;
  const mismatches = [
    [fieldLabels.amount, result.amountMismatches],
    [fieldLabels.amountInclVat, result.amountInclVatMismatches],
    [fieldLabels.energyKwh, result.energyMismatches],
    [fieldLabels.timeHours, result.timeMismatches],
  ] as const;
  const summary =
    `${heading}: ${result.matched.length} paired (${agreeing} matched), ` +
    `mismatches: ${mismatches.map(([label, list]) => `${label} ${list.length}`).join(', ')}; ` +
    `${result.missingOnTheirSide.length} missing on their side, ${result.missingOnOurSide.length} missing on ours; ` +
    `not compared: ${fieldLabels.amountInclVat} ${result.amountInclVatNotCompared.length}, ${fieldLabels.timeHours} ${result.timeNotCompared.length}`;
  return [toleranceLine(tolerance, currency), ...formatTable(table), summary];
}
