import pg from 'pg';
import { RetryBackoff } from '../clock/backoff.js';
import { isDatabaseUnavailable } from './errors.js';
import type { QueryResult, SqlDatabase, SqlExecutor } from './port.js';

/** Connections one process opens to the server; the event store's group commit needs only a few. */
export const postgresPoolSizeDefault = 20;
/**
 * Longest wait for a connection (opening one, or a free pool slot). Without it a call made while
 * the server is unreachable waits forever; with it, it fails and the station gets an error, well
 * within the OCPP handler timeout (30 s), and the next call tries again.
 */
export const postgresConnectTimeoutMs = 10_000;
/** A LISTEN connection that broke is reopened after this, doubling up to the max, until it works. */
export const listenReconnectDelayMinMs = 100;
export const listenReconnectDelayMaxMs = 5_000;

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
  /** Where connection losses and reconnects are told (a restart of PostgreSQL is expected, not a bug). */
  readonly log?: (message: string) => void;
}

/**
 * A pg connection reports a lost server as an 'error' event; an EventEmitter without an 'error'
 * listener throws it, which ends the process. So every client we hold gets a listener, for as
 * long as we hold it: the pool's idle clients (pool 'error'), a client checked out for a
 * transaction, every LISTEN client. What the query in flight gets is its own rejection.
 */
export function openPostgres(options: PostgresOptions): SqlDatabase {
  const log = options.log ?? (() => {});
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    max: options.poolSize ?? postgresPoolSizeDefault,
    application_name: options.applicationName ?? 'open-csms',
    connectionTimeoutMillis: postgresConnectTimeoutMs,
  });
  // An idle client that loses its server connection: the pool drops it, the next checkout opens a new one.
  pool.on('error', (error) => log(`postgres: an idle connection was lost (${error.message}); the next query opens a new one`));
  const executor = executorFor(pool);
  return {
    kind: 'postgres',
    query: executor.query,
    exec: executor.exec,
    async transaction<T>(work: (tx: SqlExecutor) => Promise<T>): Promise<T> {
      const client = await checkOutForTransaction(pool);
      // While checked out the pool's own listener is off: a server going away between two
      // statements of this transaction (awaiting `work`) would otherwise crash the process.
      let broken = false;
      const onError = () => {
        broken = true;
      };
      client.on('error', onError);
      try {
        const result = await work(executorFor(client));
        await client.query('COMMIT');
        return result;
      } catch (error) {
        if (!broken) {
          try {
            await client.query('ROLLBACK');
          } catch {
            broken = true; // connection is gone: do not hand it back to the pool
          }
        }
        throw error;
      } finally {
        client.removeListener('error', onError);
        // A broken client is destroyed by the pool, never handed to the next caller.
        client.release(broken);
      }
    },
    listen(channel: string, onNotify: (payload: string) => void): Promise<() => Promise<void>> {
      return listenReconnecting(options, channel, onNotify, log);
    },
    async close(): Promise<void> {
      await pool.end();
    },
  };
}

/**
 * Attempts at BEGIN. An idle pooled connection whose server went away (restart, terminated
 * backend) can be handed out before its loss is noticed; BEGIN on it fails before anything of
 * the transaction ran, so trying once more on a fresh connection is safe and spares the caller
 * an error while the server is in fact back.
 */
export const transactionBeginAttemptsMax = 2;

/** A pool client with BEGIN done; a client that failed BEGIN is destroyed, never reused. */
async function checkOutForTransaction(pool: pg.Pool): Promise<pg.PoolClient> {
  for (let attempt = 1; ; attempt += 1) {
    const client = await pool.connect();
    const onError = () => {}; // the loss surfaces as BEGIN's rejection below
    client.on('error', onError);
    try {
      await client.query('BEGIN');
      return client;
    } catch (error) {
      client.release(true);
      if (attempt >= transactionBeginAttemptsMax || !isDatabaseUnavailable(error)) throw error;
    } finally {
      client.removeListener('error', onError);
    }
  }
}

/**
 * LISTEN on a connection of its own that stays open, reopened with bounded backoff when the
 * server drops it (restart, failover, pg_terminate_backend). Notifications sent while it was
 * down are lost, so a reopened listener calls `onNotify('')` once: listeners re-read instead of
 * waiting for their next poll. The first connection must succeed (the caller learns at once
 * that the server is not there); later losses never reach the caller.
 */
async function listenReconnecting(
  options: PostgresOptions,
  channel: string,
  onNotify: (payload: string) => void,
  log: (message: string) => void,
): Promise<() => Promise<void>> {
  let current: pg.Client | null = null;
  let stopped = false;
  const backoff = new RetryBackoff(listenReconnectDelayMinMs, listenReconnectDelayMaxMs);
  let retryTimer: NodeJS.Timeout | undefined;

  async function open(): Promise<void> {
    const client = new pg.Client({
      connectionString: options.connectionString,
      application_name: `${options.applicationName ?? 'open-csms'}-listen`,
      connectionTimeoutMillis: postgresConnectTimeoutMs,
    });
    let dead = false;
    const onLost = (why: string) => {
      if (dead) return;
      dead = true;
      if (current === client) lost(client, why);
    };
    client.on('error', (error) => onLost(error.message));
    client.on('end', () => onLost('connection ended'));
    client.on('notification', (message) => {
      if (message.channel === channel) onNotify(message.payload ?? '');
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${pg.escapeIdentifier(channel)}`);
    } catch (error) {
      dead = true;
      await client.end().catch(() => {});
      throw error;
    }
    if (stopped || dead) {
      await client.end().catch(() => {});
      if (!stopped) throw new Error('LISTEN connection lost while opening');
      return;
    }
    current = client;
  }

  function lost(client: pg.Client, why: string): void {
    current = null;
    void client.end().catch(() => {});
    if (stopped) return;
    log(`postgres: LISTEN ${channel} connection lost (${why}); reopening`);
    scheduleReopen();
  }

  function scheduleReopen(): void {
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      if (stopped) return;
      open().then(
        () => {
          if (stopped) return;
          backoff.reset();
          log(`postgres: LISTEN ${channel} reopened`);
          onNotify('');
        },
        () => {
          if (!stopped) scheduleReopen(); // a failure after stop() schedules nothing that would outlive it
        },
      );
    }, backoff.next());
  }

  await open();
  return async () => {
    stopped = true;
    clearTimeout(retryTimer);
    const client = current;
    current = null;
    await client?.end().catch(() => {});
  };
}
