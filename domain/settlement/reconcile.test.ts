import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { creditCdrFrom } from '../cdr/credit.js';
import { sampleIssued } from '../cdr/fixtures.js';
import { InvalidCommandError } from '../shared/errors.js';
import type { CdrSummary } from './events.js';
import { reconciliationItemsMax } from './events.js';
import { cdrSummaryOf, defaultReconciliationTolerance, reconcile, reconciliationIsClean } from './reconcile.js';
import { reconciledEvent } from './reconciled.js';

const cdr = (cdrId: string, amount = '7.00', energyKwh = '20', extra: Partial<CdrSummary> = {}): CdrSummary => ({
  cdrId,
  sessionId: `S-${cdrId}`,
  startDateTime: '2025-03-01T10:00:00Z',
  amount,
  // Not stated unless a test says so: those fields are then "not compared".
  amountInclVat: null,
  energyKwh,
  timeHours: null,
  creditReferenceId: null,
  ...extra,
});
const negated = (value: string | null) => (value === null ? null : `-${value}`);
const creditOf = (original: CdrSummary, cdrId = `${original.cdrId}-C`): CdrSummary => ({
  ...original,
  cdrId,
  amount: `-${original.amount}`,
  amountInclVat: negated(original.amountInclVat),
  energyKwh: `-${original.energyKwh}`,
  timeHours: negated(original.timeHours),
  creditReferenceId: original.cdrId,
});
const exact = { amount: '0', energyKwh: '0', timeSeconds: '0' };
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
    const tolerance = { amount: '0.05', energyKwh: '0', timeSeconds: '0' };
    expect(reconcile([cdr('A', '7.00')], [cdr('A', '7.05')], tolerance).amountMismatches).toEqual([]);
    expect(reconcile([cdr('A', '7.05')], [cdr('A', '7.00')], tolerance).amountMismatches).toEqual([]);
    expect(reconcile([cdr('A', '7.00')], [cdr('A', '7.06')], tolerance).amountMismatches).toEqual([
      { ourCdrId: 'A', theirCdrId: 'A', ours: '7', theirs: '7.06', difference: '-0.06' },
    ]);
  });

  it('checks energy against its own tolerance, exactly (no float drift at 0.1 + 0.2)', () => {
    const tolerance = { amount: '0', energyKwh: '0.3', timeSeconds: '0' };
    expect(reconcile([cdr('A', '7', '0.1')], [cdr('A', '7', '0.4')], tolerance).energyMismatches).toEqual([]);
    const result = reconcile([cdr('A', '7', '20')], [cdr('A', '7', '20.301')], tolerance);
    expect(result.energyMismatches).toEqual([{ ourCdrId: 'A', theirCdrId: 'A', ours: '20', theirs: '20.301', difference: '-0.301' }]);
    expect(result.amountMismatches).toEqual([]);
  });

  it('flags a CDR whose excl VAT agrees but incl VAT differs as a mismatch on incl VAT alone', () => {
    const result = reconcile([cdr('A', '7.00', '20', { amountInclVat: '8.47' })], [cdr('A', '7.00', '20', { amountInclVat: '8.40' })], exact);
    expect(result.amountMismatches).toEqual([]);
    expect(result.amountInclVatMismatches).toEqual([{ ourCdrId: 'A', theirCdrId: 'A', ours: '8.47', theirs: '8.4', difference: '0.07' }]);
    expect(result.matched[0]!.differences.map((difference) => difference.field)).toEqual(['amountInclVat']);
    expect(reconciliationIsClean(result)).toBe(false);
  });

  it('applies the money tolerance to incl VAT too', () => {
    const tolerance = { amount: '0.07', energyKwh: '0', timeSeconds: '0' };
    expect(reconcile([cdr('A', '7', '20', { amountInclVat: '8.47' })], [cdr('A', '7', '20', { amountInclVat: '8.40' })], tolerance).amountInclVatMismatches).toEqual([]);
    expect(reconcile([cdr('A', '7', '20', { amountInclVat: '8.48' })], [cdr('A', '7', '20', { amountInclVat: '8.40' })], tolerance).amountInclVatMismatches).toHaveLength(1);
  });

  it('does not compare incl VAT a statement lacks, and lists the pair as not compared (a match otherwise)', () => {
    const result = reconcile([cdr('A', '7', '20', { amountInclVat: '8.47' }), cdr('B')], [cdr('A'), cdr('B', '7.00', '20', { amountInclVat: '8.47' })], exact);
    expect(result.amountInclVatMismatches).toEqual([]);
    expect(result.amountInclVatNotCompared).toEqual([
      { ourCdrId: 'A', theirCdrId: 'A', lacking: 'theirs' },
      { ourCdrId: 'B', theirCdrId: 'B', lacking: 'ours' },
    ]);
    expect(reconciliationIsClean(result)).toBe(true);
  });

  it('compares total time within a tolerance in seconds, exactly (hours × 3600)', () => {
    const tolerance = { amount: '0', energyKwh: '0', timeSeconds: '1' };
    // 1 s = 0.000277… h: 0.0002 h (0.72 s) is within, 0.0003 h (1.08 s) is not.
    // Their hours to 4 decimals like ours: no widening (precision.ts).
    expect(reconcile([cdr('A', '7', '20', { timeHours: '1.0002' })], [cdr('A', '7', '20', { timeHours: '1.0000' })], tolerance).timeMismatches).toEqual([]);
    const result = reconcile([cdr('A', '7', '20', { timeHours: '1.0003' })], [cdr('A', '7', '20', { timeHours: '1.0000' })], tolerance);
    expect(result.timeMismatches).toEqual([{ ourCdrId: 'A', theirCdrId: 'A', ours: '1.0003', theirs: '1', difference: '0.0003' }]);
    expect(result.matched[0]!.differences.map((difference) => difference.field)).toEqual(['timeHours']);
    expect(reconcile([cdr('A', '7', '20', { timeHours: '1' })], [cdr('A')], tolerance).timeNotCompared).toEqual([{ ourCdrId: 'A', theirCdrId: 'A', lacking: 'theirs' }]);
  });

  it('names every differing field of a pair, in order', () => {
    const ours = cdr('A', '7.00', '20', { amountInclVat: '8.47', timeHours: '1' });
    const theirs = cdr('A', '7.10', '21', { amountInclVat: '8.59', timeHours: '1.5' });
    expect(reconcile([ours], [theirs], defaultReconciliationTolerance).matched[0]!.differences.map((difference) => difference.field)).toEqual([
      'amount', 'amountInclVat', 'energyKwh', 'timeHours',
    ]);
  });

  it('defaults: money exact, energy within 1 Wh, time within 1 s', () => {
    expect(defaultReconciliationTolerance).toEqual({ amount: '0', energyKwh: '0.001', timeSeconds: '1' });
    const result = reconcile([cdr('A', '7.00', '20.0004', { timeHours: '1.0001' })], [cdr('A', '7.00', '20.0000', { timeHours: '1.0000' })], defaultReconciliationTolerance);
    expect(reconciliationIsClean(result)).toBe(true);
    expect(reconcile([cdr('A', '7.00', '20.0011')], [cdr('A', '7.00', '20.000')], defaultReconciliationTolerance).energyMismatches).toHaveLength(1);
  });

  it("widens time and energy to half the statement's last decimal when coarser than the tolerance (1.25 h vs our 1.2483)", () => {
    const ours = [cdr('A', '7.00', '20.0034', { timeHours: '1.2483' }), cdr('B', '7.00', '20', { timeHours: '1.2449' })];
    const theirs = [cdr('A', '7.00', '20.00', { timeHours: '1.25' }), cdr('B', '7.00', '20', { timeHours: '1.25' })];
    const result = reconcile(ours, theirs, defaultReconciliationTolerance);
    // Time to 2 decimals: ±0.005 h = 18 s; energy to 2 decimals: ±0.005 kWh.
    expect(result.tolerance).toEqual({ amount: '0', energyKwh: '0.005', timeSeconds: '18' });
    expect(result.widened).toEqual({ energyKwh: { decimals: 2, tolerance: '0.005' }, timeHours: { decimals: 2, tolerance: '18' } });
    expect(ids(result.matched.filter((pair) => pair.differences.length > 0).map((pair) => pair.ours))).toEqual(['B']);
    expect(result.timeMismatches).toEqual([{ ourCdrId: 'B', theirCdrId: 'B', ours: '1.2449', theirs: '1.25', difference: '-0.0051' }]);
  });

  it("takes a field's precision from its finest row (20 beside 20.35 is 20.00), and never widens money or a finer statement", () => {
    const theirs = [cdr('A', '7', '20', { timeHours: '1.0002' }), cdr('B', '7', '20.35')];
    const result = reconcile([cdr('A', '7.30', '20.004', { timeHours: '1' }), cdr('B', '7', '20.35')], theirs, defaultReconciliationTolerance);
    expect(result.widened).toEqual({ energyKwh: { decimals: 2, tolerance: '0.005' }, timeHours: null });
    expect(result.tolerance).toEqual({ amount: '0', energyKwh: '0.005', timeSeconds: '1' });
    expect(result.matched[0]!.differences.map((difference) => difference.field)).toEqual(['amount']);
  });

  it('nets incl VAT and time of a credit into its original, and leaves them unstated if one CDR lacks them', () => {
    const a = cdr('A', '7.00', '20', { amountInclVat: '8.47', timeHours: '1' });
    const both = reconcile([a, creditOf(a)], [a, creditOf(a)], exact);
    expect(both.matched.map((pair) => [pair.ours.amountInclVat?.toFixed(), pair.ours.timeHours?.toFixed()])).toEqual([['0', '0']]);
    const partial = reconcile([a, { ...creditOf(a), amountInclVat: null }], [a], exact);
    expect(partial.matched[0]!.ours.amountInclVat).toBeNull();
  });

  it('lists duplicates on either side and counts only the first', () => {
    const result = reconcile([cdr('A'), cdr('A'), cdr('B')], [cdr('A'), cdr('B', '9.00'), cdr('B')], exact);
    expect(result.duplicatesOnOurSide).toEqual(['A']);
    expect(result.duplicatesOnTheirSide).toEqual(['B']);
    expect(result.matched).toHaveLength(2);
    expect(result.amountMismatches.map((m) => m.ourCdrId)).toEqual(['B']);
  });

  it('a double charge on their side (A 7.00, A 9.00) is not clean, and the row with other figures is marked', () => {
    const result = reconcile([cdr('A'), cdr('B')], [cdr('A', '7.00'), cdr('A', '9.00'), cdr('B')], exact);
    expect(result.matched.every((pair) => pair.differences.length === 0)).toBe(true);
    expect(reconciliationIsClean(result)).toBe(false);
    expect(result.duplicateRowsOnTheirSide).toMatchObject([{ cdrId: 'A', index: 1, row: { amount: '9.00' }, first: { amount: '7.00' }, differsIn: ['amount'] }]);
    expect(result.duplicateRowsOnOurSide).toEqual([]);
  });

  it('a row repeated with the same figures (however written) is not clean either, and is not marked as differing', () => {
    const result = reconcile([cdr('A'), cdr('A', '7')], [cdr('A', '7.00', '20.0', { startDateTime: '2025-03-01T11:00:00+01:00' })], exact);
    expect(reconciliationIsClean(result)).toBe(false);
    expect(result.duplicateRowsOnOurSide).toMatchObject([{ cdrId: 'A', index: 1, differsIn: [] }]);
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
    expect(() => reconcile([], [], { amount: '-0.01', energyKwh: '0', timeSeconds: '0' })).toThrow(InvalidCommandError);
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
      amountInclVat: '-8.47',
      energyKwh: '-20',
      timeHours: '-1',
      creditReferenceId: 'CDR-1',
    });
    expect(reconcile([cdrSummaryOf(original), cdrSummaryOf(credit)], [], exact).nettedToZero).toHaveLength(1);
  });

  it('records the tolerances, the fields compared and the per-field mismatches in the event', () => {
    const ours = [cdr('A', '7.00', '20', { amountInclVat: '8.47', timeHours: '1' }), cdr('B', '7.00', '20', { amountInclVat: '8.47' })];
    const theirs = [cdr('A', '7.00', '20', { amountInclVat: '8.40', timeHours: '1.5' }), cdr('B')];
    const event = reconciledEvent(ours, theirs, defaultReconciliationTolerance, '2025-04-01T00:00:00.000Z');
    expect(event.schemaVersion).toBe(3);
    expect(event.data).toMatchObject({
      tolerance: { amount: '0', energyKwh: '0.001', timeSeconds: '1' },
      // Their energy in whole kWh and time to 1 decimal: the configured tolerance is kept, the one used beside it.
      widenedTolerance: { energyKwh: { decimals: 0, tolerance: '0.5' }, timeHours: { decimals: 1, tolerance: '180' } },
      differingDuplicates: { ourSide: [], theirSide: [] },
      compared: ['amount', 'amountInclVat', 'energyKwh', 'timeHours'],
      counts: { matched: 2, amountMismatches: 0, amountInclVatMismatches: 1, timeMismatches: 1, amountInclVatNotCompared: 1, timeNotCompared: 1 },
      amountInclVatMismatches: [{ ourCdrId: 'A', ours: '8.47', theirs: '8.4', difference: '0.07' }],
      timeMismatches: [{ ourCdrId: 'A', ours: '1', theirs: '1.5', difference: '-0.5' }],
      amountInclVatNotCompared: [{ ourCdrId: 'B', lacking: 'theirs' }],
      timeNotCompared: [{ ourCdrId: 'B', lacking: 'both' }],
    });
  });

  it('records which duplicate ids state other figures than their first row', () => {
    const event = reconciledEvent([cdr('A'), cdr('B')], [cdr('A'), cdr('A', '9.00'), cdr('B'), cdr('B')], exact, '2025-04-01T00:00:00.000Z');
    expect(event.data).toMatchObject({ counts: { duplicatesOnTheirSide: 2 }, duplicatesOnTheirSide: ['A', 'B'], differingDuplicates: { ourSide: [], theirSide: ['A'] } });
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
