import { z } from 'zod';
import { displayTextsMax } from './limits.js';

/**
 * The OCPI 2.2.1 base types (types.asciidoc) as zod schemas. Every module schema is built from
 * these, so a length or character rule is written once. Objects strip unknown fields rather than
 * refuse them: receivers must ignore fields they do not know (transport_and_format).
 */

/** types.asciidoc "CiString": printable ASCII only, no CR, LF, TAB. */
const printableAscii = /^[\x20-\x7E]*$/;
/** types.asciidoc "string": printable UTF-8, so no control characters (Cc: C0, DEL, C1). */
const noControlCharacters = /^\P{Cc}*$/u;

/** CiString(n): case-insensitive, printable ASCII, at most `lengthMax` characters. */
export const ciString = (lengthMax: number) =>
  z.string().max(lengthMax).regex(printableAscii, 'must be printable ASCII (CiString)');

/** string(n): case-sensitive, printable UTF-8, at most `lengthMax` characters. */
export const ocpiString = (lengthMax: number) =>
  z.string().max(lengthMax).regex(noControlCharacters, 'must not contain control characters (string)');

/** An identifier (Location.id, EVSE.uid, Token.uid, ...): a CiString(n) that is not empty. */
export const ciIdentifier = (lengthMax: number) => ciString(lengthMax).min(1);

/**
 * types.asciidoc "DateTime": string(25), RFC 3339, always UTC. A missing zone designator means
 * UTC; fractional seconds may be used. An offset (even +00:00) is refused: the spec says +00:00
 * is not the same as UTC.
 */
const dateTimePattern = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?Z?$/;
export const dateTimeSchema = z
  .string()
  .max(25)
  .regex(dateTimePattern, 'must be an RFC 3339 UTC timestamp like 2015-06-29T20:39:09Z')
  .refine(isCalendarDateTime, 'is not an existing date and time');

function isCalendarDateTime(text: string): boolean {
  const secondsText = text.slice(0, 19);
  const parsed = new Date(`${secondsText}Z`);
  // Date rolls 2019-02-30 over to March: a round trip catches dates that do not exist.
  return !Number.isNaN(parsed.getTime()) && parsed.toISOString().slice(0, 19) === secondsText;
}

/** types.asciidoc "URL": string(255) following the w3.org URI spec; OCPI only speaks http(s). */
export const urlSchema = z.url({ protocol: /^https?$/ }).max(255);

/**
 * types.asciidoc "number": a JSON number with 4 decimals unless said otherwise. More decimals
 * are refused: they are the float noise (0.1 + 0.2) that makes a partner's total differ from ours.
 */
export const ocpiNumber = (decimalsMax = 4) =>
  z
    .number()
    .finite()
    .refine((value) => decimalCount(value) <= decimalsMax, `must have at most ${decimalsMax} decimals`);

export function decimalCount(value: number): number {
  const [mantissa = '', exponentText] = Math.abs(value).toString().split('e');
  const fraction = mantissa.split('.')[1] ?? '';
  const exponent = exponentText === undefined ? 0 : Number(exponentText);
  return Math.max(0, fraction.length - exponent);
}

/** A JSON integer ("int" in the spec tables). */
export const ocpiInt = z.int();

/** ISO 3166-1 alpha-2 country code of a party, CiString(2) (credentials "CredentialsRole"). */
export const countryCodeSchema = ciString(2).regex(/^[A-Za-z]{2}$/, 'must be an ISO 3166-1 alpha-2 code');
/** Party id following ISO 15118 (3 alphanumeric characters), CiString(3). */
export const partyIdSchema = ciString(3).regex(/^[A-Za-z0-9]{3}$/, 'must be 3 letters or digits');
/** ISO 3166-1 alpha-3 country of a Location, string(3). */
export const countryAlpha3Schema = ocpiString(3).regex(/^[A-Z]{3}$/, 'must be an ISO 3166-1 alpha-3 code');
/** ISO 639-1 language code, string(2). */
export const languageCodeSchema = ocpiString(2).regex(/^[a-z]{2}$/, 'must be an ISO 639-1 code such as "en"');
/** ISO 4217 currency code, string(3). */
export const currencySchema = ocpiString(3).regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code such as "EUR"');

/** types.asciidoc "DisplayText". */
export const displayTextSchema = z.object({
  language: languageCodeSchema,
  text: ocpiString(512),
});
export const displayTextsSchema = z.array(displayTextSchema).max(displayTextsMax);

/**
 * types.asciidoc "Price". Signed on purpose: a Credit CDR carries the negative amounts of the CDR
 * it credits (mod_cdrs "Credit CDRs"). The Tariffs module's own Price refuses negatives.
 */
export const priceSchema = z.object({
  excl_vat: ocpiNumber(),
  incl_vat: ocpiNumber().optional(),
});

/** types.asciidoc "Role". */
export const roles = ['CPO', 'EMSP', 'HUB', 'NAP', 'NSP', 'OTHER', 'SCSP'] as const;
export const roleSchema = z.enum(roles);

export type DateTime = z.infer<typeof dateTimeSchema>;
export type DisplayText = z.infer<typeof displayTextSchema>;
export type Price = z.infer<typeof priceSchema>;
export type Role = z.infer<typeof roleSchema>;
