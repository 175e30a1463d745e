import { eventFrom } from '../shared/event-definition.js';
import { SettlementReconciled, comparedFields, reconciliationItemsMax, type CdrSummary } from './events.js';
import { reconcile, type DuplicateRow, type ReconciliationTolerance } from './reconcile.js';

/** The ids of duplicate rows that state other figures than their first row, each once. */
const differingIds = (rows: readonly DuplicateRow[]) => [...new Set(rows.filter((row) => row.differsIn.length > 0).map((row) => row.cdrId))];

/**
 * The SettlementReconciled event for a reconciliation: complete counts, and each list cut at
 * reconciliationItemsMax (a period gone badly wrong must not make an event of megabytes; the
 * full lists are recomputed from both sides whenever needed). `tolerance` is the one configured;
 * `widenedTolerance` says where the statement's precision widened it.
 */
export function reconciledEvent(ours: readonly CdrSummary[], theirs: readonly CdrSummary[], tolerance: ReconciliationTolerance, reconciledAt: string) {
  const result = reconcile(ours, theirs, tolerance);
  let truncated = false;
  const cut = <T>(items: readonly T[]): T[] => {
    if (items.length > reconciliationItemsMax) truncated = true;
    return items.slice(0, reconciliationItemsMax);
  };
  const data = {
    reconciledAt,
    tolerance: { amount: tolerance.amount, energyKwh: tolerance.energyKwh, timeSeconds: tolerance.timeSeconds },
    compared: [...comparedFields],
    counts: {
      ours: ours.length,
      theirs: theirs.length,
      matched: result.matched.length,
      missingOnOurSide: result.missingOnOurSide.length,
      missingOnTheirSide: result.missingOnTheirSide.length,
      amountMismatches: result.amountMismatches.length,
      amountInclVatMismatches: result.amountInclVatMismatches.length,
      energyMismatches: result.energyMismatches.length,
      timeMismatches: result.timeMismatches.length,
      amountInclVatNotCompared: result.amountInclVatNotCompared.length,
      timeNotCompared: result.timeNotCompared.length,
      duplicatesOnOurSide: result.duplicatesOnOurSide.length,
      duplicatesOnTheirSide: result.duplicatesOnTheirSide.length,
    },
    missingOnOurSide: cut(result.missingOnOurSide.map((record) => record.cdrId)),
    missingOnTheirSide: cut(result.missingOnTheirSide.map((record) => record.cdrId)),
    amountMismatches: cut(result.amountMismatches),
    amountInclVatMismatches: cut(result.amountInclVatMismatches),
    energyMismatches: cut(result.energyMismatches),
    timeMismatches: cut(result.timeMismatches),
    amountInclVatNotCompared: cut(result.amountInclVatNotCompared),
    timeNotCompared: cut(result.timeNotCompared),
    duplicatesOnOurSide: cut(result.duplicatesOnOurSide),
    duplicatesOnTheirSide: cut(result.duplicatesOnTheirSide),
    widenedTolerance: result.widened,
    differingDuplicates: { ourSide: cut(differingIds(result.duplicateRowsOnOurSide)), theirSide: cut(differingIds(result.duplicateRowsOnTheirSide)) },
  };
  // Read after the lists above were cut.
  return eventFrom(SettlementReconciled, { ...data, truncated });
}
