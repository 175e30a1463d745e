import { PGlite, types, type Transaction } from '@electric-sql/pglite';
import type { QueryResult, SqlDatabase, SqlExecutor } from './port.js';

// Keep PGlite's values the same as node-postgres gives them: 64-bit integers and numerics as
// strings (exact), so code above the adapter never sees a lossy number or a surprise bigint.
const sameAsNodePostgres = {
  [types.INT8]: (value: string) => value,
  [types.NUMERIC]: (value: string) => value,
};

function executorFor(target: PGlite | Transaction): SqlExecutor {
  return {
    async query<Row>(text: string, params?: readonly unknown[]): Promise<QueryResult<Row>> {
      const result = await target.query<Row>(text, params as unknown[] | undefined, { parsers: sameAsNodePostgres });
      return { rows: result.rows, rowCount: Math.max(result.affectedRows ?? 0, result.rows.length) };
    },
    async exec(script: string): Promise<void> {
      await target.exec(script);
    },
  };
}

export interface PgliteOptions {
  /** A folder for the data files; omit for an in-memory database (tests). */
  readonly dataDir?: string;
  /**
   * A dumped cluster (PGlite's dumpDataDir) to start from instead of a new one: skips initdb,
   * seconds of start-up; tests open their in-memory databases this way.
   */
  readonly initialData?: Blob;
}

/**
 * Embedded Postgres: the zero-setup default. One connection: PGlite runs one query or
 * transaction at a time, so concurrency here means queueing, never interleaving.
 */
export async function openPglite(options: PgliteOptions = {}): Promise<SqlDatabase> {
  const db = await PGlite.create({ dataDir: options.dataDir ?? 'memory://', loadDataDir: options.initialData });
  const executor = executorFor(db);
  return {
    kind: 'pglite',
    query: executor.query,
    exec: executor.exec,
    transaction<T>(work: (tx: SqlExecutor) => Promise<T>): Promise<T> {
      return db.transaction((tx) => work(executorFor(tx)));
    },
    async listen(channel: string, onNotify: (payload: string) => void): Promise<() => Promise<void>> {
      const unsubscribe = await db.listen(channel, onNotify);
      return unsubscribe;
    },
    async close(): Promise<void> {
      await db.close();
    },
  };
}
