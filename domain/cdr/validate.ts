import { InvalidCommandError } from '../shared/errors.js';
import { Money } from './money.js';
import { cdrCostFields, cdrQuantityFields, type OcpiCdr } from './ocpi.js';

/**
 * The rules a CDR must meet to be issued, beyond its schema. A normal CDR has no negative total; a
 * credit CDR (OCPI 2.2.1 §10.3.1 `credit`) is the exact negation of one, so it has no positive
 * total. Either way incl_vat is at least excl_vat in magnitude: VAT is never negative.
 */
export function checkCdrRules(cdr: OcpiCdr, commandType: string): void {
  const refuse = (message: string): never => {
    throw new InvalidCommandError(`CDR ${cdr.id}: ${message}`, commandType);
  };
  const startMs = Date.parse(cdr.start_date_time);
  const endMs = Date.parse(cdr.end_date_time);
  if (endMs < startMs) refuse(`end_date_time ${cdr.end_date_time} is before start_date_time ${cdr.start_date_time}`);

  const credit = cdr.credit === true;
  if (credit && !cdr.credit_reference_id) refuse('a credit CDR needs credit_reference_id');
  if (!credit && cdr.credit_reference_id !== undefined) refuse('credit_reference_id is only for a credit CDR (credit=true)');
  if (credit && cdr.credit_reference_id === cdr.id) refuse('a credit CDR cannot credit itself');

  // Sign: a normal CDR's totals are >= 0, a credit CDR's are <= 0.
  const wrongSign = (value: string) => (credit ? new Money(value).gt(0) : new Money(value).lt(0));
  const sign = credit ? 'positive on a credit CDR' : 'negative';
  for (const field of cdrCostFields) {
    const price = cdr[field];
    if (price === undefined) continue;
    if (wrongSign(price.excl_vat)) refuse(`${field}.excl_vat ${price.excl_vat} is ${sign}`);
    if (price.incl_vat === undefined) continue;
    if (wrongSign(price.incl_vat)) refuse(`${field}.incl_vat ${price.incl_vat} is ${sign}`);
    if (new Money(price.incl_vat).abs().lt(new Money(price.excl_vat).abs())) {
      refuse(`${field}.incl_vat ${price.incl_vat} is less than excl_vat ${price.excl_vat}`);
    }
  }
  for (const field of cdrQuantityFields) {
    const value = cdr[field];
    if (value !== undefined && wrongSign(value)) refuse(`${field} ${value} is ${sign}`);
  }

  // Charging periods describe the session in order (OCPI: each period runs until the next).
  let previousMs = startMs;
  for (const [index, period] of cdr.charging_periods.entries()) {
    const periodMs = Date.parse(period.start_date_time);
    if (periodMs < previousMs || periodMs > endMs) {
      refuse(`charging_periods[${index}].start_date_time ${period.start_date_time} is out of order or outside the session`);
    }
    previousMs = periodMs;
  }
}
