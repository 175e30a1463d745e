import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { creditCdrFrom } from '../cdr/credit.js';
import { sampleIssued } from '../cdr/fixtures.js';
import { InvalidCommandError } from '../shared/errors.js';
import type { CdrSummary } from './events.js';
import { reconciliationItemsMax } from './events.js';
import { cdrSummaryOf, reconcile } from './reconcile.js';
import { reconciledEvent } from './reconciled.js';

const cdr = (cdrId: string, amount = '7.00', energyKwh = '20', extra: Partial<CdrSummary> = {}): CdrSummary => ({
  cdrId,
  sessionId: `S-${cdrId}`,
  startDateTime: '2025-03-01T10:00:00Z',
  amount,
  energyKwh,
  creditReferenceId: null,
  ...extra,
});
const creditOf = (original: CdrSummary, cdrId = `${original.cdrId}-C`): CdrSummary => ({
  ...original,
  cdrId,
  amount: `-${original.amount}`,
  energyKwh: `-${original.energyKwh}`,
  creditReferenceId: original.cdrId,
});
const exact = { amount: '0', energyKwh: '0' };
const ids = (records: readonly { cdrId: string }[]) => records.map((record) => record.cdrId);

describe('reconcile', () => {
  it('matches by CDR id', () => {
    const result = reconcile([cdr('A'), cdr('B')], [cdr('B'), cdr('A')], exact);
    expect(result.matched.map((pair) => [pair.ours.cdrId, pair.theirs.cdrId, pair.matchedBy])).toEqual([
      ['A', 'A', 'id'],
      ['B', 'B', 'id'],
    ]);
    expect([result.missingOnOurSide, result.missingOnTheirSide, result.amountMismatches, result.energyMismatches]).toEqual([[], [], [], []]);
  });

  it('reports CDRs missing on either side', () => {
    const result = reconcile([cdr('A'), cdr('B')], [cdr('B'), cdr('C')], exact);
    expect(ids(result.missingOnTheirSide)).toEqual(['A']);
    expect(ids(result.missingOnOurSide)).toEqual(['C']);
  });

  it('falls back to session id and start time, comparing instants not notation', () => {
    const theirs = cdr('THEIR-9', '7.00', '20', { sessionId: 'S-A', startDateTime: '2025-03-01T11:00:00+01:00' });
    const result = reconcile([cdr('A')], [theirs], exact);
    expect(result.matched.map((pair) => [pair.ours.cdrId, pair.theirs.cdrId, pair.matchedBy])).toEqual([['A', 'THEIR-9', 'session']]);
  });

  it('does not fall back when the start time or session differs, or there is no session id', () => {
    expect(reconcile([cdr('A')], [cdr('X', '7.00', '20', { sessionId: 'S-A', startDateTime: '2025-03-01T10:00:01Z' })], exact).matched).toEqual([]);
    expect(reconcile([cdr('A', '7', '20', { sessionId: null })], [cdr('X', '7', '20', { sessionId: null })], exact).matched).toEqual([]);
  });

  it('prefers a match by id over a match by session', () => {
    const sameSession = cdr('X', '7.00', '20', { sessionId: 'S-A' });
    const result = reconcile([cdr('A')], [sameSession, cdr('A')], exact);
    expect(result.matched.map((pair) => [pair.theirs.cdrId, pair.matchedBy])).toEqual([['A', 'id']]);
    expect(ids(result.missingOnOurSide)).toEqual(['X']);
  });

  it('accepts an amount difference equal to the tolerance and flags one a cent over', () => {
    const tolerance = { amount: '0.05', energyKwh: '0' };
    expect(reconcile([cdr('A', '7.00')], [cdr('A', '7.05')], tolerance).amountMismatches).toEqual([]);
    expect(reconcile([cdr('A', '7.05')], [cdr('A', '7.00')], tolerance).amountMismatches).toEqual([]);
    expect(reconcile([cdr('A', '7.00')], [cdr('A', '7.06')], tolerance).amountMismatches).toEqual([
      { ourCdrId: 'A', theirCdrId: 'A', ours: '7', theirs: '7.06', difference: '-0.06' },
    ]);
  });

  it('checks energy against its own tolerance, exactly (no float drift at 0.1 + 0.2)', () => {
    const tolerance = { amount: '0', energyKwh: '0.3' };
    expect(reconcile([cdr('A', '7', '0.1')], [cdr('A', '7', '0.4')], tolerance).energyMismatches).toEqual([]);
    const result = reconcile([cdr('A', '7', '20')], [cdr('A', '7', '20.301')], tolerance);
    expect(result.energyMismatches).toEqual([{ ourCdrId: 'A', theirCdrId: 'A', ours: '20', theirs: '20.301', difference: '-0.301' }]);
    expect(result.amountMismatches).toEqual([]);
  });

  it('lists duplicates on either side and counts only the first', () => {
    const result = reconcile([cdr('A'), cdr('A'), cdr('B')], [cdr('A'), cdr('B', '9.00'), cdr('B')], exact);
    expect(result.duplicatesOnOurSide).toEqual(['A']);
    expect(result.duplicatesOnTheirSide).toEqual(['B']);
    expect(result.matched).toHaveLength(2);
    expect(result.amountMismatches.map((m) => m.ourCdrId)).toEqual(['B']);
  });

  it('nets a credit CDR into its original: both sides with CDR + credit match at zero', () => {
    const a = cdr('A');
    const result = reconcile([a, creditOf(a)], [a, creditOf(a)], exact);
    expect(result.matched.map((pair) => [pair.ours.cdrIds, pair.ours.amount.toFixed()])).toEqual([[['A', 'A-C'], '0']]);
    expect(result.amountMismatches).toEqual([]);
  });

  it('does not report a CDR cancelled by its credit as missing on the other side', () => {
    const a = cdr('A');
    const result = reconcile([a, creditOf(a), cdr('A-R', '6.50')], [cdr('A-R', '6.50')], exact);
    expect(result.missingOnTheirSide).toEqual([]);
    expect(ids(result.nettedToZero)).toEqual(['A']);
    expect(ids(result.matched.map((pair) => pair.ours))).toEqual(['A-R']);
  });

  it('flags the original billed by the partner after we credited it', () => {
    const a = cdr('A');
    const result = reconcile([a, creditOf(a)], [a], exact);
    expect(result.amountMismatches).toEqual([{ ourCdrId: 'A', theirCdrId: 'A', ours: '0', theirs: '7', difference: '-7' }]);
  });

  it('keeps a credit CDR whose original is in another period as a record of its own', () => {
    const credit = creditOf(cdr('OLD'));
    expect(reconcile([credit], [credit], exact).matched.map((pair) => pair.ours.cdrId)).toEqual(['OLD-C']);
    expect(ids(reconcile([credit], [], exact).missingOnTheirSide)).toEqual(['OLD-C']);
  });

  it('refuses a negative or malformed tolerance and malformed summaries', () => {
    expect(() => reconcile([], [], { amount: '-0.01', energyKwh: '0' })).toThrow(InvalidCommandError);
    expect(() => reconcile([cdr('A', '7,00')], [], exact)).toThrow(/ours\[0\]/);
  });

  it('builds summaries from issued CDRs, credit CDRs included', () => {
    const original = sampleIssued();
    const credit = creditCdrFrom(original, 'CDR-1-C', '2025-03-05T09:00:00Z');
    expect(cdrSummaryOf(credit)).toEqual({
      cdrId: 'CDR-1-C',
      sessionId: 'S-1',
      startDateTime: '2025-03-01T10:00:00Z',
      amount: '-7.00',
      energyKwh: '-20',
      creditReferenceId: 'CDR-1',
    });
    expect(reconcile([cdrSummaryOf(original), cdrSummaryOf(credit)], [], exact).nettedToZero).toHaveLength(1);
  });

  it('cuts the lists of the recorded event at the limit, never the counts', () => {
    const many = Array.from({ length: reconciliationItemsMax + 5 }, (_, i) => cdr(`X${i}`));
    const event = reconciledEvent(many, [], exact, '2025-04-01T00:00:00.000Z');
    expect(event.data.counts.missingOnTheirSide).toBe(reconciliationItemsMax + 5);
    expect(event.data.missingOnTheirSide).toHaveLength(reconciliationItemsMax);
    expect(event.data.truncated).toBe(true);
  });

  it('property: every CDR is accounted for exactly once, and a list reconciled with itself matches fully', () => {
    const amount = fc.integer({ min: 0, max: 100_000 }).map((n) => (n / 100).toFixed(2));
    const summaries = fc.uniqueArray(fc.tuple(fc.integer({ min: 0, max: 40 }), amount), { selector: ([id]) => id, maxLength: 30 });
    fc.assert(
      fc.property(summaries, summaries, (ourList, theirList) => {
        const ours = ourList.map(([id, value]) => cdr(`C${id}`, value));
        const theirs = theirList.map(([id, value]) => cdr(`C${id}`, value));
        const result = reconcile(ours, theirs, exact);
        expect(result.matched.length + result.missingOnTheirSide.length).toBe(ours.length);
        expect(result.matched.length + result.missingOnOurSide.length).toBe(theirs.length);
        const self = reconcile(ours, ours, exact);
        expect([self.matched.length, self.amountMismatches.length, self.missingOnOurSide.length]).toEqual([ours.length, 0, 0]);
      }),
    );
  });
});
