import { Decimal } from 'decimal.js';
import { Money, toDecimalString } from '../cdr/money.js';
import { invariant } from '../shared/assert.js';
import type { JournalEntry } from './events.js';

export interface CurrencyTotals {
  readonly currency: string;
  readonly debits: Decimal;
  readonly credits: Decimal;
  /** debits − credits: zero on a balanced entry or journal. */
  readonly difference: Decimal;
}

/** Sum of debits and credits per currency, in order of first appearance. */
export function totalsPerCurrency(lines: JournalEntry['lines']): CurrencyTotals[] {
  const sums = new Map<string, { debits: Decimal; credits: Decimal }>();
  for (const line of lines) {
    const sum = sums.get(line.currency) ?? { debits: new Money(0), credits: new Money(0) };
    const amount = new Money(line.amount);
    sums.set(line.currency, line.side === 'debit' ? { ...sum, debits: sum.debits.plus(amount) } : { ...sum, credits: sum.credits.plus(amount) });
  }
  return [...sums].map(([currency, { debits, credits }]) => ({ currency, debits, credits, difference: debits.minus(credits) }));
}

/** Currencies in which the entry's debits and credits differ. */
export function imbalances(entry: JournalEntry): CurrencyTotals[] {
  return totalsPerCurrency(entry.lines).filter((totals) => !totals.difference.isZero());
}

/**
 * The double-entry invariant: every amount positive, debits equal credits in each currency.
 * `decide` refuses such an entry with a message; one reaching here (evolve, projections) is a bug.
 */
export function assertBalanced(entry: JournalEntry): void {
  for (const line of entry.lines) {
    invariant(new Money(line.amount).gt(0), `journal entry ${entry.entryId}: amount ${line.amount} on ${line.account} is not positive`);
  }
  for (const totals of imbalances(entry)) {
    invariant(false, `journal entry ${entry.entryId} does not balance in ${totals.currency}: difference ${toDecimalString(totals.difference)}`);
  }
}
