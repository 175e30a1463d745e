import { createSecureContext, type SecureVersion } from 'node:tls';

/**
 * The TLS settings of the HTTPS/WSS listener (issue 9, point 14), after Mozilla's server-side TLS
 * recommendations (https://wiki.mozilla.org/Security/Server_Side_TLS):
 * - `intermediate` (default): TLS 1.2 and 1.3; on 1.2 only ephemeral key exchange (ECDHE, DHE)
 *   with AEAD ciphers (AES-GCM, ChaCha20-Poly1305), so every session has forward secrecy and no
 *   CBC suite is offered. Covers the OCPP 2.0.1 / 1.6-security requirement of TLS 1.2 with
 *   ECDHE-ECDSA AES-GCM suites.
 * - `modern`: TLS 1.3 only (its suites are all AEAD with forward secrecy).
 * Stations that only speak the OCPP-permitted RSA key-exchange suites (TLS_RSA_WITH_AES_128_GCM_SHA256,
 * no forward secrecy) need `TLS_CIPHERS` with `AES128-GCM-SHA256:AES256-GCM-SHA384` added: a
 * deliberate, visible choice rather than the default.
 * The server does not impose its cipher order (honorCipherOrder false, as the profile says): every
 * suite on the list is strong, so the client picks what is fastest for its hardware.
 */

export const tlsProfiles = ['intermediate', 'modern'] as const;
export type TlsProfile = (typeof tlsProfiles)[number];
export const tlsProfileDefault: TlsProfile = 'intermediate';

/** TLS 1.3 suites (OpenSSL's names), used by both profiles. */
const tls13Suites = ['TLS_AES_128_GCM_SHA256', 'TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256'];

/** TLS 1.2 suites of the intermediate profile (OpenSSL's names): ECDHE/DHE key exchange, AEAD only. */
const tls12IntermediateSuites = [
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
  'DHE-RSA-AES128-GCM-SHA256',
  'DHE-RSA-AES256-GCM-SHA384',
  'DHE-RSA-CHACHA20-POLY1305',
];

export interface TlsProtocolOptions {
  readonly minVersion: SecureVersion;
  readonly ciphers: string;
  readonly honorCipherOrder: false;
}

/** The `tls.createServer` options of a profile; `ciphers` (TLS_CIPHERS, OpenSSL list syntax) replaces the profile's list. */
export function tlsProtocolOptions(profile: TlsProfile, ciphers: string | null = null): TlsProtocolOptions {
  const suites = profile === 'modern' ? tls13Suites : [...tls13Suites, ...tls12IntermediateSuites];
  return { minVersion: profile === 'modern' ? 'TLSv1.3' : 'TLSv1.2', ciphers: ciphers ?? suites.join(':'), honorCipherOrder: false };
}

/** Why OpenSSL would refuse a cipher list (unknown names, nothing usable), or null when it takes it. */
export function cipherListProblem(ciphers: string): string | null {
  try {
    createSecureContext({ ciphers });
    return null;
  } catch (error) {
    return (error as Error).message;
  }
}
