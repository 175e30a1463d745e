import { createHash, randomBytes } from 'node:crypto';

/**
 * Credentials tokens in the Authorization header (spec 4.1.2): `Token <base64(UTF-8 token)>`.
 * Many 2.1.1/2.2 implementations send the token without Base64; the spec leaves compatibility to
 * the implementation, so we try the decoded value first and then the header value as it is.
 * Both are only candidates: the caller looks each up by hash and the first known one wins.
 */

/** Credentials object `token` is string(64) of printable non-whitespace ASCII (U+0021..U+007E). */
export const credentialsTokenCharsMax = 64;
const printableAscii = /^[\x21-\x7e]+$/;

export function credentialsTokenCandidates(header: string | undefined): string[] {
  if (header === undefined) return [];
  const match = /^Token\s+(\S+)\s*$/i.exec(header);
  if (!match) return [];
  const value = match[1]!;
  const candidates: string[] = [];
  if (/^[A-Za-z0-9+/]+={0,2}$/.test(value) && value.length % 4 === 0) {
    // The spec's own examples encode a trailing newline; it is not part of any token.
    const decoded = Buffer.from(value, 'base64').toString('utf8').replace(/\r?\n$/, '');
    if (printableAscii.test(decoded) && decoded.length <= credentialsTokenCharsMax) candidates.push(decoded);
  }
  if (printableAscii.test(value) && value.length <= credentialsTokenCharsMax && !candidates.includes(value)) candidates.push(value);
  return candidates;
}

/** The header we send: always Base64, as 2.2.1 requires. */
export function authorizationHeader(token: string): string {
  return `Token ${Buffer.from(token, 'utf8').toString('base64')}`;
}

/**
 * Tokens partners present to us are ones we generated (A, C, or B when we register with them):
 * 32 random bytes, so a plain SHA-256 is enough to make a stored hash useless to a reader of the
 * events or read model (no dictionary to try, unlike passwords).
 */
export function credentialsTokenHash(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** A fresh credentials token: 43 base64url characters, within string(64), printable ASCII. */
export function newCredentialsToken(): string {
  return randomBytes(32).toString('base64url');
}
