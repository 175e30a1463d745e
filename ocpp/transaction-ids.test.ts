import { afterAll, describe, expect, it } from 'vitest';
import type { SqlDatabase } from '../adapters/sql/port.js';
import { createTestPgliteDatabase } from '../test/support/services.js';
import { memoryTransactionIdAllocator, postgresTransactionIdAllocator, type TransactionIdAllocator } from './transaction-ids.js';

async function behavesAsAllocator(allocator: TransactionIdAllocator) {
  const first = await allocator.idFor('t1', 'start-a');
  const second = await allocator.idFor('t1', 'start-b');
  expect(second).not.toBe(first);
  expect(await allocator.idFor('t1', 'start-a')).toBe(first);
  // The same start key in another tenant is another start.
  expect(await allocator.idFor('t2', 'start-a')).not.toBe(first);
  const concurrent = await Promise.all(Array.from({ length: 20 }, () => allocator.idFor('t1', 'start-c')));
  expect(new Set(concurrent).size).toBe(1);
  for (const id of [first, second, ...concurrent]) expect(Number.isSafeInteger(id) && id > 0 && id <= 2_147_483_647).toBe(true);
}

describe('1.6 transaction id allocators', () => {
  it('memory: one id per start key, the same again for a retry', async () => {
    await behavesAsAllocator(memoryTransactionIdAllocator());
  });

  let db: SqlDatabase | undefined;
  afterAll(async () => db?.close());

  it('Postgres (PGlite): a sequence and a key table; creating it twice is harmless', async () => {
    db = await createTestPgliteDatabase();
    await postgresTransactionIdAllocator(db);
    const allocator = await postgresTransactionIdAllocator(db);
    await behavesAsAllocator(allocator);
    // Another node over the same database gives the same answer.
    expect(await (await postgresTransactionIdAllocator(db)).idFor('t1', 'start-a')).toBe(await allocator.idFor('t1', 'start-a'));
  });
});
