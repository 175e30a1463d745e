import pg from 'pg';
import type { QueryResult, SqlDatabase, SqlExecutor } from './port.js';

/** Connections one process opens to the server; the event store's group commit needs only a few. */
export const postgresPoolSizeDefault = 20;

function executorFor(client: pg.Pool | pg.PoolClient): SqlExecutor {
  return {
    async query<Row>(text: string, params?: readonly unknown[]): Promise<QueryResult<Row>> {
      const result = await client.query(text, params as unknown[] | undefined);
      return { rows: result.rows as Row[], rowCount: result.rowCount ?? 0 };
    },
    async exec(script: string): Promise<void> {
      await client.query(script);
    },
  };
}

export interface PostgresOptions {
  readonly connectionString: string;
  readonly poolSize?: number;
  readonly applicationName?: string;
}

export function openPostgres(options: PostgresOptions): SqlDatabase {
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    max: options.poolSize ?? postgresPoolSizeDefault,
    application_name: options.applicationName ?? 'open-csms',
  });
  // An idle client that loses its server connection emits 'error' on the pool; without a
  // listener that would crash the process. The next checkout simply opens a new connection.
  pool.on('error', () => {});
  const executor = executorFor(pool);
  return {
    kind: 'postgres',
    query: executor.query,
    exec: executor.exec,
    async transaction<T>(work: (tx: SqlExecutor) => Promise<T>): Promise<T> {
      const client = await pool.connect();
      let broken = false;
      try {
        await client.query('BEGIN');
        const result = await work(executorFor(client));
        await client.query('COMMIT');
        return result;
      } catch (error) {
        try {
          await client.query('ROLLBACK');
        } catch {
          broken = true; // connection is gone: do not hand it back to the pool
        }
        throw error;
      } finally {
        client.release(broken);
      }
    },
    async listen(channel: string, onNotify: (payload: string) => void): Promise<() => Promise<void>> {
      // LISTEN needs a connection of its own that stays open.
      const client = new pg.Client({ connectionString: options.connectionString });
      client.on('error', () => {});
      await client.connect();
      client.on('notification', (message) => {
        if (message.channel === channel) onNotify(message.payload ?? '');
      });
      await client.query(`LISTEN ${pg.escapeIdentifier(channel)}`);
      return async () => {
        await client.end().catch(() => {});
      };
    },
    async close(): Promise<void> {
      await pool.end();
    },
  };
}
