import { describe, expect, it } from 'vitest';
import { eventFrom } from '../shared/event-definition.js';
import { fold } from '../shared/decider.js';
import { carriedCdrIds, closedMonthsBefore, lateCdrMonthsMax, monthBefore, monthOf } from './carry.js';
import { CdrIncluded, SettlementPeriodClosed, SettlementPeriodOpened, type CdrSummary, type SettlementEvent } from './events.js';
import { settlementDecider } from './index.js';
import type { SettlementState } from './state.js';

const at = '2025-04-01T00:00:00.000Z';
const summary = (cdrId: string, startDateTime: string): CdrSummary => ({
  cdrId, sessionId: null, startDateTime, amount: '7.00', amountInclVat: null, energyKwh: '20', timeHours: null, creditReferenceId: null,
});
const periodOf = (period: string, status: 'open' | 'closed', cdrs: CdrSummary[] = []): SettlementState => {
  const events: SettlementEvent[] = [
    eventFrom(SettlementPeriodOpened, { partner: 'DE-EMP', period, currency: 'EUR', openedAt: at }),
    ...cdrs.map((cdr) => eventFrom(CdrIncluded, { ...cdr, includedAt: at })),
  ];
  if (status === 'closed') events.push(eventFrom(SettlementPeriodClosed, { closedAt: at, cdrCount: cdrs.length, totalAmount: '0', totalAmountInclVat: null, cdrsWithoutInclVat: 0, totalEnergyKwh: '0' }));
  return fold(settlementDecider, events);
};

describe('settlement: CDRs that arrive after their period closed', () => {
  it('counts months across years, and takes the UTC month of a start', () => {
    expect([monthBefore('2025-03', 1), monthBefore('2025-01', 1), monthBefore('2025-01', 13), monthBefore('2025-03', 0)]).toEqual(['2025-02', '2024-12', '2023-12', '2025-03']);
    expect(monthOf('2025-03-01T00:30:00+01:00')).toBe('2025-02');
  });

  it('carries a credit issued after its March period closed into April, and not again into May', () => {
    const march = periodOf('2025-03', 'closed', [summary('A', '2025-03-10T10:00:00Z')]);
    const credit = { cdrId: 'A-CR', startDateTime: '2025-03-10T10:00:00Z' };
    const original = { cdrId: 'A', startDateTime: '2025-03-10T10:00:00Z' };
    const april = new Map([['2025-03', march]]);
    expect(closedMonthsBefore('2025-04', (month) => april.get(month))).toEqual(['2025-03']);
    expect(carriedCdrIds(['2025-03'], april, [original, credit])).toEqual(['A-CR']);

    const may = new Map([...april, ['2025-04', periodOf('2025-04', 'closed', [summary('A-CR', '2025-03-10T10:00:00Z')])]]);
    const months = closedMonthsBefore('2025-05', (month) => may.get(month));
    expect(months).toEqual(['2025-04', '2025-03']);
    expect(carriedCdrIds(months, may, [original, credit])).toEqual([]);
  });

  it('leaves a late CDR to the next period while that one is not closed (periods are filled in month order)', () => {
    const states = new Map([['2025-03', periodOf('2025-03', 'closed')], ['2025-04', periodOf('2025-04', 'open')]]);
    expect(closedMonthsBefore('2025-05', (month) => states.get(month))).toEqual([]);
    expect(closedMonthsBefore('2025-04', (month) => states.get(month))).toEqual(['2025-03']);
    // A month never opened breaks the run too: its own filling will include the CDRs that started in it.
    expect(closedMonthsBefore('2025-06', (month) => (month === '2025-05' ? undefined : periodOf(month, 'closed')))).toEqual([]);
  });

  it('looks back at most lateCdrMonthsMax months', () => {
    const asked: string[] = [];
    const months = closedMonthsBefore('2025-04', (month) => {
      asked.push(month);
      return periodOf(month, 'closed');
    });
    expect(months).toHaveLength(lateCdrMonthsMax);
    expect(asked).toHaveLength(lateCdrMonthsMax);
    expect(months.at(-1)).toBe(monthBefore('2025-04', lateCdrMonthsMax));
  });
});
