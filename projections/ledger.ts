import { Decimal } from 'decimal.js';
import type { RecordedEvent } from '../adapters/event-store/port.js';
import type { SqlExecutor } from '../adapters/sql/port.js';
import { assertBalanced } from '../domain/ledger/balance.js';
import type { LedgerEventData } from '../domain/ledger/events.js';
import { invariant } from '../domain/shared/assert.js';
import type { Projection } from './projection.js';
import { foldIntoTable, upsertRows, type Row, type TableSpec } from './rows.js';

/** Kysely types of `proj_ledger`. numeric columns come back as strings. */
export interface LedgerAccountsTable {
  tenant_id: string;
  account: string;
  name: string;
  kind: string;
  currency: string;
  opened_at: Date;
  debits: string;
  credits: string;
  balance: string;
  lines: number;
}
export interface JournalLinesTable {
  tenant_id: string;
  entry_id: string;
  line_no: number;
  account: string;
  side: 'debit' | 'credit';
  amount: string;
  currency: string;
  posted_at: Date;
  description: string;
  source_kind: string;
  source_id: string;
}
export interface LedgerReadModel {
  accounts: LedgerAccountsTable;
  journal_lines: JournalLinesTable;
}

const column = (name: string, type = 'text') => ({ name, type });
export const accountsSpec: TableSpec = {
  table: 'accounts',
  key: ['tenant_id', 'account'],
  columns: [
    ...['tenant_id', 'account', 'name', 'kind', 'currency'].map((name) => column(name)),
    column('opened_at', 'timestamptz'),
    ...['debits', 'credits', 'balance'].map((name) => column(name, 'numeric')),
    column('lines', 'integer'),
  ],
};
export const journalLinesSpec: TableSpec = {
  table: 'journal_lines',
  key: ['tenant_id', 'entry_id', 'line_no'],
  columns: [
    column('tenant_id'),
    column('entry_id'),
    column('line_no', 'integer'),
    column('account'),
    column('side'),
    column('amount', 'numeric'),
    column('currency'),
    column('posted_at', 'timestamptz'),
    ...['description', 'source_kind', 'source_id'].map((name) => column(name)),
  ],
};

/** What touches one account: its opening, or one journal line. */
type AccountItem =
  | { readonly kind: 'open'; readonly tenantId: string; readonly data: LedgerEventData<'AccountOpened'> }
  | { readonly kind: 'line'; readonly tenantId: string; readonly line: Row };

/** Exact sums; decimal.js at 60 digits never rounds money we hold. */
const Exact = Decimal.clone({ precision: 60 });

function evolveAccount(current: Row | undefined, item: AccountItem, key: Row): Row {
  if (item.kind === 'open') {
    invariant(current === undefined, `account ${item.data.code} of ${item.tenantId} opened twice`);
    return { ...key, name: item.data.name, kind: item.data.kind, currency: item.data.currency, opened_at: item.data.openedAt, debits: '0', credits: '0', balance: '0', lines: 0 };
  }
  const line = item.line;
  // The ledger decider checks these; meeting them broken here means a bug, not bad input.
  invariant(current !== undefined, `journal entry ${String(line.entry_id)} posts to unopened account ${String(line.account)}`);
  invariant(current.currency === line.currency, `journal entry ${String(line.entry_id)}: ${String(line.currency)} on ${String(current.currency)} account ${String(line.account)}`);
  const amount = new Exact(line.amount as string);
  const debits = new Exact(current.debits as string).plus(line.side === 'debit' ? amount : 0);
  const credits = new Exact(current.credits as string).plus(line.side === 'credit' ? amount : 0);
  return { ...current, debits: debits.toFixed(), credits: credits.toFixed(), balance: debits.minus(credits).toFixed(), lines: (current.lines as number) + 1 };
}

export const ledgerProjection: Projection = {
  name: 'ledger',
  version: 1,
  handledEventTypes: new Set(['AccountOpened', 'JournalEntryPosted']),
  migrationsGroup: 'readmodels-ledger',
  checksumTables: [
    { table: 'accounts', orderBy: accountsSpec.key },
    { table: 'journal_lines', orderBy: journalLinesSpec.key },
  ],
  async applyBatch(tx: SqlExecutor, schema: string, events: readonly RecordedEvent[]): Promise<void> {
    const items: AccountItem[] = [];
    const lines: Row[] = [];
    for (const event of events) {
      const tenantId = event.metadata.tenantId;
      if (event.type === 'AccountOpened') {
        items.push({ kind: 'open', tenantId, data: event.data as unknown as LedgerEventData<'AccountOpened'> });
        continue;
      }
      const entry = event.data as unknown as LedgerEventData<'JournalEntryPosted'>;
      // The pair invariant, checked a second time (docs/style.md): an unbalanced entry here is a bug.
      assertBalanced(entry);
      entry.lines.forEach((line, index) => {
        const row: Row = {
          tenant_id: tenantId,
          entry_id: entry.entryId,
          line_no: index,
          account: line.account,
          side: line.side,
          amount: line.amount,
          currency: line.currency,
          posted_at: entry.postedAt,
          description: entry.description,
          source_kind: entry.source.kind,
          source_id: entry.source.id,
        };
        lines.push(row);
        items.push({ kind: 'line', tenantId, line: row });
      });
    }
    const keyOf = (item: AccountItem): Row => ({ tenant_id: item.tenantId, account: item.kind === 'open' ? item.data.code : item.line.account });
    await foldIntoTable(tx, schema, accountsSpec, items, keyOf, evolveAccount);
    await upsertRows(tx, schema, journalLinesSpec, lines);
  },
};
