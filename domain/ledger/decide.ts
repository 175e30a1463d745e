import { Money, isCurrencyCode, toDecimalString } from '../cdr/money.js';
import { assertNever } from '../shared/assert.js';
import { currencyMinorUnits } from '../tariff/currencies.js';
import { eventFrom } from '../shared/event-definition.js';
import { IllegalStateError, InvalidCommandError } from '../shared/errors.js';
import { normalizeTimestamp, sameJson } from '../shared/values.js';
import { imbalances } from './balance.js';
import type { LedgerCommand, OpenAccount, PostJournalEntry } from './commands.js';
import { AccountOpened, JournalEntryPosted, accountsPerJournalMax, journalEntrySchema, type JournalEntry, type LedgerEvent } from './events.js';
import { findEntry, type LedgerState } from './state.js';

export function decideLedger(command: LedgerCommand, state: LedgerState): LedgerEvent[] {
  switch (command.type) {
    case 'OpenAccount':
      return openAccount(command, state);
    case 'PostJournalEntry':
      return postEntry(command, state);
    default:
      return assertNever(command, 'ledger command');
  }
}

function openAccount(command: OpenAccount, state: LedgerState): LedgerEvent[] {
  if (!isCurrencyCode(command.currency)) throw new InvalidCommandError(`currency ${command.currency} is not ISO 4217`, command.type);
  const data = {
    code: command.code,
    name: command.name,
    kind: command.kind,
    currency: command.currency,
    openedAt: normalizeTimestamp(command.openedAt, 'openedAt', command.type),
  };
  const parsed = AccountOpened.schema.safeParse(data);
  if (!parsed.success) throw new InvalidCommandError(`invalid account: ${parsed.error.message}`, command.type);
  const existing = state.accounts.get(data.code);
  if (existing) {
    // Opening the same account again is a retry, or a handler making sure it exists: nothing new.
    const same = existing.name === data.name && existing.kind === data.kind && existing.currency === data.currency;
    if (same) return [];
    throw new IllegalStateError(`account ${data.code} is already open as ${existing.kind} in ${existing.currency}`, command.type);
  }
  if (state.accounts.size >= accountsPerJournalMax) {
    throw new IllegalStateError(`the journal has the most accounts allowed (${accountsPerJournalMax})`, command.type);
  }
  return [eventFrom(AccountOpened, parsed.data)];
}

function postEntry(command: PostJournalEntry, state: LedgerState): LedgerEvent[] {
  const refuse = (message: string): never => {
    throw new InvalidCommandError(`journal entry ${command.entry.entryId}: ${message}`, command.type);
  };
  const entry: JournalEntry = { ...command.entry, postedAt: normalizeTimestamp(command.entry.postedAt, 'postedAt', command.type) };
  const parsed = journalEntrySchema.safeParse(entry);
  if (!parsed.success) refuse(`invalid: ${parsed.error.message}`);

  const existing = findEntry(state, entry.entryId);
  if (existing) {
    if (sameJson(existing, entry)) return [];
    throw new IllegalStateError(`journal entry ${entry.entryId} is already posted with other content: post a reversal and a new entry`, command.type);
  }

  for (const [index, line] of entry.lines.entries()) {
    const account = state.accounts.get(line.account);
    if (!account) refuse(`line ${index}: unknown account ${line.account}`);
    if (account!.currency !== line.currency) refuse(`line ${index}: ${line.currency} on ${line.account}, an account in ${account!.currency}`);
    if (!new Money(line.amount).gt(0)) refuse(`line ${index}: amount ${line.amount} on ${line.account} must be positive (the side gives the direction)`);
    // Every entry, whatever its source (CDR, settlement, adjustment): a fraction of a cent cannot be paid or settled.
    const places = currencyMinorUnits(line.currency);
    if (new Money(line.amount).decimalPlaces() > places) {
      refuse(`line ${index}: ${line.amount} ${line.currency} on ${line.account} is finer than the ${line.currency} minor unit ${new Money(10).pow(-places).toFixed()}`);
    }
  }
  // Double entry: in each currency the debits equal the credits, to the last digit.
  for (const totals of imbalances(entry)) {
    refuse(
      `does not balance in ${totals.currency}: debits ${toDecimalString(totals.debits)}, credits ${toDecimalString(totals.credits)}, ` +
        `difference ${toDecimalString(totals.difference)}`,
    );
  }
  return [eventFrom(JournalEntryPosted, entry)];
}
