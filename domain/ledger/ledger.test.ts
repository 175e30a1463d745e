import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { given } from '../../test/support/given-when-then.js';
import { Money } from '../cdr/money.js';
import { fold } from '../shared/decider.js';
import { eventFrom } from '../shared/event-definition.js';
import { IllegalStateError, InvalidCommandError } from '../shared/errors.js';
import { assertBalanced } from './balance.js';
import type { OpenAccount, PostJournalEntry } from './commands.js';
import { AccountOpened, JournalEntryPosted, type AccountKind, type JournalEntry, type JournalLine } from './events.js';
import { ledgerDecider } from './index.js';
import { trialBalance } from './trial-balance.js';

const at = '2025-03-01T12:00:00.000Z';
const open = (code: string, kind: AccountKind, currency = 'EUR'): OpenAccount => ({ type: 'OpenAccount', code, name: code, kind, currency, openedAt: at });
const opened = (code: string, kind: AccountKind, currency = 'EUR') => eventFrom(AccountOpened, { code, name: code, kind, currency, openedAt: at });
const chart = [
  opened('receivable:emsp:DE-EMP', 'asset'),
  opened('revenue:charging', 'revenue'),
  opened('vat-payable:21', 'liability'),
  opened('cash:settlement', 'asset'),
  opened('receivable:emsp:US-EMP', 'asset', 'USD'),
  opened('revenue:charging-usd', 'revenue', 'USD'),
];
const line = (account: string, side: 'debit' | 'credit', amount: string, currency = 'EUR'): JournalLine => ({ account, side, amount, currency });
const entry = (lines: JournalLine[], entryId = 'E-1'): JournalEntry => ({
  entryId,
  postedAt: at,
  description: 'CDR CDR-1',
  source: { kind: 'cdr', id: 'CDR-1' },
  lines,
});
const cdrLines = [line('receivable:emsp:DE-EMP', 'debit', '8.47'), line('revenue:charging', 'credit', '7.00'), line('vat-payable:21', 'credit', '1.47')];
const post = (e: JournalEntry): PostJournalEntry => ({ type: 'PostJournalEntry', entry: e });
const posted = (e: JournalEntry) => eventFrom(JournalEntryPosted, e);

describe('ledger: chart of accounts', () => {
  it('opens an account', () => {
    given(ledgerDecider, []).when(open('revenue:charging', 'revenue')).then([opened('revenue:charging', 'revenue')]);
  });
  it('takes opening the same account again as a no-op, refuses it with another kind or currency', () => {
    given(ledgerDecider, chart).when(open('revenue:charging', 'revenue')).then([]);
    given(ledgerDecider, chart).when(open('revenue:charging', 'revenue', 'USD')).thenThrows(IllegalStateError, /already open as revenue in EUR/);
  });
  it('refuses a bad code or a currency not in ISO 4217', () => {
    given(ledgerDecider, []).when(open('Revenue charging', 'revenue')).thenThrows(InvalidCommandError, /account code/);
    given(ledgerDecider, []).when(open('revenue:charging', 'revenue', 'EURO')).thenThrows(InvalidCommandError, /ISO 4217/);
  });
});

describe('ledger: posting journal entries', () => {
  it('posts a balanced entry', () => {
    given(ledgerDecider, chart).when(post(entry(cdrLines))).then([posted(entry(cdrLines))]);
  });

  it('refuses an entry whose debits and credits differ, naming the currency and difference', () => {
    const lines = [line('receivable:emsp:DE-EMP', 'debit', '8.47'), line('revenue:charging', 'credit', '7.00'), line('vat-payable:21', 'credit', '1.46')];
    given(ledgerDecider, chart).when(post(entry(lines))).thenThrows(InvalidCommandError, /does not balance in EUR: debits 8.47, credits 8.46, difference 0.01/);
  });

  it('checks the balance per currency: EUR and USD each balance, or the entry is refused', () => {
    const both = [...cdrLines, line('receivable:emsp:US-EMP', 'debit', '5', 'USD'), line('revenue:charging-usd', 'credit', '5', 'USD')];
    given(ledgerDecider, chart).when(post(entry(both))).then([posted(entry(both))]);
    // 8.47 EUR debit against 8.47 USD credit sums to zero only if currencies are ignored.
    const crossed = [line('receivable:emsp:DE-EMP', 'debit', '8.47'), line('revenue:charging-usd', 'credit', '8.47', 'USD')];
    given(ledgerDecider, chart).when(post(entry(crossed))).thenThrows(InvalidCommandError, /does not balance in EUR/);
  });

  it('refuses a line on an unknown account', () => {
    const lines = [line('receivable:emsp:XX-NEW', 'debit', '7'), line('revenue:charging', 'credit', '7')];
    given(ledgerDecider, chart).when(post(entry(lines))).thenThrows(InvalidCommandError, /unknown account receivable:emsp:XX-NEW/);
  });

  it('refuses a currency that does not match the account', () => {
    const lines = [line('receivable:emsp:DE-EMP', 'debit', '7', 'USD'), line('revenue:charging-usd', 'credit', '7', 'USD')];
    given(ledgerDecider, chart).when(post(entry(lines))).thenThrows(InvalidCommandError, /USD on receivable:emsp:DE-EMP, an account in EUR/);
  });

  it('refuses zero and negative amounts', () => {
    const zero = [line('receivable:emsp:DE-EMP', 'debit', '0'), line('revenue:charging', 'credit', '0')];
    given(ledgerDecider, chart).when(post(entry(zero))).thenThrows(InvalidCommandError, /amount 0 .* must be positive/);
    const negative = [line('receivable:emsp:DE-EMP', 'debit', '-7'), line('revenue:charging', 'credit', '-7')];
    given(ledgerDecider, chart).when(post(entry(negative))).thenThrows(InvalidCommandError, /must be positive/);
  });

  it('refuses an entry with fewer than two lines or a malformed amount', () => {
    given(ledgerDecider, chart).when(post(entry([line('revenue:charging', 'credit', '7')]))).thenThrows(InvalidCommandError, /invalid/);
    given(ledgerDecider, chart).when(post(entry([line('receivable:emsp:DE-EMP', 'debit', '1e2'), line('revenue:charging', 'credit', '100')]))).thenThrows(InvalidCommandError, /invalid/);
  });

  it('refuses a line finer than its currency\'s minor unit, whatever the entry\'s source, naming line and unit', () => {
    const withJpy = [...chart, opened('cash:settlement-jpy', 'asset', 'JPY'), opened('revenue:charging-jpy', 'revenue', 'JPY')];
    const adjustment = (lines: JournalLine[]): JournalEntry => ({ ...entry(lines, 'ADJ-1'), source: { kind: 'adjustment', id: 'ADJ-1' }, description: 'agreed discount' });
    const settlement = (lines: JournalLine[]): JournalEntry => ({ ...entry(lines, 'SET-1'), source: { kind: 'settlement', id: 'DE-EMP-2025-03' }, description: 'settled' });
    // Balanced, but 0.005 EUR cannot be paid: half a cent.
    const halfCent = [line('cash:settlement', 'debit', '10.005'), line('receivable:emsp:DE-EMP', 'credit', '10.005')];
    given(ledgerDecider, chart)
      .when(post(adjustment(halfCent)))
      .thenThrows(InvalidCommandError, /journal entry ADJ-1: line 0: 10.005 EUR on cash:settlement is finer than the EUR minor unit 0.01/);
    given(ledgerDecider, chart).when(post(settlement(halfCent))).thenThrows(InvalidCommandError, /line 0: 10.005 EUR .* finer than the EUR minor unit 0.01/);
    const yenFraction = [line('cash:settlement-jpy', 'debit', '100.5', 'JPY'), line('revenue:charging-jpy', 'credit', '100.5', 'JPY')];
    given(ledgerDecider, withJpy).when(post(settlement(yenFraction))).thenThrows(InvalidCommandError, /finer than the JPY minor unit 1\b/);
    // Whole minor units pass, however they are written.
    const whole = [line('cash:settlement', 'debit', '10.50'), line('receivable:emsp:DE-EMP', 'credit', '10.500')];
    given(ledgerDecider, chart).when(post(adjustment(whole))).then([posted(adjustment(whole))]);
    const yen = [line('cash:settlement-jpy', 'debit', '100', 'JPY'), line('revenue:charging-jpy', 'credit', '100.0', 'JPY')];
    given(ledgerDecider, withJpy).when(post(settlement(yen))).then([posted(settlement(yen))]);
  });

  it('takes the identical entry again as a retry, refuses the same id with other content', () => {
    given(ledgerDecider, [...chart, posted(entry(cdrLines))]).when(post(entry(cdrLines))).then([]);
    const other = [line('receivable:emsp:DE-EMP', 'debit', '1'), line('revenue:charging', 'credit', '1')];
    given(ledgerDecider, [...chart, posted(entry(cdrLines))]).when(post(entry(other))).thenThrows(IllegalStateError, /already posted with other content/);
  });

  it('normalizes postedAt so a retry with another notation of the same time is still a retry', () => {
    given(ledgerDecider, [...chart, posted(entry(cdrLines))]).when(post({ ...entry(cdrLines), postedAt: '2025-03-01T13:00:00+01:00' })).then([]);
  });
});

describe('ledger: evolve and trial balance', () => {
  it('crashes on an unbalanced entry reaching evolve: a bug, not input', () => {
    const state = fold(ledgerDecider, chart);
    const bad = posted(entry([line('receivable:emsp:DE-EMP', 'debit', '8.47'), line('revenue:charging', 'credit', '7.00')]));
    expect(() => ledgerDecider.evolve(state, bad)).toThrow(/invariant violated: journal entry E-1 does not balance in EUR: difference 1.47/);
  });

  it('gives each account its balance and a zero total per currency', () => {
    const payment = entry([line('cash:settlement', 'debit', '8.47'), line('receivable:emsp:DE-EMP', 'credit', '8.47')], 'E-2');
    const state = fold(ledgerDecider, [...chart, posted(entry(cdrLines)), posted(payment)]);
    const report = trialBalance(state);
    const balance = (code: string) => report.accounts.find((a) => a.account === code)!.balance.toFixed();
    expect(balance('receivable:emsp:DE-EMP')).toBe('0');
    expect(balance('cash:settlement')).toBe('8.47');
    expect(balance('revenue:charging')).toBe('-7');
    expect(balance('vat-payable:21')).toBe('-1.47');
    expect(report.totals.map((t) => [t.currency, t.debits.toFixed(), t.difference.toFixed()])).toEqual([
      ['EUR', '16.94', '0'],
      ['USD', '0', '0'],
    ]);
  });

  it('property: any sequence of balanced entries leaves every currency summing to zero', () => {
    const accounts = ['receivable:emsp:DE-EMP', 'revenue:charging', 'vat-payable:21', 'cash:settlement'];
    const cents = fc.integer({ min: 1, max: 10_000_000 }).map((n) => new Money(n).dividedBy(100).toFixed(2));
    // A balanced entry: random debits, credited to one account in one sum.
    const balancedEntry = fc.tuple(fc.array(fc.tuple(fc.constantFrom(...accounts), cents), { minLength: 1, maxLength: 6 }), fc.constantFrom(...accounts));
    fc.assert(
      fc.property(fc.array(balancedEntry, { maxLength: 20 }), (entries) => {
        let state = fold(ledgerDecider, chart);
        entries.forEach(([debits, creditAccount], index) => {
          const total = debits.reduce((sum, [, amount]) => sum.plus(amount), new Money(0));
          const e = entry([...debits.map(([account, amount]) => line(account, 'debit', amount)), line(creditAccount, 'credit', total.toFixed())], `E-${index}`);
          state = fold(ledgerDecider, ledgerDecider.decide(post(e), state), state);
        });
        expect(state.entryCount).toBe(entries.length);
        for (const total of trialBalance(state).totals) expect(total.difference.isZero()).toBe(true);
      }),
    );
  });

  it('property: decide refuses every unbalanced entry, and assertBalanced agrees', () => {
    const cents = fc.integer({ min: 1, max: 1_000_000 }).map((n) => new Money(n).dividedBy(100).toFixed(2));
    fc.assert(
      fc.property(cents, cents, (debit, credit) => {
        fc.pre(!new Money(debit).eq(credit));
        const e = entry([line('receivable:emsp:DE-EMP', 'debit', debit), line('revenue:charging', 'credit', credit)]);
        expect(() => ledgerDecider.decide(post(e), fold(ledgerDecider, chart))).toThrow(InvalidCommandError);
        expect(() => assertBalanced(e)).toThrow(/invariant/);
      }),
    );
  });
});
