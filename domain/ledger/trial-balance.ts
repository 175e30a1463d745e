import type { Decimal } from 'decimal.js';
import { Money, toDecimalString } from '../cdr/money.js';
import { invariant } from '../shared/assert.js';
import type { CurrencyTotals } from './balance.js';
import type { AccountKind } from './events.js';
import { entriesOf, type LedgerState } from './state.js';

export interface AccountBalance {
  readonly account: string;
  readonly kind: AccountKind;
  readonly currency: string;
  readonly debits: Decimal;
  readonly credits: Decimal;
  /** debits − credits: positive for a debit balance (assets, expenses), negative for a credit one. */
  readonly balance: Decimal;
}

export interface TrialBalance {
  /** Every account, in the order opened, with zero totals if never posted to. */
  readonly accounts: AccountBalance[];
  /** Per currency: sums over all accounts; `difference` is zero, or the journal is corrupt. */
  readonly totals: CurrencyTotals[];
}

/** Balances of every account and, per currency, the check that the journal sums to zero. */
export function trialBalance(state: LedgerState): TrialBalance {
  const sums = new Map<string, { debits: Decimal; credits: Decimal }>();
  for (const code of state.accounts.keys()) sums.set(code, { debits: new Money(0), credits: new Money(0) });
  for (const entry of entriesOf(state)) {
    for (const line of entry.lines) {
      const sum = sums.get(line.account);
      invariant(sum !== undefined, `journal entry ${entry.entryId} posts to unknown account ${line.account}`);
      const amount = new Money(line.amount);
      sums.set(line.account, line.side === 'debit' ? { ...sum, debits: sum.debits.plus(amount) } : { ...sum, credits: sum.credits.plus(amount) });
    }
  }
  const accounts: AccountBalance[] = [...state.accounts.values()].map((account) => {
    const { debits, credits } = sums.get(account.code)!;
    return { account: account.code, kind: account.kind, currency: account.currency, debits, credits, balance: debits.minus(credits) };
  });
  const totals = new Map<string, { debits: Decimal; credits: Decimal }>();
  for (const balance of accounts) {
    const total = totals.get(balance.currency) ?? { debits: new Money(0), credits: new Money(0) };
    totals.set(balance.currency, { debits: total.debits.plus(balance.debits), credits: total.credits.plus(balance.credits) });
  }
  const currencyTotals = [...totals].map(([currency, { debits, credits }]) => ({ currency, debits, credits, difference: debits.minus(credits) }));
  for (const total of currencyTotals) {
    invariant(total.difference.isZero(), `journal does not balance in ${total.currency}: difference ${toDecimalString(total.difference)}`);
  }
  return { accounts, totals: currencyTotals };
}
