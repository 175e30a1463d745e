import { Decimal } from 'decimal.js';
import { z } from 'zod';
import { isKnownCurrency, knownCurrencies } from '../tariff/currencies.js';

/**
 * Money and quantity values shared by the billing aggregates (cdr, ledger, settlement). Event data
 * holds them as decimal strings in plain notation, never JS numbers: 0.1 + 0.2 must be 0.3 exactly
 * when a journal entry is checked to balance.
 */

/**
 * decimal.js with enough significant digits that no sum of money we make is ever rounded: the
 * library default (20) would round a 10^18 total with 3 decimals. A clone, so other modules'
 * Decimal settings are left alone.
 */
export const Money = Decimal.clone({ precision: 60, rounding: Decimal.ROUND_HALF_EVEN });
export type Money = Decimal;

/** A signed decimal in plain notation: "12", "-0.35". No exponent, no "+", no leading zeros. */
export const decimalString = z.string().max(60).regex(/^-?(0|[1-9]\d*)(\.\d+)?$/, 'a decimal string such as "12.34"');

/** A decimal that is zero or more. */
export const nonNegativeDecimal = decimalString.regex(/^[^-]/, 'a non-negative decimal string');

/**
 * The ISO 4217 codes accepted for money (CDRs, ledger, settlement): the tariff engine's list, the
 * one that knows each currency's minor unit (domain/tariff/currencies.ts), so every currency a CDR
 * or journal line can be in is one it can be rounded and posted in.
 */
export const currencyCodes: readonly string[] = knownCurrencies;

export function isCurrencyCode(value: string): boolean {
  return isKnownCurrency(value);
}

// `: boolean` keeps the parsed type `string`: a narrowed union would leak into every event type.
export const currencyCode = z.string().refine((value): boolean => isCurrencyCode(value), 'an ISO 4217 currency code such as "EUR"');

/** Renders a Decimal as event data: plain notation, "-0" made "0". */
export function toDecimalString(value: Decimal): string {
  return value.isZero() ? '0' : value.toFixed();
}

/**
 * The negation of a decimal string, exactly and keeping its scale ("10.50" → "-10.50"): a credit
 * CDR mirrors the original digit for digit. Zero stays unsigned.
 */
export function negateDecimalString(value: string): string {
  if (new Money(value).isZero()) return value.replace(/^-/, '');
  return value.startsWith('-') ? value.slice(1) : `-${value}`;
}
