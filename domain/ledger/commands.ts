import type { AccountKind, JournalEntry } from './events.js';

/** Commands to the `ledger` aggregate (the tenant's journal). Times are ISO-8601 with a zone. */

export interface OpenAccount {
  readonly type: 'OpenAccount';
  readonly code: string;
  readonly name: string;
  readonly kind: AccountKind;
  readonly currency: string;
  readonly openedAt: string;
}

/**
 * The entry as it will be recorded (amounts as decimal strings). Helpers build it: `entryForCdr`,
 * `reversalOf`. The entry id is chosen by the caller, deterministic where the input can repeat
 * (e.g. `cdr:<party>:<cdrId>`), so a retry is a no-op.
 */
export interface PostJournalEntry {
  readonly type: 'PostJournalEntry';
  readonly entry: JournalEntry;
}

export type LedgerCommand = OpenAccount | PostJournalEntry;

export const ledgerCommandTypes = ['OpenAccount', 'PostJournalEntry'] as const satisfies readonly LedgerCommand['type'][];
