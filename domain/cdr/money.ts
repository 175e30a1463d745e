import { Decimal } from 'decimal.js';
import { z } from 'zod';

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
 * Active ISO 4217 alphabetic codes (list of 2024, funds and precious-metal codes left out): a
 * currency nobody can settle in is a typo, and a typo here splits a ledger into two currencies.
 */
export const currencyCodes = [
  'AED', 'AFN', 'ALL', 'AMD', 'ANG', 'AOA', 'ARS', 'AUD', 'AWG', 'AZN', 'BAM', 'BBD', 'BDT', 'BGN',
  'BHD', 'BIF', 'BMD', 'BND', 'BOB', 'BRL', 'BSD', 'BTN', 'BWP', 'BYN', 'BZD', 'CAD', 'CDF', 'CHF',
  'CLP', 'CNY', 'COP', 'CRC', 'CUP', 'CVE', 'CZK', 'DJF', 'DKK', 'DOP', 'DZD', 'EGP', 'ERN', 'ETB',
  'EUR', 'FJD', 'FKP', 'GBP', 'GEL', 'GHS', 'GIP', 'GMD', 'GNF', 'GTQ', 'GYD', 'HKD', 'HNL', 'HTG',
  'HUF', 'IDR', 'ILS', 'INR', 'IQD', 'IRR', 'ISK', 'JMD', 'JOD', 'JPY', 'KES', 'KGS', 'KHR', 'KMF',
  'KPW', 'KRW', 'KWD', 'KYD', 'KZT', 'LAK', 'LBP', 'LKR', 'LRD', 'LSL', 'LYD', 'MAD', 'MDL', 'MGA',
  'MKD', 'MMK', 'MNT', 'MOP', 'MRU', 'MUR', 'MVR', 'MWK', 'MXN', 'MYR', 'MZN', 'NAD', 'NGN', 'NIO',
  'NOK', 'NPR', 'NZD', 'OMR', 'PAB', 'PEN', 'PGK', 'PHP', 'PKR', 'PLN', 'PYG', 'QAR', 'RON', 'RSD',
  'RUB', 'RWF', 'SAR', 'SBD', 'SCR', 'SDG', 'SEK', 'SGD', 'SHP', 'SLE', 'SOS', 'SRD', 'SSP', 'STN',
  'SVC', 'SYP', 'SZL', 'THB', 'TJS', 'TMT', 'TND', 'TOP', 'TRY', 'TTD', 'TWD', 'TZS', 'UAH', 'UGX',
  'USD', 'UYU', 'UZS', 'VES', 'VND', 'VUV', 'WST', 'XAF', 'XCD', 'XOF', 'XPF', 'YER', 'ZAR', 'ZMW',
  'ZWG',
] as const;
export type CurrencyCode = (typeof currencyCodes)[number];

const currencySet: ReadonlySet<string> = new Set(currencyCodes);

export function isCurrencyCode(value: string): value is CurrencyCode {
  return currencySet.has(value);
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
