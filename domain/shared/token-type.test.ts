import { describe, expect, it } from 'vitest';
import { ocpiTokenTypeOf, ocpiTokenTypes } from './token-type.js';

// Sessions (projections/ocpi-sessions-tokens.ts), CDRs (commands/process/cdr-builder.ts) and
// real-time authorization (ocpi/tokens/realtime.ts) all use this one mapping.
describe('one OCPI TokenType for an id token', () => {
  it('passes OCPI types through, maps cards and keys to RFID, central ids and eMAIDs to APP_USER, the rest to OTHER', () => {
    for (const type of ocpiTokenTypes) expect(ocpiTokenTypeOf(type)).toBe(type);
    expect(['ISO14443', 'ISO15693', 'Local', 'KeyCode', 'Central', 'eMAID', 'NoAuthorization', 'MacAddress'].map(ocpiTokenTypeOf)).toEqual([
      'RFID', 'RFID', 'RFID', 'RFID', 'APP_USER', 'APP_USER', 'OTHER', 'OTHER',
    ]);
  });
});
