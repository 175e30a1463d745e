import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { IllegalStateError } from '../shared/errors.js';
import { creditCdrFrom } from './credit.js';
import { sampleIssued } from './fixtures.js';
import { Money, negateDecimalString } from './money.js';
import { cdrCostFields, cdrQuantityFields } from './ocpi.js';
import { checkCdrRules } from './validate.js';

describe('creditCdrFrom', () => {
  const original = sampleIssued({ invoice_reference_id: 'INV-1', total_parking_cost: { excl_vat: '0.00', incl_vat: '0.00' } });
  const credit = creditCdrFrom(original, 'CDR-1-C', '2025-03-05T09:00:00Z');

  it('makes a new CDR with credit=true referencing the original', () => {
    expect(credit.cdr).toMatchObject({ id: 'CDR-1-C', credit: true, credit_reference_id: 'CDR-1', last_updated: '2025-03-05T09:00:00Z' });
    expect(credit.cdr.invoice_reference_id).toBeUndefined();
    expect(credit.transactionId).toBe(original.transactionId);
    expect(credit.replacesCdrId).toBeNull();
  });

  it('negates every total exactly, keeping the scale', () => {
    expect(credit.cdr.total_cost).toEqual({ excl_vat: '-7.00', incl_vat: '-8.47' });
    expect(credit.cdr.total_energy_cost).toEqual({ excl_vat: '-6.00', incl_vat: '-7.26' });
    expect(credit.cdr.total_parking_cost).toEqual({ excl_vat: '0.00', incl_vat: '0.00' });
    expect(credit.cdr.total_energy).toBe('-20');
    expect(credit.cdr.total_time).toBe('-1');
  });

  it('keeps the session facts: periods, signed data, tariffs, location, token', () => {
    for (const field of ['charging_periods', 'signed_data', 'tariffs', 'cdr_location', 'cdr_token', 'session_id'] as const) {
      expect(credit.cdr[field]).toEqual(original.cdr[field]);
    }
  });

  it('refuses to credit a credit CDR', () => {
    expect(() => creditCdrFrom(credit, 'X', '2025-03-06T00:00:00Z')).toThrow(IllegalStateError);
  });

  it('property: original + credit sum to zero on every total, and the credit passes the rules', () => {
    const amount = fc.tuple(fc.bigInt({ min: 0n, max: 10n ** 12n }), fc.integer({ min: 0, max: 4 })).map(([units, scale]) =>
      new Money(units.toString()).dividedBy(new Money(10).pow(scale)).toFixed(scale),
    );
    fc.assert(
      fc.property(amount, amount, amount, (excl, vat, energy) => {
        const incl = new Money(excl).plus(vat).toFixed();
        const source = sampleIssued({ total_cost: { excl_vat: excl, incl_vat: incl }, total_energy_cost: { excl_vat: excl }, total_energy: energy });
        const made = creditCdrFrom(source, 'C', '2025-03-05T09:00:00Z');
        checkCdrRules(made.cdr, 'IssueCdr');
        for (const field of cdrCostFields) {
          const a = source.cdr[field];
          const b = made.cdr[field];
          if (a === undefined) continue;
          expect(new Money(a.excl_vat).plus(b!.excl_vat).isZero()).toBe(true);
          if (a.incl_vat !== undefined) expect(new Money(a.incl_vat).plus(b!.incl_vat!).isZero()).toBe(true);
        }
        for (const field of cdrQuantityFields) {
          const a = source.cdr[field];
          if (a !== undefined) expect(new Money(a).plus(made.cdr[field]!).isZero()).toBe(true);
        }
      }),
    );
  });

  it('negateDecimalString leaves zero unsigned and round-trips', () => {
    expect(negateDecimalString('0.00')).toBe('0.00');
    expect(negateDecimalString('-0.00')).toBe('0.00');
    expect(negateDecimalString(negateDecimalString('12.340'))).toBe('12.340');
  });
});
