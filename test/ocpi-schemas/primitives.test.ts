import { describe, expect, it } from 'vitest';
import {
  ciString,
  countryAlpha3Schema,
  countryCodeSchema,
  dateTimeSchema,
  displayTextSchema,
  ocpiNumber,
  ocpiString,
  partyIdSchema,
  priceSchema,
  roleSchema,
  urlSchema,
} from '../../ocpi/schemas/index.js';
import { expectAccepted, expectRefused, tooLong } from './fixtures.js';

describe('DateTime (types "DateTime": string(25), RFC 3339, UTC)', () => {
  it.each(['2015-06-29T20:39:09Z', '2015-06-29T20:39:09', '2016-12-29T17:45:09.2Z', '2018-01-01T01:08:01.123', '2018-01-01T01:08:01.1234Z'])(
    'accepts %s',
    (text) => expect(dateTimeSchema.safeParse(text).success).toBe(true),
  );
  it.each([
    ['an offset, even +00:00', '2015-06-29T20:39:09+00:00'],
    ['a date only', '2015-06-29'],
    ['a day that does not exist', '2019-02-30T00:00:00Z'],
    ['more than 25 characters', '2018-01-01T01:08:01.12345Z'],
    ['a space for the T', '2015-06-29 20:39:09Z'],
  ])('refuses %s', (_, text) => expect(dateTimeSchema.safeParse(text).success).toBe(false));
});

describe('CiString(n) and string(n)', () => {
  it('holds exactly n characters and no more', () => {
    expect(ciString(3).safeParse('abc').success).toBe(true);
    expect(ciString(3).safeParse('abcd').success).toBe(false);
    expect(ocpiString(3).safeParse('äöü').success).toBe(true);
    expect(ocpiString(3).safeParse('äöüß').success).toBe(false);
  });
  it('CiString is printable ASCII only; string is UTF-8 without control characters', () => {
    expect(ciString(10).safeParse('café').success).toBe(false);
    expect(ocpiString(10).safeParse('café').success).toBe(true);
    expect(ciString(10).safeParse('a\tb').success).toBe(false);
    expect(ocpiString(10).safeParse('a\nb').success).toBe(false);
  });
});

describe('number (4 decimals unless said otherwise)', () => {
  it('accepts up to 4 decimals and refuses float noise', () => {
    expect(ocpiNumber().safeParse(12.3456).success).toBe(true);
    expect(ocpiNumber().safeParse(-0.88).success).toBe(true);
    expect(ocpiNumber().safeParse(12.34567).success).toBe(false);
    expect(ocpiNumber().safeParse(0.1 + 0.2).success).toBe(false);
    expect(ocpiNumber().safeParse(Number.NaN).success).toBe(false);
    expect(ocpiNumber(1).safeParse(8.1).success).toBe(true);
    expect(ocpiNumber(1).safeParse(8.15).success).toBe(false);
  });
});

describe('codes and small types', () => {
  it('country code, party id, alpha-3 country', () => {
    expect(countryCodeSchema.safeParse('NL').success).toBe(true);
    expect(countryCodeSchema.safeParse('NLD').success).toBe(false);
    expect(partyIdSchema.safeParse('TNM').success).toBe(true);
    expect(partyIdSchema.safeParse('TN').success).toBe(false);
    expect(partyIdSchema.safeParse('TNMX').success).toBe(false);
    expect(countryAlpha3Schema.safeParse('BEL').success).toBe(true);
    expect(countryAlpha3Schema.safeParse('BE').success).toBe(false);
  });
  it('URL is string(255) over http(s)', () => {
    expect(urlSchema.safeParse('https://example.com/ocpi/versions').success).toBe(true);
    expect(urlSchema.safeParse(`https://example.com/${'a'.repeat(250)}`).success).toBe(false);
    expect(urlSchema.safeParse('ftp://example.com').success).toBe(false);
    expect(urlSchema.safeParse('not a url').success).toBe(false);
  });
  it('DisplayText, Price, Role', () => {
    expectAccepted(displayTextSchema, { language: 'en', text: 'Standard Tariff' });
    expectRefused(displayTextSchema, { language: 'en', text: tooLong(512) }, ['text']);
    expectRefused(displayTextSchema, { language: 'eng', text: 'x' }, ['language']);
    expectRefused(displayTextSchema, { text: 'x' }, ['language']);
    expectAccepted(priceSchema, { excl_vat: -4, incl_vat: -4.4 });
    expectRefused(priceSchema, { incl_vat: 1 }, ['excl_vat']);
    expect(roleSchema.safeParse('SCSP').success).toBe(true);
    expect(roleSchema.safeParse('MSP').success).toBe(false);
  });
});
