import type { CdrSummary } from './events.js';
import type { ReconciliationTolerance } from './reconcile.js';

/**
 * Commands to the `settlement` aggregate (one partner, one month). Amounts are decimal strings in
 * the period's currency; times are ISO-8601 with a zone.
 */

export interface OpenSettlementPeriod {
  readonly type: 'OpenSettlementPeriod';
  readonly partner: string;
  readonly period: string;
  readonly currency: string;
  readonly openedAt: string;
}

export interface IncludeCdr {
  readonly type: 'IncludeCdr';
  /** `cdrSummaryOf(issued)` of an issued CDR (or credit CDR), incl VAT and time included. */
  readonly cdr: CdrSummary;
  readonly currency: string;
  readonly includedAt: string;
}

export interface CloseSettlementPeriod {
  readonly type: 'CloseSettlementPeriod';
  readonly closedAt: string;
}

export interface DisputeSettlement {
  readonly type: 'DisputeSettlement';
  readonly reason: string;
  readonly disputedAt: string;
}

export interface AdjustSettlement {
  readonly type: 'AdjustSettlement';
  /** The ledger entry that posts the adjustment. */
  readonly adjustmentEntryId: string;
  /** Signed: positive when the partner owes more. */
  readonly amount: string;
  readonly reason: string;
  readonly adjustedAt: string;
}

export interface AcceptCdr {
  readonly type: 'AcceptCdr';
  readonly cdrId: string;
  readonly acceptedAt: string;
}

export interface RejectCdr {
  readonly type: 'RejectCdr';
  readonly cdrId: string;
  readonly reason: string;
  readonly rejectedAt: string;
}

export interface ApproveCdr {
  readonly type: 'ApproveCdr';
  readonly cdrId: string;
  readonly approvedAt: string;
}

export interface DeclineCdr {
  readonly type: 'DeclineCdr';
  readonly cdrId: string;
  readonly reason: string;
  readonly declinedAt: string;
}

export interface ReviseCdr {
  readonly type: 'ReviseCdr';
  readonly cdrId: string;
  readonly amount: string;
  readonly amountInclVat: string | null;
  readonly energyKwh: string;
  readonly reason: string;
  readonly revisedAt: string;
}

/** Reconciles the period's CDRs (ours: as included and revised) against the partner's list. */
export interface ReconcileSettlement {
  readonly type: 'ReconcileSettlement';
  readonly theirs: readonly CdrSummary[];
  readonly tolerance: ReconciliationTolerance;
  readonly reconciledAt: string;
}

export type SettlementCommand =
  | OpenSettlementPeriod
  | IncludeCdr
  | CloseSettlementPeriod
  | DisputeSettlement
  | AdjustSettlement
  | AcceptCdr
  | RejectCdr
  | ApproveCdr
  | DeclineCdr
  | ReviseCdr
  | ReconcileSettlement;

export const settlementCommandTypes = [
  'OpenSettlementPeriod',
  'IncludeCdr',
  'CloseSettlementPeriod',
  'DisputeSettlement',
  'AdjustSettlement',
  'AcceptCdr',
  'RejectCdr',
  'ApproveCdr',
  'DeclineCdr',
  'ReviseCdr',
  'ReconcileSettlement',
] as const satisfies readonly SettlementCommand['type'][];
