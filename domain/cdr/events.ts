import { z } from 'zod';
import { defineEvent, type EventOf } from '../shared/event-definition.js';
import { isoTimestamp } from '../shared/values.js';
import { ocpiCdrSchema } from './ocpi.js';

/**
 * Events of the `cdr` aggregate, one stream per CDR: `cdr-<tenantId>-<cdrId>`. A CDR once issued
 * never changes (OCPI 2.2.1 §10: a CDR cannot be updated, only credited); what happens to it
 * afterwards (credited, reissued) is recorded on its stream, and the credit CDR and the corrected
 * CDR are CDRs of their own, each on its own stream.
 */

export const cdrAggregateType = 'cdr';

export const cdrIdSchema = z.string().min(1).max(39);

export const CdrIssued = defineEvent({
  type: 'CdrIssued',
  aggregateType: cdrAggregateType,
  schemaVersion: 1,
  schema: z.object({
    /** The OCPI CDR exactly as issued (and as pushed to the eMSP). */
    cdr: ocpiCdrSchema,
    /** Our links: the session it prices, the tenant (CPO) and the tariff version in force at start. */
    transactionId: z.string().min(1).max(64),
    tenantId: z.string().min(1).max(64),
    /** null: the session was free (no tariff applied). */
    tariffVersionId: z.string().min(1).max(64).nullable(),
    /** Set on a corrected CDR: the CDR it replaces (credited by a credit CDR). */
    replacesCdrId: cdrIdSchema.nullable(),
  }),
});

export const CdrCredited = defineEvent({
  type: 'CdrCredited',
  aggregateType: cdrAggregateType,
  schemaVersion: 1,
  schema: z.object({
    cdrId: cdrIdSchema,
    /** The credit CDR (credit=true, credit_reference_id=cdrId) issued on its own stream. */
    creditCdrId: cdrIdSchema,
    creditedAt: isoTimestamp,
    reason: z.string().min(1).max(255).nullable(),
  }),
});

/** Always right after CdrCredited: the CDR was credited and a corrected one takes its place. */
export const CdrReissued = defineEvent({
  type: 'CdrReissued',
  aggregateType: cdrAggregateType,
  schemaVersion: 1,
  schema: z.object({
    cdrId: cdrIdSchema,
    replacementCdrId: cdrIdSchema,
    reissuedAt: isoTimestamp,
  }),
});

/** Registry entries for domain/events.ts. */
export const cdrEventDefinitions = [CdrIssued, CdrCredited, CdrReissued] as const;

export type CdrEvent = EventOf<(typeof cdrEventDefinitions)[number]>;
export type CdrEventType = CdrEvent['type'];
export type CdrEventData<T extends CdrEventType> = Extract<CdrEvent, { type: T }>['data'];
export type IssuedCdr = CdrEventData<'CdrIssued'>;
