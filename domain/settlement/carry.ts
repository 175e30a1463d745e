import { periodSchema } from './events.js';
import { currentCdrs, type SettlementState } from './state.js';

/**
 * CDRs that reach us after their period closed. A period includes the CDRs that started in its
 * month (UTC) while it is open; a CDR issued after the close (a credit CDR keeps its original's
 * start, a CDR issued late) would otherwise join no period. The rule: such a CDR is settled in the
 * next period of the same partner and currency that is still open when it is there, the first one
 * filled after it arrived. A period is filled in month order after those before it closed, so the
 * period of month P carries a CDR that started in an earlier month M when the periods of M and of
 * every month since are closed and none of them includes it. An included CDR is never moved and a
 * closed period never changes, so each CDR is settled exactly once; a carried CDR keeps its own
 * start, so the report can say where it came from.
 */

/** How far back a filling looks for closed periods: a CDR arriving later than this is not carried. */
export const lateCdrMonthsMax = 12;

/** The YYYY-MM `count` months before `period` (count ≥ 0). */
export function monthBefore(period: string, count: number): string {
  const [year, month] = periodSchema.parse(period).split('-').map(Number) as [number, number];
  const index = year * 12 + (month - 1) - count;
  return `${String(Math.floor(index / 12)).padStart(4, '0')}-${String((index % 12) + 1).padStart(2, '0')}`;
}

/** The UTC month (YYYY-MM) a CDR started in. */
export const monthOf = (startDateTime: string): string => new Date(Date.parse(startDateTime)).toISOString().slice(0, 7);

/** Whether the period is closed (disputed included): it includes no more CDRs. */
export const isClosedPeriod = (state: SettlementState | undefined): boolean => state !== undefined && (state.status === 'closed' || state.status === 'disputed');

/**
 * The months right before `period` whose periods are all closed, newest first: the run that ends
 * at the first month not closed (none or open) or at lateCdrMonthsMax. `stateOf` gives a month's
 * period (undefined: never opened); it is asked newest first and no further than needed.
 */
export function closedMonthsBefore(period: string, stateOf: (month: string) => SettlementState | undefined): string[] {
  const months: string[] = [];
  for (let back = 1; back <= lateCdrMonthsMax; back += 1) {
    const month = monthBefore(period, back);
    if (!isClosedPeriod(stateOf(month))) break;
    months.push(month);
  }
  return months;
}

export interface LateCandidate {
  readonly cdrId: string;
  readonly startDateTime: string;
}

/**
 * Which of `candidates` (CDRs of the partner and currency that started before `period`) the period
 * carries: those that started in one of `closedMonths` (closedMonthsBefore) and that none of those
 * months' periods includes. `closed` holds those periods, by month.
 */
export function carriedCdrIds(closedMonths: readonly string[], closed: ReadonlyMap<string, SettlementState>, candidates: readonly LateCandidate[]): string[] {
  const months = new Set(closedMonths);
  const included = new Set<string>();
  for (const month of closedMonths) for (const cdr of currentCdrs(closed.get(month) ?? { status: 'none' })) included.add(cdr.summary.cdrId);
  return candidates.filter((candidate) => months.has(monthOf(candidate.startDateTime)) && !included.has(candidate.cdrId)).map((candidate) => candidate.cdrId);
}
