import { IllegalStateError } from '../shared/errors.js';
import type { IssuedCdr } from './events.js';
import { negateDecimalString } from './money.js';
import { cdrCostFields, cdrQuantityFields, type OcpiCdr, type Price } from './ocpi.js';

const negatePrice = (price: Price): Price =>
  price.incl_vat === undefined
    ? { excl_vat: negateDecimalString(price.excl_vat) }
    : { excl_vat: negateDecimalString(price.excl_vat), incl_vat: negateDecimalString(price.incl_vat) };

/**
 * The credit CDR for `original` (OCPI 2.2.1 §10.3.1): a new CDR with its own id, credit=true,
 * credit_reference_id = the original's id and every total (costs, energy, time, parking time)
 * negated exactly, digit for digit, so the two sum to zero wherever they are netted. The session
 * facts (location, token, periods, signed data, tariffs) stay those of the original: the credit
 * cancels that session, it does not describe another. The invoice reference is dropped: the
 * credit gets its own credit note.
 */
export function creditCdrFrom(original: IssuedCdr, creditId: string, at: string): IssuedCdr {
  const source = original.cdr;
  if (source.credit === true) {
    throw new IllegalStateError(`CDR ${source.id} is itself a credit CDR and cannot be credited`, 'CreditCdr');
  }
  const { invoice_reference_id: _invoice, ...kept } = source;
  const cdr: OcpiCdr = { ...kept, id: creditId, credit: true, credit_reference_id: source.id, last_updated: at };
  for (const field of cdrCostFields) {
    const price = source[field];
    if (price !== undefined) cdr[field] = negatePrice(price);
  }
  for (const field of cdrQuantityFields) {
    const value = source[field];
    if (value !== undefined) cdr[field] = negateDecimalString(value);
  }
  return { ...original, cdr, replacesCdrId: null };
}
