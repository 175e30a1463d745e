import type { OcpiCdr } from './ocpi.js';

/**
 * Commands to the `cdr` aggregate. The CDR comes priced (tariff engine) with its id chosen by the
 * handler; times are ISO-8601 with a zone, passed in (deciders read no clock).
 */

export interface IssueCdr {
  readonly type: 'IssueCdr';
  readonly cdr: OcpiCdr;
  readonly transactionId: string;
  readonly tenantId: string;
  readonly tariffVersionId: string | null;
  /** For a corrected CDR (see ReissueCdr): the CDR it replaces. */
  readonly replacesCdrId?: string | null;
}

/**
 * Sent to the ORIGINAL CDR's stream. The handler then issues `creditCdrFrom(original, creditCdrId,
 * creditedAt)` on the credit CDR's own stream (IssueCdr).
 */
export interface CreditCdr {
  readonly type: 'CreditCdr';
  readonly creditCdrId: string;
  readonly creditedAt: string;
  readonly reason?: string | null;
}

/**
 * Credit and replace: sent to the ORIGINAL CDR's stream; the handler then issues the credit CDR
 * and the corrected CDR (IssueCdr with replacesCdrId = the original's id).
 */
export interface ReissueCdr {
  readonly type: 'ReissueCdr';
  readonly creditCdrId: string;
  readonly replacementCdrId: string;
  readonly reissuedAt: string;
  readonly reason?: string | null;
}

export type CdrCommand = IssueCdr | CreditCdr | ReissueCdr;

export const cdrCommandTypes = ['IssueCdr', 'CreditCdr', 'ReissueCdr'] as const satisfies readonly CdrCommand['type'][];
