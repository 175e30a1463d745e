import { z } from 'zod';
import { currencyCode, decimalString } from '../cdr/money.js';
import { defineEvent, type EventOf } from '../shared/event-definition.js';
import { isoTimestamp } from '../shared/values.js';

/**
 * Events of the `ledger` aggregate: one double-entry journal per tenant, stream
 * `ledger-<tenantId>-journal`, holding the chart of accounts and every journal entry. One stream,
 * so a single expected-revision check makes every entry see the accounts it posts to and every
 * entry id unique; the price is that postings of one tenant are serialized (a CDR's entry is a
 * few lines, so thousands per minute still fit). When a journal grows too long to fold per
 * command, it is closed per period and a new stream opens with the balances carried forward.
 */

export const ledgerAggregateType = 'ledger';

export const accountKinds = ['asset', 'liability', 'revenue', 'expense', 'equity'] as const;
export type AccountKind = (typeof accountKinds)[number];

/**
 * `<kind-of-account>[:<qualifier>...]`, e.g. `receivable:emsp:DE-EMP`, `vat-payable:21`,
 * `revenue:charging`, `cash:settlement`. Lower-case head; qualifiers are partner or rate ids.
 */
export const accountCodeSchema = z
  .string()
  .max(128)
  .regex(/^[a-z][a-z-]*(:[A-Za-z0-9._*-]+)*$/, 'an account code such as "receivable:emsp:DE-EMP"');

export const journalSourceKinds = ['cdr', 'credit-cdr', 'payment', 'settlement', 'adjustment'] as const;
export type JournalSourceKind = (typeof journalSourceKinds)[number];

/** Bounds (docs/style.md: a limit on everything). */
export const journalLinesPerEntryMax = 200;
export const accountsPerJournalMax = 20_000;
export const descriptionLengthMax = 500;

export const journalLineSchema = z.object({
  account: accountCodeSchema,
  side: z.enum(['debit', 'credit']),
  /** Always positive: the side says which way it goes. */
  amount: decimalString,
  currency: currencyCode,
});
export type JournalLine = z.infer<typeof journalLineSchema>;

export const journalEntrySchema = z.object({
  entryId: z.string().min(1).max(128),
  postedAt: isoTimestamp,
  description: z.string().min(1).max(descriptionLengthMax),
  source: z.object({ kind: z.enum(journalSourceKinds), id: z.string().min(1).max(128) }),
  lines: z.array(journalLineSchema).min(2).max(journalLinesPerEntryMax),
});
export type JournalEntry = z.infer<typeof journalEntrySchema>;

export const AccountOpened = defineEvent({
  type: 'AccountOpened',
  aggregateType: ledgerAggregateType,
  schemaVersion: 1,
  schema: z.object({
    code: accountCodeSchema,
    name: z.string().min(1).max(255),
    kind: z.enum(accountKinds),
    currency: currencyCode,
    openedAt: isoTimestamp,
  }),
});

/** Balances per currency: decide refuses an entry that does not, evolve crashes on one. */
export const JournalEntryPosted = defineEvent({
  type: 'JournalEntryPosted',
  aggregateType: ledgerAggregateType,
  schemaVersion: 1,
  schema: journalEntrySchema,
});

/** Registry entries for domain/events.ts. */
export const ledgerEventDefinitions = [AccountOpened, JournalEntryPosted] as const;

export type LedgerEvent = EventOf<(typeof ledgerEventDefinitions)[number]>;
export type LedgerEventType = LedgerEvent['type'];
export type LedgerEventData<T extends LedgerEventType> = Extract<LedgerEvent, { type: T }>['data'];
export type Account = LedgerEventData<'AccountOpened'>;
