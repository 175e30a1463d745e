import { describe, expect, it } from 'vitest';
import { defaultReconciliationTolerance, reconcile } from '../../domain/settlement/reconcile.js';
import type { CdrSummary } from '../../domain/settlement/events.js';
import { CliError } from './run.js';
import { statementByCurrency } from './settlement-reconcile.js';
import { reconciliationReport } from './settlement-report.js';
import type { StatementRow } from './settlement-statement.js';

const cdr = (cdrId: string, amount = '7.00', extra: Partial<CdrSummary> = {}): CdrSummary => ({
  cdrId, sessionId: null, startDateTime: '2025-03-01T10:00:00Z', amount, amountInclVat: null, energyKwh: '20.0000', timeHours: null, creditReferenceId: null, ...extra,
});
const row = (summary: CdrSummary, currency: string | null, line: number): StatementRow => ({ summary, currency, where: `line ${line}` });
const label = 'DE-EMP 2025-03';

describe('settlement reconcile: one period per currency', () => {
  it("puts a CHF statement against our EUR CDRs in a CHF period of its own, and flags it (never 'clean')", () => {
    const plan = statementByCurrency(new Map([['A', 'EUR']]), [row(cdr('A'), 'CHF', 2)], undefined, label);
    expect(plan.currencies).toEqual(['CHF', 'EUR']);
    expect(plan.theirs.get('EUR')).toEqual([]);
    expect(plan.theirs.get('CHF')!.map((summary) => summary.cdrId)).toEqual(['A']);
    expect(plan.flags).toEqual([
      'currency CHF: their statement bills 1 CDR(s) in CHF; we have none of DE-EMP 2025-03 in CHF',
      'currency: their line 2 bills A in CHF; we issued it in EUR',
    ]);
  });

  it('splits a statement in two currencies by row, against our CDRs in both: nothing to flag', () => {
    const plan = statementByCurrency(new Map([['A', 'EUR'], ['B', 'CHF']]), [row(cdr('A'), 'EUR', 2), row(cdr('B'), 'CHF', 3)], undefined, label);
    expect([...plan.theirs.entries()].map(([currency, rows]) => [currency, rows.map((summary) => summary.cdrId)])).toEqual([['CHF', ['B']], ['EUR', ['A']]]);
    expect(plan.flags).toEqual([]);
  });

  it('reads rows that state no currency in --currency, else in our one currency, else EUR; refuses the guess between two', () => {
    expect(statementByCurrency(new Map([['A', 'CHF']]), [row(cdr('A'), null, 2)], undefined, label).theirs.get('CHF')).toHaveLength(1);
    expect(statementByCurrency(new Map(), [row(cdr('A'), null, 2)], undefined, label).currencies).toEqual(['EUR']);
    expect(statementByCurrency(new Map(), [], 'CHF', label).currencies).toEqual(['CHF']);
    const both = new Map([['A', 'EUR'], ['B', 'CHF']]);
    expect(() => statementByCurrency(both, [row(cdr('A'), null, 2)], undefined, label)).toThrow(CliError);
    expect(() => statementByCurrency(both, [row(cdr('A'), null, 2)], undefined, label)).toThrow(/states no currency \(line 2\) and our CDRs of DE-EMP 2025-03 are in CHF and EUR/);
    expect(statementByCurrency(both, [row(cdr('A'), null, 2)], 'EUR', label).flags).toEqual([]);
  });
});

describe('settlement reconcile: the report', () => {
  const reported = { partner: 'DE-EMP', period: '2025-03', currency: 'EUR', ours: [cdr('A'), cdr('B')] };

  it('prints a double charge on their side, marks the row with other figures, and counts it in the summary', () => {
    const result = reconcile([cdr('A'), cdr('B')], [cdr('A', '7.00'), cdr('A', '9.00'), cdr('B'), cdr('B')], defaultReconciliationTolerance);
    const lines = reconciliationReport(result, defaultReconciliationTolerance, reported);
    expect(lines).toContainEqual(expect.stringMatching(/^-\s+A\s+duplicate on their side\s+excl_vat\s+-\s+9\.00\s+OTHER FIGURES than its first row \(excl_vat 7\.00 first\)$/));
    expect(lines).toContainEqual(expect.stringMatching(/^-\s+B\s+duplicate on their side\s+excl_vat\s+-\s+7\.00\s+same figures as its first row$/));
    expect(lines.at(-1)).toMatch(/^DE-EMP 2025-03 EUR: 2 paired \(2 matched\), .*; duplicate rows: 2 on their side \(1 with other figures\), 0 on ours$/);
  });

  it('says when the statement precision widened a tolerance, and which CDRs were settled after their month closed', () => {
    const ours = [cdr('A', '7.00', { timeHours: '1.2483' }), cdr('A-CR', '-7.00', { startDateTime: '2025-02-27T10:00:00Z', creditReferenceId: 'X' })];
    const result = reconcile(ours, [cdr('A', '7.00', { timeHours: '1.25' })], defaultReconciliationTolerance);
    const lines = reconciliationReport(result, defaultReconciliationTolerance, { ...reported, ours });
    expect(lines[0]).toBe('tolerances (inclusive): money ±0 EUR (excl. and incl. VAT), energy ±0.001 kWh, time ±1 s');
    expect(lines[1]).toBe('their statement states time_h to 2 decimals: time tolerance widened to ±18 s (half its last decimal)');
    expect(lines).toContainEqual(expect.stringMatching(/^A\s+A\s+matched\s+excl_vat\s+7\s+7\s+0\s/));
    expect(lines).toContain("settled here after their own month's period closed: A-CR (started 2025-02)");
  });
});
