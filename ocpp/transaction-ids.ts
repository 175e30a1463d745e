import { createHash } from 'node:crypto';
import type { SqlDatabase } from '../adapters/sql/port.js';

/**
 * OCPP 1.6 transaction ids: StartTransaction.conf carries an integer the CSMS chooses (§6.46),
 * which the station then names in MeterValues and StopTransaction. Our transaction aggregate id for
 * a 1.6 transaction is that integer as a decimal string, so those messages find their stream
 * without an index. (2.0.1 stations choose their own ids; see v201/transaction-event.ts.)
 *
 * `idFor` is idempotent per start key: a StartTransaction delivered twice, under the same message
 * id or (after a reconnect) a new one, gets the same integer, so the station is told the same id
 * and the start is appended once. The key is built from the start's own facts by the translator.
 */
export interface TransactionIdAllocator {
  idFor(tenantId: string, startKey: string): Promise<number>;
}

/** 1.6 transactionId is a JSON integer; stations store it as a signed 32-bit int. */
export const ocpp16TransactionIdMax = 2_147_483_647;
/** The in-memory allocator remembers this many starts; older ones could be handed a new id on a very late retry. */
export const memoryTransactionIdKeysMax = 100_000;

/** For tests and the single-process embedded mode: ids restart at `firstId` with the process. */
export function memoryTransactionIdAllocator(firstId = 1): TransactionIdAllocator {
  const ids = new Map<string, number>();
  let next = firstId;
  return {
    async idFor(tenantId, startKey) {
      const key = `${tenantId}\n${startKey}`;
      const known = ids.get(key);
      if (known !== undefined) return known;
      if (next > ocpp16TransactionIdMax) throw new Error('1.6 transaction ids exhausted');
      const id = next;
      next += 1;
      ids.set(key, id);
      // Map keeps insertion order: drop the oldest first.
      while (ids.size > memoryTransactionIdKeysMax) ids.delete(ids.keys().next().value as string);
      return id;
    },
  };
}

/**
 * Postgres (and PGlite): a sequence hands out the integers, cluster-wide; a table remembers which
 * start got which, so a retry on any node gets the same one. A number drawn by a start that loses
 * the insert race is skipped: gaps are harmless, a reused id is not.
 */
export async function postgresTransactionIdAllocator(db: SqlDatabase): Promise<TransactionIdAllocator> {
  await db.exec(`
    CREATE SEQUENCE IF NOT EXISTS ocpp16_transaction_id_seq AS integer START WITH 1 MAXVALUE ${ocpp16TransactionIdMax} NO CYCLE;
    CREATE TABLE IF NOT EXISTS ocpp16_transaction_ids (
      tenant_id text NOT NULL,
      start_key_hash text NOT NULL,
      transaction_id integer NOT NULL UNIQUE,
      allocated_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (tenant_id, start_key_hash)
    );
  `);
  const select = async (tenantId: string, hash: string) => {
    const found = await db.query<{ transaction_id: number }>(
      'SELECT transaction_id FROM ocpp16_transaction_ids WHERE tenant_id = $1 AND start_key_hash = $2',
      [tenantId, hash],
    );
    return found.rows[0]?.transaction_id;
  };
  return {
    async idFor(tenantId, startKey) {
      // Hashed: the key holds the id tag and station id, and a fixed width keeps the index small.
      const hash = createHash('sha256').update(startKey).digest('hex');
      const known = await select(tenantId, hash);
      if (known !== undefined) return Number(known);
      const inserted = await db.query<{ transaction_id: number }>(
        `INSERT INTO ocpp16_transaction_ids (tenant_id, start_key_hash, transaction_id)
         VALUES ($1, $2, nextval('ocpp16_transaction_id_seq'))
         ON CONFLICT (tenant_id, start_key_hash) DO NOTHING
         RETURNING transaction_id`,
        [tenantId, hash],
      );
      const id = inserted.rows[0]?.transaction_id ?? (await select(tenantId, hash));
      if (id === undefined) throw new Error('transaction id neither inserted nor found');
      return Number(id);
    },
  };
}
