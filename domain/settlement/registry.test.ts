import { describe, expect, it } from 'vitest';
import { cdrEventDefinitions } from '../cdr/events.js';
import { ledgerEventDefinitions } from '../ledger/events.js';
import { settlementEventDefinitions } from './events.js';

// The lists the lead adds to domain/events.ts: one entry per type, each with a schema and an upcaster from every older version.
describe('billing event registry entries', () => {
  const all = [...cdrEventDefinitions, ...ledgerEventDefinitions, ...settlementEventDefinitions];

  it('names every event type once, with its aggregate and a version', () => {
    const types = all.map((definition) => definition.type);
    expect(new Set(types).size).toBe(types.length);
    for (const definition of all) {
      expect(['cdr', 'ledger', 'settlement']).toContain(definition.aggregateType);
      expect(definition.schemaVersion).toBeGreaterThanOrEqual(1);
      for (let version = 1; version < definition.schemaVersion; version += 1) expect(definition.upcasters?.[version]).toBeDefined();
      expect(typeof definition.schema.safeParse).toBe('function');
    }
  });

  it('refuses money as a JSON number in event data', () => {
    const posted = ledgerEventDefinitions.find((definition) => definition.type === 'JournalEntryPosted')!;
    const line = { account: 'revenue:charging', side: 'credit', amount: 7, currency: 'EUR' };
    const entry = { entryId: 'E', postedAt: '2025-03-01T00:00:00.000Z', description: 'd', source: { kind: 'cdr', id: 'C' }, lines: [line, line] };
    expect(posted.schema.safeParse(entry).success).toBe(false);
    expect(posted.schema.safeParse({ ...entry, lines: [{ ...line, amount: '7' }, { ...line, amount: '7' }] }).success).toBe(true);
  });
});
