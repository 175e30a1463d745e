import { describe, expect, it } from 'vitest';
import { currencyCode, currencyCodes, isCurrencyCode } from '../cdr/money.js';
import { currencyMinorUnits, isKnownCurrency } from './currencies.js';

describe('currencies: one list of the currencies we accept, with their ISO 4217 minor units', () => {
  it('gives every currency a CDR, ledger or settlement accepts a minor unit, and accepts the same ones for tariffs', () => {
    const withoutMinorUnit = currencyCodes.filter((code) => !isKnownCurrency(code) || !Number.isInteger(currencyMinorUnits(code)));
    expect(withoutMinorUnit).toEqual([]);
    for (const code of currencyCodes) expect(isCurrencyCode(code)).toBe(true);
    expect(currencyCode.safeParse('CNY').success).toBe(true);
    expect(currencyMinorUnits('CNY')).toBe(2);
  });

  it('knows the minor units ISO 4217 gives (0, 2 and 3 decimals) and refuses codes outside the list', () => {
    expect(['JPY', 'EUR', 'KWD', 'CLP', 'TND', 'ISK', 'VND'].map(currencyMinorUnits)).toEqual([0, 2, 3, 0, 3, 0, 0]);
    for (const code of ['XYZ', 'EURO', 'eur', 'XAU', 'XTS', '', 'constructor']) {
      expect(isCurrencyCode(code)).toBe(false);
      expect(isKnownCurrency(code)).toBe(false);
      expect(() => currencyMinorUnits(code)).toThrow(/unknown currency/);
    }
  });
});
