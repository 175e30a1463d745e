import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

/**
 * The token we present to a partner must be usable again after a restart, so unlike the tokens
 * they present to us it cannot be a hash. It is sealed with AES-256-GCM under a key derived
 * (HKDF-SHA256) from the OCPI_SECRET setting; the sealed text is what events and the read model
 * hold. With no secret configured (a lab, the embedded default) it is kept as-is, prefixed
 * `plain.`, and the plugin warns at start: events are never rewritten, so set the secret before
 * registering the first real partner. A sealed token from another secret fails loudly on open.
 */

/** Shorter secrets are guessable; refused at start. */
export const ocpiSecretCharsMin = 32;
const ivBytes = 12;

export interface TokenSealer {
  readonly encrypts: boolean;
  seal(token: string): string;
  open(sealed: string): string;
}

export function createTokenSealer(secret: string | null): TokenSealer {
  if (secret !== null && secret.length < ocpiSecretCharsMin) throw new Error(`OCPI_SECRET must be at least ${ocpiSecretCharsMin} characters`);
  const key = secret === null ? null : Buffer.from(hkdfSync('sha256', secret, 'open-csms', 'ocpi credentials token seal v1', 32));
  return {
    encrypts: key !== null,
    seal(token) {
      if (key === null) return `plain.${token}`;
      const iv = randomBytes(ivBytes);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      const body = Buffer.concat([cipher.update(token, 'utf8'), cipher.final()]);
      return ['v1', iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), body.toString('base64url')].join('.');
    },
    open(sealed) {
      if (sealed.startsWith('plain.')) return sealed.slice('plain.'.length);
      const [version, iv, tag, body] = sealed.split('.');
      if (version !== 'v1' || iv === undefined || tag === undefined || body === undefined) throw new Error('not a sealed credentials token');
      if (key === null) throw new Error('a sealed credentials token needs OCPI_SECRET to open');
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8');
    },
  };
}
