import { assertNever, invariant } from '../shared/assert.js';
import type { CdrSummary, SettlementEvent, SettlementEventData } from './events.js';

/** e-clearing review of one CDR: pending → accepted → approved; rejected / declined → revised → pending. */
export type CdrReviewStatus = 'pending' | 'accepted' | 'rejected' | 'approved' | 'declined';

export interface SettlementCdr {
  readonly summary: CdrSummary;
  readonly status: CdrReviewStatus;
  readonly included: SettlementEventData<'CdrIncluded'>;
  /** Position of inclusion (0-based): lists keep it through revisions. */
  readonly index: number;
}

/**
 * CDR records, newest first, as a persistent list: a change to a CDR pushes its new record, which
 * shadows the older ones. Evolve is O(1) and copies nothing (a period of 100,000 CDRs folds in
 * linear time); decide walks the list.
 */
export interface CdrRecordList {
  readonly record: SettlementCdr;
  readonly previous: CdrRecordList | null;
}

export type PeriodStatus = 'open' | 'closed' | 'disputed';

export type SettlementState =
  | { readonly status: 'none' }
  | {
      readonly status: PeriodStatus;
      readonly opened: SettlementEventData<'SettlementPeriodOpened'>;
      readonly cdrs: CdrRecordList | null;
      readonly cdrCount: number;
      readonly closed: SettlementEventData<'SettlementPeriodClosed'> | null;
      readonly adjustments: readonly SettlementEventData<'SettlementAdjusted'>[];
      readonly lastReconciliation: SettlementEventData<'SettlementReconciled'> | null;
    };
export type OpenedSettlement = Exclude<SettlementState, { status: 'none' }>;

export const initialSettlementState = (): SettlementState => ({ status: 'none' });

/** The current record of each CDR, in order of inclusion. */
export function currentCdrs(state: SettlementState): SettlementCdr[] {
  if (state.status === 'none') return [];
  const seen = new Set<string>();
  const records: SettlementCdr[] = [];
  for (let node = state.cdrs; node !== null; node = node.previous) {
    if (seen.has(node.record.summary.cdrId)) continue;
    seen.add(node.record.summary.cdrId);
    records.push(node.record);
  }
  return records.sort((a, b) => a.index - b.index);
}

export function findCdr(state: SettlementState, cdrId: string): SettlementCdr | undefined {
  if (state.status === 'none') return undefined;
  for (let node = state.cdrs; node !== null; node = node.previous) if (node.record.summary.cdrId === cdrId) return node.record;
  return undefined;
}

function withRecord(state: OpenedSettlement, cdrId: string, change: (record: SettlementCdr) => SettlementCdr): OpenedSettlement {
  const record = findCdr(state, cdrId);
  invariant(record !== undefined, `settlement event for a CDR never included: ${cdrId}`);
  return { ...state, cdrs: { record: change(record), previous: state.cdrs } };
}

export function evolveSettlement(state: SettlementState, event: SettlementEvent): SettlementState {
  if (event.type === 'SettlementPeriodOpened') {
    invariant(state.status === 'none', 'settlement period opened twice');
    return { status: 'open', opened: event.data, cdrs: null, cdrCount: 0, closed: null, adjustments: [], lastReconciliation: null };
  }
  invariant(state.status !== 'none', `${event.type} before SettlementPeriodOpened`);
  switch (event.type) {
    case 'CdrIncluded': {
      invariant(state.status === 'open', `CdrIncluded on a ${state.status} period`);
      const { includedAt: _at, ...summary } = event.data;
      const record: SettlementCdr = { summary, status: 'pending', included: event.data, index: state.cdrCount };
      return { ...state, cdrs: { record, previous: state.cdrs }, cdrCount: state.cdrCount + 1 };
    }
    case 'SettlementPeriodClosed':
      return { ...state, status: 'closed', closed: event.data };
    case 'SettlementDisputed':
      return { ...state, status: 'disputed' };
    case 'SettlementAdjusted':
      return { ...state, status: 'closed', adjustments: [...state.adjustments, event.data] };
    case 'CdrAccepted':
      return withRecord(state, event.data.cdrId, (record) => ({ ...record, status: 'accepted' }));
    case 'CdrRejected':
      return withRecord(state, event.data.cdrId, (record) => ({ ...record, status: 'rejected' }));
    case 'CdrApproved':
      return withRecord(state, event.data.cdrId, (record) => ({ ...record, status: 'approved' }));
    case 'CdrDeclined':
      return withRecord(state, event.data.cdrId, (record) => ({ ...record, status: 'declined' }));
    case 'CdrRevised': {
      const { amount, amountInclVat, energyKwh } = event.data;
      // A revision restates the money and energy; the session's time is what it was.
      return withRecord(state, event.data.cdrId, (record) => ({ ...record, summary: { ...record.summary, amount, amountInclVat, energyKwh }, status: 'pending' }));
    }
    case 'SettlementReconciled':
      return { ...state, lastReconciliation: event.data };
    default:
      return assertNever(event, 'settlement event');
  }
}
