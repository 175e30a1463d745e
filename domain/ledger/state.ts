import { assertNever, invariant } from '../shared/assert.js';
import { assertBalanced } from './balance.js';
import type { Account, JournalEntry, LedgerEvent } from './events.js';

/**
 * Posted entries, newest first, as a persistent list: evolve adds one in O(1) without copying, so
 * folding a journal of n entries costs n, not n²/2, and states folded earlier stay unchanged.
 */
export interface EntryList {
  readonly entry: JournalEntry;
  readonly previous: EntryList | null;
}

export interface LedgerState {
  /** The chart of accounts, by code (copied on open: accounts are few next to entries). */
  readonly accounts: ReadonlyMap<string, Account>;
  readonly entries: EntryList | null;
  readonly entryCount: number;
}

export const initialLedgerState = (): LedgerState => ({ accounts: new Map(), entries: null, entryCount: 0 });

/** Entries newest first. */
export function* entriesOf(state: LedgerState): Generator<JournalEntry> {
  for (let node = state.entries; node !== null; node = node.previous) yield node.entry;
}

export function findEntry(state: LedgerState, entryId: string): JournalEntry | undefined {
  for (const entry of entriesOf(state)) if (entry.entryId === entryId) return entry;
  return undefined;
}

export function evolveLedger(state: LedgerState, event: LedgerEvent): LedgerState {
  switch (event.type) {
    case 'AccountOpened': {
      invariant(!state.accounts.has(event.data.code), `account ${event.data.code} opened twice`);
      return { ...state, accounts: new Map(state.accounts).set(event.data.code, event.data) };
    }
    case 'JournalEntryPosted': {
      const entry = event.data;
      // decide refused anything else: an entry that breaks these here is a bug (docs/style.md).
      assertBalanced(entry);
      for (const line of entry.lines) {
        const account = state.accounts.get(line.account);
        invariant(account !== undefined, `journal entry ${entry.entryId} posts to unknown account ${line.account}`);
        invariant(account.currency === line.currency, `journal entry ${entry.entryId}: ${line.currency} on ${account.currency} account ${line.account}`);
      }
      return { ...state, entries: { entry, previous: state.entries }, entryCount: state.entryCount + 1 };
    }
    default:
      return assertNever(event, 'ledger event');
  }
}
