import { describe, expect, it } from 'vitest';
import { openMemoryEventStore } from '../../adapters/event-store/memory.js';
import { appendToggledToken } from '../../test/support/token-streams.js';
import { readTokenFromStream } from './store.js';

/**
 * A token's stream may be as long as any stream a command may append to (commands/handler.ts
 * `streamEventsMax`): an eMSP toggling `valid` 5,000 times makes 10,000 events, and GET must still
 * answer. The streams are generated straight into the store (fast), not through 5,000 PATCHes.
 */

const key = { countryCode: 'DE', partyId: 'EMP', uid: 'TOGGLED', type: 'RFID' };

describe('OCPI token GET on a long stream', () => {
  it('answers a token with 10,001 events (5,000 valid toggles) from its whole stream', async () => {
    const store = openMemoryEventStore();
    await appendToggledToken(store, 'token-t1-TOGGLED', 'TOGGLED', 5_000);
    const token = await readTokenFromStream(store, 't1', key);
    expect(token).toMatchObject({ uid: 'TOGGLED', valid: true, last_updated: new Date(Date.UTC(2026, 0, 1, 0, 0, 10)).toISOString() });
  });
});
