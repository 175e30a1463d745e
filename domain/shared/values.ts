import { Decimal } from 'decimal.js';
import { z } from 'zod';
import { InvalidCommandError } from './errors.js';

/**
 * Value types shared by the aggregates' event schemas. Event data is JSON: quantities are decimal
 * strings (never JS floats, which cannot hold 0.1 Wh exactly) and times are ISO-8601 UTC strings.
 */

/** A non-negative decimal in plain notation, e.g. "1234.5" (energy registers, Wh). */
export const nonNegativeDecimalString = z.string().regex(/^\d+(\.\d+)?$/, 'a non-negative decimal string');

/** Times in event data are normalized to `Date.toISOString()` (UTC, milliseconds). */
export const isoTimestamp = z.iso.datetime();

export const idTokenSchema = z.object({
  /** The identifier as the station or partner sent it (RFID UID, eMAID...). */
  idToken: z.string().min(1).max(255),
  /** Free text: OCPP 2.0.1 IdTokenEnumType or OCPI TokenType; 1.6 has none (gateways send 'ISO14443' or 'Central'). */
  type: z.string().min(1).max(50),
});
export type IdToken = z.infer<typeof idTokenSchema>;

/** The same token as OCPP compares them: without case (1.6 IdToken CiString20, 2.0.1 idToken CiString36); the type is not compared. */
export function sameIdToken(a: IdToken, b: IdToken): boolean {
  return a.idToken.toLowerCase() === b.idToken.toLowerCase();
}

export const ocppVersions = ['1.6', '2.0.1'] as const;
export type OcppVersion = (typeof ocppVersions)[number];

/** Parses an ISO-8601 time from a command and normalizes it, or refuses the command. */
export function normalizeTimestamp(value: string, field: string, commandType: string): string {
  // Require an explicit zone: a station time without one cannot be ordered against other times.
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/i.test(value)) {
    throw new InvalidCommandError(`${field} is not an ISO-8601 time with a zone: ${value}`, commandType);
  }
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw new InvalidCommandError(`${field} is not a valid time: ${value}`, commandType);
  return new Date(ms).toISOString();
}

/** Milliseconds since the epoch of a normalized event time. */
export function timeMs(isoTime: string): number {
  return Date.parse(isoTime);
}

/** Checks a Wh quantity from a command and renders it as event data. */
export function whToString(value: Decimal, field: string, commandType: string): string {
  if (!Decimal.isDecimal(value) || !value.isFinite() || value.isNegative()) {
    throw new InvalidCommandError(`${field} must be a finite, non-negative decimal (Wh): ${String(value)}`, commandType);
  }
  return value.toFixed();
}

/** Checks an identifier (station, EVSE...) is a non-negative integer within OCPP's int range. */
export function checkNonNegativeInteger(value: number, field: string, commandType: string): number {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new InvalidCommandError(`${field} must be a non-negative integer: ${String(value)}`, commandType);
  }
  return value;
}

/** Checks a free-text field from a station or partner has a bounded length. */
export function checkText(value: string, field: string, lengthMax: number, commandType: string): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > lengthMax) {
    throw new InvalidCommandError(`${field} must be 1 to ${lengthMax} characters`, commandType);
  }
  return value;
}

/** Structural equality of JSON values (event data), for "same facts again" checks. */
export function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((item, i) => sameJson(item, b[i]));
  const aObject = a as Record<string, unknown>;
  const bObject = b as Record<string, unknown>;
  const keys = new Set([...Object.keys(aObject), ...Object.keys(bObject)]);
  for (const key of keys) {
    // An absent key and an undefined one are the same fact.
    if (!sameJson(aObject[key], bObject[key])) return false;
  }
  return true;
}
