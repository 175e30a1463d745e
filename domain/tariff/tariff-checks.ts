import { Decimal } from 'decimal.js';
import { isKnownCurrency } from './currencies.js';
import type { TariffIssue } from './errors.js';
import { priceDecimalsMax, vatDecimalsMax, vatPercentMax } from './limits.js';
import type { Tariff, TariffElement, TariffRestrictions } from './schema.js';

/**
 * Cross-field checks the zod shapes cannot express. Each returns issues instead of throwing so a
 * partner gets every problem of a PUT tariff in one answer.
 */
export function checkTariff(tariff: Tariff): TariffIssue[] {
  const issues: TariffIssue[] = [];
  const add = (path: string, message: string) => issues.push({ path, message });

  if (!isKnownCurrency(tariff.currency)) add('currency', `${tariff.currency} is not an ISO 4217 currency code`);
  if (tariff.start_date_time && tariff.end_date_time && utcMs(tariff.start_date_time) >= utcMs(tariff.end_date_time)) {
    add('end_date_time', 'must be after start_date_time');
  }
  const { min_price: min, max_price: max } = tariff;
  if (min && max) {
    if (min.excl_vat > max.excl_vat) add('min_price.excl_vat', 'is greater than max_price.excl_vat');
    if (min.incl_vat !== undefined && max.incl_vat !== undefined && min.incl_vat > max.incl_vat) {
      add('min_price.incl_vat', 'is greater than max_price.incl_vat');
    }
  }
  for (const [key, price] of [['min_price', min], ['max_price', max]] as const) {
    if (price?.incl_vat !== undefined && price.incl_vat < price.excl_vat) add(`${key}.incl_vat`, 'is less than excl_vat');
    if (price && !fitsDecimals(price.excl_vat, priceDecimalsMax)) add(`${key}.excl_vat`, `has more than ${priceDecimalsMax} decimals`);
    if (price?.incl_vat !== undefined && !fitsDecimals(price.incl_vat, priceDecimalsMax)) add(`${key}.incl_vat`, `has more than ${priceDecimalsMax} decimals`);
  }
  tariff.elements.forEach((element, i) => checkElement(element, `elements.${i}`, add));
  checkShadowedElements(tariff.elements, add);
  return issues;
}

function checkElement(element: TariffElement, path: string, add: (path: string, message: string) => void): void {
  const seen = new Set<string>();
  element.price_components.forEach((component, j) => {
    const at = `${path}.price_components.${j}`;
    // Two components of one dimension in one element leave the price of that dimension undefined.
    if (seen.has(component.type)) add(`${at}.type`, `second ${component.type} component in one element is ambiguous`);
    seen.add(component.type);
    if (!fitsDecimals(component.price, priceDecimalsMax)) add(`${at}.price`, `has more than ${priceDecimalsMax} decimals`);
    if (component.vat !== undefined) {
      if (component.vat > vatPercentMax) add(`${at}.vat`, `is above ${vatPercentMax} %`);
      if (!fitsDecimals(component.vat, vatDecimalsMax)) add(`${at}.vat`, `has more than ${vatDecimalsMax} decimals`);
    }
  });
  if (element.restrictions) checkRestrictions(element.restrictions, `${path}.restrictions`, add);
}

function checkRestrictions(r: TariffRestrictions, path: string, add: (path: string, message: string) => void): void {
  // end_time < start_time wraps past midnight (spec); equal times leave "empty or all day" open.
  if (r.start_time !== undefined && r.start_time === r.end_time) {
    add(`${path}.end_time`, 'equals start_time: ambiguous (empty or the whole day); omit both for the whole day');
  }
  for (const key of ['start_date', 'end_date'] as const) {
    const value = r[key];
    if (value !== undefined && localDayNumber(value) === undefined) add(`${path}.${key}`, `${value} is not a calendar date`);
  }
  if (r.start_date && r.end_date && r.start_date >= r.end_date) {
    // end_date is exclusive ("valid until this day, excluding this day"), so start must be earlier.
    add(`${path}.end_date`, 'must be after start_date (end_date is exclusive)');
  }
  const pairs = [
    ['min_kwh', 'max_kwh'],
    ['min_current', 'max_current'],
    ['min_power', 'max_power'],
    ['min_duration', 'max_duration'],
  ] as const;
  for (const [lo, hi] of pairs) {
    const a = r[lo];
    const b = r[hi];
    // min is inclusive and max exclusive (TariffRestrictions class), so min >= max matches nothing.
    if (a !== undefined && b !== undefined && a >= b) add(`${path}.${lo}`, `must be less than ${hi} (${a} >= ${b} never matches)`);
  }
  if (r.day_of_week && new Set(r.day_of_week).size !== r.day_of_week.length) add(`${path}.day_of_week`, 'lists a day twice');
}

/**
 * An element none of whose components can ever be used is a definition error: for each of its
 * dimensions an earlier element with the same dimension matches at least whenever it does
 * (same or no restrictions). The first-match rule (mod_tariffs "Tariff Object") makes it dead.
 */
function checkShadowedElements(elements: readonly TariffElement[], add: (path: string, message: string) => void): void {
  const keys = elements.map((e) => (e.restrictions ? canonical(e.restrictions) : ''));
  elements.forEach((element, j) => {
    const dead = element.price_components.every((component) =>
      elements.slice(0, j).some((earlier, i) => earlier.price_components.some((c) => c.type === component.type) && (keys[i] === '' || keys[i] === keys[j])),
    );
    if (dead) add(`elements.${j}`, 'is never used: an earlier element with the same dimensions matches whenever this one does');
  });
}

function canonical(r: TariffRestrictions): string {
  const entries = Object.entries(r).filter(([, v]) => v !== undefined);
  entries.sort(([a], [b]) => (a < b ? -1 : 1));
  return entries.length === 0 ? '' : JSON.stringify(entries);
}

function fitsDecimals(value: number, decimals: number): boolean {
  return new Decimal(value).decimalPlaces() <= decimals;
}

/**
 * RFC 3339 to epoch ms; no zone designator means UTC (types.asciidoc "DateTime"). The usual
 * `YYYY-MM-DDTHH:MM:SS[.fff]Z` is read digit by digit: Date.parse was the largest single cost
 * in the pricing benchmark (a dozen timestamps per session).
 */
function utcMs(dateTime: string): number {
  const n = dateTime.length;
  if ((n === 20 || n === 24) && dateTime.charCodeAt(n - 1) === 90 /* Z */ && dateTime.charCodeAt(10) === 84 /* T */) {
    const year = digits(dateTime, 0, 4);
    const month = digits(dateTime, 5, 2);
    const day = digits(dateTime, 8, 2);
    const hour = digits(dateTime, 11, 2);
    const minute = digits(dateTime, 14, 2);
    const second = digits(dateTime, 17, 2);
    const ms = n === 24 ? digits(dateTime, 20, 3) : 0;
    if (year >= 0 && month >= 1 && month <= 12 && day >= 1 && day <= 31 && hour <= 23 && minute <= 59 && second <= 59 && ms >= 0) {
      const result = Date.UTC(year, month - 1, day, hour, minute, second, ms);
      if (new Date(Date.UTC(year, month - 1, 1)).getUTCMonth() === month - 1 && day <= daysInMonth(year, month)) return result;
      return Number.NaN;
    }
  }
  return Date.parse(/(Z|[+-]\d\d:\d\d)$/i.test(dateTime) ? dateTime : `${dateTime}Z`);
}

function digits(text: string, from: number, count: number): number {
  let value = 0;
  for (let i = from; i < from + count; i++) {
    const d = text.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1;
    value = value * 10 + d;
  }
  return value;
}

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** Days since 1970-01-01 of a YYYY-MM-DD calendar date, or undefined if it is not a real date. */
export function localDayNumber(date: string): number | undefined {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  const ms = Date.UTC(y, m - 1, d);
  const back = new Date(ms);
  if (back.getUTCFullYear() !== y || back.getUTCMonth() !== m - 1 || back.getUTCDate() !== d) return undefined;
  return ms / 86_400_000;
}

export { utcMs };
