import { z } from 'zod';
import { currencyCode, decimalString, nonNegativeDecimal } from '../cdr/money.js';
import { ocpiDateTime } from '../cdr/ocpi.js';
import { defineEvent, type EventOf } from '../shared/event-definition.js';
import { isoTimestamp } from '../shared/values.js';

/**
 * Events of the `settlement` aggregate: one stream per partner, month and currency,
 * `settlement-<tenantId>-<partner>:<YYYY-MM>:<currency>` (a period opened before periods were per
 * currency is `<partner>:<YYYY-MM>`, in the currency it was opened in). A period is opened, CDRs are included while it is
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

/** The summary as CdrIncluded v1 stored it: no time, incl VAT kept beside it. */
const cdrSummaryV1Schema = z.object({
  cdrId,
  sessionId: z.string().min(1).max(36).nullable(),
  startDateTime: ocpiDateTime,
  amount: decimalString,
  energyKwh: decimalString,
  /** Set on a credit CDR: the CDR it credits. */
  creditReferenceId: cdrId.nullable(),
});

/**
 * What settlement needs of a CDR, ours or a partner's. `amount` is total_cost excl VAT (what
 * partners settle), `amountInclVat` total_cost incl VAT (what the driver pays), `timeHours`
 * total_time; all signed like energy (negative on a credit CDR). `amountInclVat` and `timeHours`
 * are null where the side did not state them (OCPI makes incl_vat optional; a partner statement
 * may leave them out; CDRs included before v2 did not keep the time): such a field is not compared.
 */
export const cdrSummarySchema = cdrSummaryV1Schema.extend({
  amountInclVat: decimalString.nullable(),
  timeHours: decimalString.nullable(),
});
export type CdrSummary = z.infer<typeof cdrSummarySchema>;

/** The figures reconciliation compares for each pair of CDRs (a summary's field names). */
export const comparedFields = ['amount', 'amountInclVat', 'energyKwh', 'timeHours'] as const;
export type ComparedField = (typeof comparedFields)[number];

export const SettlementPeriodOpened = defineEvent({
  type: 'SettlementPeriodOpened',
  aggregateType: settlementAggregateType,
  schemaVersion: 1,
  schema: z.object({ partner: partnerSchema, period: periodSchema, currency: currencyCode, openedAt: isoTimestamp }),
});

const cdrIncludedV1 = cdrSummaryV1Schema.extend({ amountInclVat: decimalString.nullable(), includedAt: isoTimestamp });
const cdrIncludedV2 = cdrSummarySchema.extend({ includedAt: isoTimestamp });

/** v2 keeps the CDR's total_time, so reconciliation can compare it. */
export const CdrIncluded = defineEvent({
  type: 'CdrIncluded',
  aggregateType: settlementAggregateType,
  schemaVersion: 2,
  schema: cdrIncludedV2,
  upcasters: {
    // v1 did not keep the time: null (not known), never a guessed 0 that would read as a mismatch.
    1: { schema: cdrIncludedV1, up: (stored: unknown): z.infer<typeof cdrIncludedV2> => ({ ...cdrIncludedV1.parse(stored), timeHours: null }) },
  },
});

/** v1 summed excl VAT into the incl VAT total for a CDR that stated no incl VAT. */
const settlementPeriodClosedV1 = z.object({
  closedAt: isoTimestamp,
  cdrCount: z.number().int().min(0),
  totalAmount: decimalString,
  totalAmountInclVat: decimalString,
  totalEnergyKwh: decimalString,
});

const settlementPeriodClosedV2 = settlementPeriodClosedV1.extend({
  /** Sum of incl VAT over every included CDR, credits netting; null (not known) when a CDR states none. */
  totalAmountInclVat: decimalString.nullable(),
  /** CDRs that state no incl VAT (OCPI makes it optional); null on v1 events, which did not count them. */
  cdrsWithoutInclVat: z.number().int().min(0).nullable(),
});

/** Totals over every included CDR, credits netting: excl VAT, incl VAT, kWh. */
export const SettlementPeriodClosed = defineEvent({
  type: 'SettlementPeriodClosed',
  aggregateType: settlementAggregateType,
  schemaVersion: 2,
  schema: settlementPeriodClosedV2,
  upcasters: {
    // Kept as stored: a v1 total may hold excl VAT for some CDRs, which `cdrsWithoutInclVat: null` admits.
    1: { schema: settlementPeriodClosedV1, up: (stored: unknown): z.infer<typeof settlementPeriodClosedV2> => ({ ...settlementPeriodClosedV1.parse(stored), cdrsWithoutInclVat: null }) },
  },
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
/** A pair whose field was not compared because one side (or both) did not state it. */
const notComparedSchema = z.object({ ourCdrId: cdrId, theirCdrId: cdrId, lacking: z.enum(['ours', 'theirs', 'both']) });
const count = z.number().int().min(0);

const reconciledV1Counts = {
  ours: count,
  theirs: count,
  matched: count,
  missingOnOurSide: count,
  missingOnTheirSide: count,
  amountMismatches: count,
  energyMismatches: count,
  duplicatesOnOurSide: count,
  duplicatesOnTheirSide: count,
};
const reconciledV1Lists = {
  missingOnOurSide: z.array(cdrId).max(reconciliationItemsMax),
  missingOnTheirSide: z.array(cdrId).max(reconciliationItemsMax),
  amountMismatches: z.array(mismatchSchema).max(reconciliationItemsMax),
  energyMismatches: z.array(mismatchSchema).max(reconciliationItemsMax),
  duplicatesOnOurSide: z.array(cdrId).max(reconciliationItemsMax),
  duplicatesOnTheirSide: z.array(cdrId).max(reconciliationItemsMax),
  /** Some list was cut at reconciliationItemsMax; the counts are not. */
  truncated: z.boolean(),
};

/** v1 compared total_cost excl VAT and energy only. */
const settlementReconciledV1 = z.object({
  reconciledAt: isoTimestamp,
  tolerance: z.object({ amount: nonNegativeDecimal, energyKwh: nonNegativeDecimal }),
  counts: z.object(reconciledV1Counts),
  ...reconciledV1Lists,
});

const settlementReconciledV2 = z.object({
  reconciledAt: isoTimestamp,
  /**
   * Inclusive: |ours − theirs| ≤ tolerance is a match. `amount` (period currency) applies to
   * excl and incl VAT; `timeSeconds` is null only on v1 events, which did not compare time.
   */
  tolerance: z.object({ amount: nonNegativeDecimal, energyKwh: nonNegativeDecimal, timeSeconds: nonNegativeDecimal.nullable() }),
  /** The fields compared for every pair (v1: amount and energyKwh only). */
  compared: z.array(z.enum(comparedFields)).max(comparedFields.length),
  counts: z.object({ ...reconciledV1Counts, amountInclVatMismatches: count, timeMismatches: count, amountInclVatNotCompared: count, timeNotCompared: count }),
  ...reconciledV1Lists,
  /** total_cost incl VAT differs (the excl VAT figure may agree). */
  amountInclVatMismatches: z.array(mismatchSchema).max(reconciliationItemsMax),
  /** total_time differs; ours, theirs and difference in hours (OCPI's unit). */
  timeMismatches: z.array(mismatchSchema).max(reconciliationItemsMax),
  amountInclVatNotCompared: z.array(notComparedSchema).max(reconciliationItemsMax),
  timeNotCompared: z.array(notComparedSchema).max(reconciliationItemsMax),
});

const widenedSchema = z.object({ decimals: z.number().int(), tolerance: nonNegativeDecimal }).nullable();

const settlementReconciledV3 = settlementReconciledV2.extend({
  /**
   * Energy and time tolerances widened to the precision the statement states them to (half a unit
   * of its last decimal; time in seconds); null: the configured tolerance was used. Null on events
   * before v3, which did not widen.
   */
  widenedTolerance: z.object({ energyKwh: widenedSchema, timeHours: widenedSchema }),
  /** CDR ids given again on a side with other figures than their first row (a second charge); null before v3. */
  differingDuplicates: z.object({ ourSide: z.array(cdrId).max(reconciliationItemsMax), theirSide: z.array(cdrId).max(reconciliationItemsMax) }).nullable(),
});

/**
 * v2 compares incl VAT and time too, and says which pairs it could not compare; v3 says which
 * tolerances the statement's precision widened and which duplicates state other figures.
 */
export const SettlementReconciled = defineEvent({
  type: 'SettlementReconciled',
  aggregateType: settlementAggregateType,
  schemaVersion: 3,
  schema: settlementReconciledV3,
  upcasters: {
    1: {
      schema: settlementReconciledV1,
      up: (stored: unknown): z.infer<typeof settlementReconciledV2> => {
        const v1 = settlementReconciledV1.parse(stored);
        // `compared` says incl VAT and time were not looked at: their zero counts claim nothing.
        return {
          ...v1,
          tolerance: { ...v1.tolerance, timeSeconds: null },
          compared: ['amount', 'energyKwh'],
          counts: { ...v1.counts, amountInclVatMismatches: 0, timeMismatches: 0, amountInclVatNotCompared: 0, timeNotCompared: 0 },
          amountInclVatMismatches: [],
          timeMismatches: [],
          amountInclVatNotCompared: [],
          timeNotCompared: [],
        };
      },
    },
    2: {
      schema: settlementReconciledV2,
      up: (stored: unknown): z.infer<typeof settlementReconciledV3> => ({
        ...settlementReconciledV2.parse(stored),
        widenedTolerance: { energyKwh: null, timeHours: null },
        differingDuplicates: null,
      }),
    },
  },
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
