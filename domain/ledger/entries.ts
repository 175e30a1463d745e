import type { Decimal } from 'decimal.js';
import type { IssuedCdr } from '../cdr/events.js';
import { Money, toDecimalString } from '../cdr/money.js';
import { invariant } from '../shared/assert.js';
import { InvalidCommandError } from '../shared/errors.js';
import { normalizeTimestamp } from '../shared/values.js';
import { descriptionLengthMax, type Account, type AccountKind, type JournalEntry, type JournalLine } from './events.js';
import { vatSharesOf } from './vat.js';

/** accountCodeSchema allows 128 characters; `receivable:customer:` takes 20. */
const accountQualifierLengthMax = 100;

/**
 * Free text (a token issuer such as "ACME Fleet B.V.") as one account code qualifier: each run of
 * characters a code cannot hold becomes `_`. The account's name is made from the code, so two
 * spellings that meet here share one account rather than refuse to open.
 */
function accountQualifier(text: string): string {
  return text.replace(/[^A-Za-z0-9._*-]+/g, '_').slice(0, accountQualifierLengthMax);
}

/** The chart of accounts' codes (events.ts, accountCodeSchema). */
export const accountCodes = {
  /** Roaming: the eMSP that issued the token (OCPI tokens), by its party. */
  receivableEmsp: (countryCode: string, partyId: string) => `receivable:emsp:${countryCode}-${partyId}`,
  /** Our own tokens: the customer the operator issued the token for (its issuer), one account each. */
  receivableCustomer: (customer: string) => `receivable:customer:${accountQualifier(customer)}`,
  /** Our own party's sessions on tokens we never issued (let charge by the unknown-token policy). */
  receivableUnknownTokens: 'receivable:unknown-tokens',
  revenueCharging: 'revenue:charging',
  vatPayable: (ratePercent: string) => `vat-payable:${ratePercent}`,
  roamingFeesPayable: (partner: string) => `roaming-fees-payable:${partner}`,
  cashSettlement: 'cash:settlement',
} as const;

/**
 * Who owes the CDR's price: the eMSP named by its cdr_token (roaming, the default), the customer
 * of one of our own tokens, or nobody known (our party, a token we never issued).
 */
export type CdrPayer = { readonly kind: 'emsp' } | { readonly kind: 'customer'; readonly customer: string } | { readonly kind: 'unknown-token' };

function receivableOf(cdr: IssuedCdr['cdr'], payer: CdrPayer): string {
  if (payer.kind === 'customer') return accountCodes.receivableCustomer(payer.customer);
  if (payer.kind === 'unknown-token') return accountCodes.receivableUnknownTokens;
  return accountCodes.receivableEmsp(cdr.cdr_token.country_code, cdr.cdr_token.party_id);
}

export interface EntryForCdrOptions {
  readonly payer?: CdrPayer;
  /** Used when the tariff snapshot has no VAT rate but the CDR has VAT. */
  readonly fallbackVatRatePercent?: string;
}

export interface AccountNeeded {
  readonly code: string;
  readonly kind: AccountKind;
  readonly currency: string;
}

/** Deterministic, so posting the same CDR twice is a retry and appends nothing. */
export const entryIdForCdr = (issued: IssuedCdr) => `cdr:${issued.cdr.country_code}-${issued.cdr.party_id}:${issued.cdr.id}`;

/**
 * The lines a CDR posts and the accounts they need. On a normal CDR: debit the payer's receivable
 * by total_cost incl VAT, credit revenue by excl VAT, credit VAT payable per rate by the VAT part
 * (vatSharesOf). The VAT shares sum to incl − excl exactly, so the entry balances by construction,
 * with no rounding of ours: the CDR's totals are what was charged, in the currency's minor unit, and
 * so is each VAT share. A credit CDR (negative totals)
 * gives the same lines on the opposite sides, reversing the original.
 */
export function linesForCdr(issued: IssuedCdr, options: EntryForCdrOptions = {}): { lines: JournalLine[]; accounts: AccountNeeded[] } {
  const { cdr } = issued;
  const currency = cdr.currency;
  const payer = options.payer ?? { kind: 'emsp' };
  const receivable = receivableOf(cdr, payer);
  const excl = new Money(cdr.total_cost.excl_vat);
  const shares = vatSharesOf(issued, options.fallbackVatRatePercent);
  const incl = shares.reduce((sum, share) => sum.plus(share.amount), excl);
  // The lines are the charged totals, not a re-rounding of them: receivable = incl, revenue = excl.
  invariant(incl.eq(cdr.total_cost.incl_vat ?? excl), `CDR ${cdr.id}: revenue + VAT shares ${incl.toFixed()} make its total incl. VAT`);

  const lines: JournalLine[] = [];
  const accounts: AccountNeeded[] = [];
  // `debitWhenPositive`: the side for a positive amount; a negative one (credit CDR) flips it.
  const add = (account: string, kind: AccountKind, amount: Decimal, debitWhenPositive: boolean) => {
    if (amount.isZero()) return;
    accounts.push({ code: account, kind, currency });
    const debit = amount.isPositive() === debitWhenPositive;
    lines.push({ account, side: debit ? 'debit' : 'credit', amount: toDecimalString(amount.abs()), currency });
  };
  add(receivable, 'asset', incl, true);
  add(accountCodes.revenueCharging, 'revenue', excl, false);
  for (const share of shares) add(accountCodes.vatPayable(share.ratePercent), 'liability', share.amount, false);
  return { lines, accounts };
}

/**
 * The journal entry for an issued CDR (or credit CDR), ready for PostJournalEntry; null when the
 * CDR cost nothing (no entry has zero lines). Refuses when an account is missing or in another
 * currency: the handler opens the `linesForCdr(...).accounts` first.
 */
export function entryForCdr(issued: IssuedCdr, accounts: ReadonlyMap<string, Account>, options: EntryForCdrOptions = {}): JournalEntry | null {
  const { cdr } = issued;
  const { lines, accounts: needed } = linesForCdr(issued, options);
  for (const account of needed) {
    const open = accounts.get(account.code);
    if (!open) throw new InvalidCommandError(`CDR ${cdr.id}: account ${account.code} is not open`, 'PostJournalEntry');
    if (open.currency !== account.currency) {
      throw new InvalidCommandError(`CDR ${cdr.id} in ${account.currency}: account ${account.code} is in ${open.currency}`, 'PostJournalEntry');
    }
  }
  if (lines.length === 0) return null;
  const credit = cdr.credit === true;
  return {
    entryId: entryIdForCdr(issued),
    // The CDR's own time, not the posting's, so a retry builds the identical entry.
    postedAt: normalizeTimestamp(cdr.last_updated, 'last_updated', 'PostJournalEntry'),
    description: credit ? `Credit CDR ${cdr.id} for CDR ${cdr.credit_reference_id}` : `CDR ${cdr.id} (session ${cdr.session_id ?? 'none'})`,
    source: { kind: credit ? 'credit-cdr' : 'cdr', id: cdr.id },
    lines,
  };
}

/**
 * The exact mirror of `entry`: the same lines with debit and credit swapped, so the two together
 * leave every account as before. For corrections of entries that are not CDRs (a credit CDR
 * reverses its CDR's entry through entryForCdr).
 */
export function reversalOf(
  entry: JournalEntry,
  newEntryId: string,
  at: string,
  source: JournalEntry['source'] = { kind: 'adjustment', id: entry.entryId },
): JournalEntry {
  return {
    entryId: newEntryId,
    postedAt: at,
    description: `Reversal of ${entry.entryId}: ${entry.description}`.slice(0, descriptionLengthMax),
    source,
    lines: entry.lines.map((line) => ({ ...line, side: line.side === 'debit' ? 'credit' : 'debit' })),
  };
}
