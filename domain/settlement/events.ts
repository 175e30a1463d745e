import { z } from 'zod';
import { currencyCode, decimalString, nonNegativeDecimal } from '../cdr/money.js';
import { ocpiDateTime } from '../cdr/ocpi.js';
import { defineEvent, type EventOf } from '../shared/event-definition.js';
import { isoTimestamp } from '../shared/values.js';

/**
 * Events of the `settlement` aggregate: one stream per partner and month,
 * `settlement-<tenantId>-<partner>:<YYYY-MM>`. A period is opened, CDRs are included while it is
 * open, then it is closed with its totals; a closed period can be disputed and adjusted, and is
 * reconciled against the partner's own list. Each included CDR goes through the e-clearing review
 * states: accepted or rejected by the partner, then approved or declined; a rejected or declined
 * CDR is revised and reviewed again.
 */

export const settlementAggregateType = 'settlement';

export const periodSchema = z.string().regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'a period YYYY-MM');
/** OCPI party: country code and party id, e.g. "DE-EMP". */
export const partnerSchema = z.string().regex(/^[A-Z]{2}-[A-Z0-9]{3}$/, 'a partner as <country>-<party id>, e.g. "DE-EMP"');
const cdrId = z.string().min(1).max(39);
const reason = z.string().min(1).max(500);

/** Bounds (docs/style.md: a limit on everything). */
export const cdrsPerPeriodMax = 200_000;
/** Items of each list a SettlementReconciled event keeps; the counts are always complete. */
export const reconciliationItemsMax = 1_000;

/**
 * What settlement needs of a CDR. `amount` is total_cost excl VAT (what partners settle; VAT is
 * declared by each side in its own jurisdiction), negative on a credit CDR like energy.
 */
export const cdrSummarySchema = z.object({
  cdrId,
  sessionId: z.string().min(1).max(36).nullable(),
  startDateTime: ocpiDateTime,
  amount: decimalString,
  energyKwh: decimalString,
  /** Set on a credit CDR: the CDR it credits. */
  creditReferenceId: cdrId.nullable(),
});
export type CdrSummary = z.infer<typeof cdrSummarySchema>;

export const SettlementPeriodOpened = defineEvent({
  type: 'SettlementPeriodOpened',
  aggregateType: settlementAggregateType,
  schemaVersion: 1,
  schema: z.object({ partner: partnerSchema, period: periodSchema, currency: currencyCode, openedAt: isoTimestamp }),
});

export const CdrIncluded = defineEvent({
  type: 'CdrIncluded',
  aggregateType: settlementAggregateType,
  schemaVersion: 1,
  schema: cdrSummarySchema.extend({ amountInclVat: decimalString.nullable(), includedAt: isoTimestamp }),
});

export const SettlementPeriodClosed = defineEvent({
  type: 'SettlementPeriodClosed',
  aggregateType: settlementAggregateType,
  schemaVersion: 1,
  schema: z.object({
    closedAt: isoTimestamp,
    cdrCount: z.number().int().min(0),
    /** Sums over every included CDR, credits netting: excl VAT, incl VAT (excl where none), kWh. */
    totalAmount: decimalString,
    totalAmountInclVat: decimalString,
    totalEnergyKwh: decimalString,
  }),
});

export const SettlementDisputed = defineEvent({
  type: 'SettlementDisputed',
  aggregateType: settlementAggregateType,
  schemaVersion: 1,
  schema: z.object({ reason, disputedAt: isoTimestamp }),
});

/** A correction after close, posted in the ledger as entry `adjustmentEntryId`; settles a dispute. */
export const SettlementAdjusted = defineEvent({
  type: 'SettlementAdjusted',
  aggregateType: settlementAggregateType,
  schemaVersion: 1,
  schema: z.object({ adjustmentEntryId: z.string().min(1).max(128), amount: decimalString, reason, adjustedAt: isoTimestamp }),
});

export const CdrAccepted = defineEvent({
  type: 'CdrAccepted',
  aggregateType: settlementAggregateType,
  schemaVersion: 1,
  schema: z.object({ cdrId, acceptedAt: isoTimestamp }),
});

export const CdrRejected = defineEvent({
  type: 'CdrRejected',
  aggregateType: settlementAggregateType,
  schemaVersion: 1,
  schema: z.object({ cdrId, reason, rejectedAt: isoTimestamp }),
});

export const CdrApproved = defineEvent({
  type: 'CdrApproved',
  aggregateType: settlementAggregateType,
  schemaVersion: 1,
  schema: z.object({ cdrId, approvedAt: isoTimestamp }),
});

export const CdrDeclined = defineEvent({
  type: 'CdrDeclined',
  aggregateType: settlementAggregateType,
  schemaVersion: 1,
  schema: z.object({ cdrId, reason, declinedAt: isoTimestamp }),
});

/** New amounts for a rejected or declined CDR; it goes back to review. */
export const CdrRevised = defineEvent({
  type: 'CdrRevised',
  aggregateType: settlementAggregateType,
  schemaVersion: 1,
  schema: z.object({ cdrId, amount: decimalString, amountInclVat: decimalString.nullable(), energyKwh: decimalString, reason, revisedAt: isoTimestamp }),
});

const mismatchSchema = z.object({ ourCdrId: cdrId, theirCdrId: cdrId, ours: decimalString, theirs: decimalString, difference: decimalString });

export const SettlementReconciled = defineEvent({
  type: 'SettlementReconciled',
  aggregateType: settlementAggregateType,
  schemaVersion: 1,
  schema: z.object({
    reconciledAt: isoTimestamp,
    tolerance: z.object({ amount: nonNegativeDecimal, energyKwh: nonNegativeDecimal }),
    counts: z.object({
      ours: z.number().int().min(0),
      theirs: z.number().int().min(0),
      matched: z.number().int().min(0),
      missingOnOurSide: z.number().int().min(0),
      missingOnTheirSide: z.number().int().min(0),
      amountMismatches: z.number().int().min(0),
      energyMismatches: z.number().int().min(0),
      duplicatesOnOurSide: z.number().int().min(0),
      duplicatesOnTheirSide: z.number().int().min(0),
    }),
    missingOnOurSide: z.array(cdrId).max(reconciliationItemsMax),
    missingOnTheirSide: z.array(cdrId).max(reconciliationItemsMax),
    amountMismatches: z.array(mismatchSchema).max(reconciliationItemsMax),
    energyMismatches: z.array(mismatchSchema).max(reconciliationItemsMax),
    duplicatesOnOurSide: z.array(cdrId).max(reconciliationItemsMax),
    duplicatesOnTheirSide: z.array(cdrId).max(reconciliationItemsMax),
    /** Some list was cut at reconciliationItemsMax; the counts are not. */
    truncated: z.boolean(),
  }),
});

/** Registry entries for domain/events.ts. */
export const settlementEventDefinitions = [
  SettlementPeriodOpened,
  CdrIncluded,
  SettlementPeriodClosed,
  SettlementDisputed,
  SettlementAdjusted,
  CdrAccepted,
  CdrRejected,
  CdrApproved,
  CdrDeclined,
  CdrRevised,
  SettlementReconciled,
] as const;

export type SettlementEvent = EventOf<(typeof settlementEventDefinitions)[number]>;
export type SettlementEventType = SettlementEvent['type'];
export type SettlementEventData<T extends SettlementEventType> = Extract<SettlementEvent, { type: T }>['data'];
