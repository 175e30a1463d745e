import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { creditCdrFrom } from '../cdr/credit.js';
import { sampleIssued, sampleTariff } from '../cdr/fixtures.js';
import { Money } from '../cdr/money.js';
import { fold } from '../shared/decider.js';
import { eventFrom } from '../shared/event-definition.js';
import { InvalidCommandError } from '../shared/errors.js';
import { totalsPerCurrency } from './balance.js';
import { accountCodes, entryForCdr, linesForCdr, reversalOf } from './entries.js';
import { AccountOpened, JournalEntryPosted, type AccountKind } from './events.js';
import { ledgerDecider } from './index.js';
import { trialBalance } from './trial-balance.js';

const opened = (code: string, kind: AccountKind, currency = 'EUR') =>
  eventFrom(AccountOpened, { code, name: code, kind, currency, openedAt: '2025-01-01T00:00:00.000Z' });
const chart = fold(ledgerDecider, [
  opened('receivable:emsp:DE-EMP', 'asset'),
  opened('receivable:customer:ACME_Fleet_B.V.', 'asset'),
  opened('receivable:unknown-tokens', 'asset'),
  opened('revenue:charging', 'revenue'),
  opened('vat-payable:21', 'liability'),
  opened('vat-payable:9', 'liability'),
]);
const twoRateTariff = {
  ...sampleTariff,
  elements: [{ price_components: [{ type: 'FLAT', price: 1, vat: 9 }, { type: 'ENERGY', price: 0.3, vat: 21 }] }],
};

describe('entryForCdr', () => {
  it('debits the eMSP receivable incl VAT, credits revenue excl VAT and VAT payable by the VAT part', () => {
    const entry = entryForCdr(sampleIssued(), chart.accounts)!;
    expect(entry).toEqual({
      entryId: 'cdr:NL-CPO:CDR-1',
      postedAt: '2025-03-01T11:05:00.000Z',
      description: 'CDR CDR-1 (session S-1)',
      source: { kind: 'cdr', id: 'CDR-1' },
      lines: [
        { account: 'receivable:emsp:DE-EMP', side: 'debit', amount: '8.47', currency: 'EUR' },
        { account: 'revenue:charging', side: 'credit', amount: '7', currency: 'EUR' },
        { account: 'vat-payable:21', side: 'credit', amount: '1.47', currency: 'EUR' },
      ],
    });
    expect(ledgerDecider.decide({ type: 'PostJournalEntry', entry }, chart)).toEqual([eventFrom(JournalEntryPosted, entry)]);
  });

  it('debits the customer of one of our own tokens, by the token issuer as an account code', () => {
    const entry = entryForCdr(sampleIssued(), chart.accounts, { payer: { kind: 'customer', customer: 'ACME Fleet B.V.' } })!;
    expect(entry.lines[0]).toMatchObject({ account: 'receivable:customer:ACME_Fleet_B.V.', side: 'debit' });
    expect(accountCodes.receivableCustomer('Open-CSMS')).toBe('receivable:customer:Open-CSMS');
    expect(accountCodes.receivableCustomer('Bäcker & Söhne')).toBe('receivable:customer:B_cker_S_hne');
  });

  it('debits one account for tokens we never issued', () => {
    const entry = entryForCdr(sampleIssued(), chart.accounts, { payer: { kind: 'unknown-token' } })!;
    expect(entry.lines[0]).toMatchObject({ account: 'receivable:unknown-tokens', side: 'debit' });
  });

  it('reverses the original with the credit CDR: the two entries leave every account at zero', () => {
    const original = sampleIssued();
    const credit = creditCdrFrom(original, 'CDR-1-C', '2025-03-05T09:00:00Z');
    const first = entryForCdr(original, chart.accounts)!;
    const second = entryForCdr(credit, chart.accounts)!;
    expect(second.source).toEqual({ kind: 'credit-cdr', id: 'CDR-1-C' });
    expect(second.lines.map((l) => l.side)).toEqual(['credit', 'debit', 'debit']);
    let state = chart;
    for (const entry of [first, second]) state = fold(ledgerDecider, ledgerDecider.decide({ type: 'PostJournalEntry', entry }, state), state);
    expect(trialBalance(state).accounts.every((a) => a.balance.isZero())).toBe(true);
  });

  it('splits VAT per rate and gives the rounding residual to the largest share', () => {
    // Per total: fixed 1.00 + 0.09 (9%), energy 6.00 + 1.26 (21%); the total was rounded up by 0.01.
    const issued = sampleIssued({ tariffs: [twoRateTariff], total_fixed_cost: { excl_vat: '1.00', incl_vat: '1.09' }, total_cost: { excl_vat: '7.00', incl_vat: '8.36' } });
    const { lines } = linesForCdr(issued);
    expect(lines.slice(2)).toEqual([
      { account: 'vat-payable:9', side: 'credit', amount: '0.09', currency: 'EUR' },
      { account: 'vat-payable:21', side: 'credit', amount: '1.27', currency: 'EUR' },
    ]);
    expect(totalsPerCurrency(lines)[0]!.difference.isZero()).toBe(true);
  });

  it('posts no VAT line without incl_vat and nothing at all for a free session', () => {
    const noVat = sampleIssued({ total_cost: { excl_vat: '7.00' } });
    expect(linesForCdr(noVat).lines.map((l) => [l.account, l.amount])).toEqual([
      ['receivable:emsp:DE-EMP', '7'],
      ['revenue:charging', '7'],
    ]);
    expect(entryForCdr(sampleIssued({ total_cost: { excl_vat: '0.00', incl_vat: '0.00' } }), new Map())).toBeNull();
  });

  it('refuses when an account is not open, or VAT has no rate to go to', () => {
    expect(() => entryForCdr(sampleIssued(), fold(ledgerDecider, []).accounts)).toThrow(/account receivable:emsp:DE-EMP is not open/);
    // No rate in the snapshot, and 1.48 on 7.00 states none exactly.
    const noRate = sampleIssued({ tariffs: [], total_cost: { excl_vat: '7.00', incl_vat: '8.48' } });
    expect(() => entryForCdr(noRate, chart.accounts)).toThrow(InvalidCommandError);
    expect(entryForCdr(noRate, chart.accounts, { fallbackVatRatePercent: '21.0' })!.lines[2]!.account).toBe('vat-payable:21');
  });

  it('lists the accounts the CDR needs, so a handler can open them first', () => {
    expect(linesForCdr(sampleIssued()).accounts.map((a) => `${a.kind} ${a.code}`)).toEqual([
      'asset receivable:emsp:DE-EMP',
      'revenue revenue:charging',
      'liability vat-payable:21',
    ]);
    expect(accountCodes.vatPayable('21')).toBe('vat-payable:21');
  });

  it('property: every CDR entry balances to the cent whatever the totals, with one or two rates', () => {
    const cents = fc.integer({ min: 0, max: 100_000_000 }).map((n) => new Money(n).dividedBy(100));
    fc.assert(
      fc.property(cents, cents, cents, cents, cents, fc.boolean(), (fixed, energy, fixedVat, energyVat, rounding, twoRates) => {
        const excl = fixed.plus(energy);
        const incl = excl.plus(fixedVat).plus(energyVat).plus(rounding);
        const issued = sampleIssued({
          tariffs: [twoRates ? twoRateTariff : sampleTariff],
          total_fixed_cost: { excl_vat: fixed.toFixed(2), incl_vat: fixed.plus(fixedVat).toFixed(2) },
          total_energy_cost: { excl_vat: energy.toFixed(2), incl_vat: energy.plus(energyVat).toFixed(2) },
          total_cost: { excl_vat: excl.toFixed(2), incl_vat: incl.toFixed(2) },
        });
        for (const cdr of [issued, creditCdrFrom(issued, 'C', '2025-03-05T09:00:00Z')]) {
          const { lines } = linesForCdr(cdr);
          for (const totals of totalsPerCurrency(lines)) expect(totals.difference.isZero()).toBe(true);
          expect(lines.every((l) => new Money(l.amount).gt(0))).toBe(true);
        }
      }),
    );
  });
});

describe('reversalOf', () => {
  it('mirrors every line exactly under a new id and time', () => {
    const entry = entryForCdr(sampleIssued(), chart.accounts)!;
    const reversal = reversalOf(entry, 'REV-1', '2025-03-06T00:00:00.000Z');
    expect(reversal.entryId).toBe('REV-1');
    expect(reversal.source).toEqual({ kind: 'adjustment', id: 'cdr:NL-CPO:CDR-1' });
    expect(reversal.lines).toEqual(entry.lines.map((l) => ({ ...l, side: l.side === 'debit' ? 'credit' : 'debit' })));
    expect(reversalOf(reversal, 'X', reversal.postedAt).lines).toEqual(entry.lines);
  });
});
