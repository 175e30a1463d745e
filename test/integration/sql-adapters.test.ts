import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SqlDatabase } from '../../adapters/sql/port.js';
import { createTestPgliteDatabase, createTestPostgresDatabase, requirePostgres } from '../support/services.js';

// The two SQL adapters must return the same values for the same SQL, or code above them would
// behave differently embedded and on a server.
const postgresAvailable = await requirePostgres();

function sameValueConventions(name: string, open: () => Promise<{ db: SqlDatabase; done(): Promise<void> }>) {
  describe(`SQL adapter: ${name}`, () => {
    let db: SqlDatabase;
    let done: () => Promise<void>;
    beforeAll(async () => {
      ({ db, done } = await open());
    });
    afterAll(async () => done());

    it('returns int8, numeric and xid8 as exact strings and jsonb as objects', async () => {
      const { rows } = await db.query<{ big: string; exact: string; xid: string; doc: unknown }>(
        `SELECT 9007199254740993::int8 AS big, 0.1::numeric + 0.2::numeric AS exact,
                pg_current_xact_id() AS xid, '{"a":[1,"x"]}'::jsonb AS doc`,
      );
      expect(rows[0]!.big).toBe('9007199254740993');
      expect(rows[0]!.exact).toBe('0.3');
      expect(rows[0]!.xid).toMatch(/^\d+$/);
      expect(rows[0]!.doc).toEqual({ a: [1, 'x'] });
    });

    it('rolls a transaction back when its work throws, and commits otherwise', async () => {
      await db.exec('CREATE TABLE t (id int PRIMARY KEY)');
      await expect(
        db.transaction(async (tx) => {
          await tx.query('INSERT INTO t VALUES (1)');
          throw new Error('boom');
        }),
      ).rejects.toThrow('boom');
      await db.transaction(async (tx) => {
        await tx.query('INSERT INTO t VALUES (2)');
      });
      const { rows } = await db.query<{ id: number }>('SELECT id FROM t ORDER BY id');
      expect(rows).toEqual([{ id: 2 }]);
    });

    it('delivers NOTIFY to a listener', async () => {
      const received: string[] = [];
      const stop = await db.listen('csms_test', (payload) => received.push(payload));
      await db.query(`SELECT pg_notify('csms_test', 'hello')`);
      for (let i = 0; i < 50 && received.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
      await stop();
      expect(received).toEqual(['hello']);
    });
  });
}

sameValueConventions('PGlite', async () => {
  const db = await createTestPgliteDatabase();
  return { db, done: () => db.close() };
});

describe.skipIf(!postgresAvailable)('with PostgreSQL', () => {
  sameValueConventions('PostgreSQL', async () => {
    const database = await createTestPostgresDatabase('sql_adapters');
    return { db: database.open(), done: () => database.drop() };
  });
});
