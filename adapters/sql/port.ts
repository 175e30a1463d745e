/**
 * The one SQL interface the event store, projections and CLI use, implemented for a real
 * PostgreSQL server (`pg`) and for embedded PGlite. Both speak the same SQL; differences
 * (one connection in PGlite, LISTEN on a dedicated client in pg) stay inside the adapters.
 *
 * Value conventions, the same on both: int8/numeric/xid8 come back as strings (never lossy
 * floats), jsonb as parsed JSON, timestamptz as Date.
 */
export interface QueryResult<Row> {
  readonly rows: Row[];
  readonly rowCount: number;
}

export interface SqlExecutor {
  query<Row = Record<string, unknown>>(text: string, params?: readonly unknown[]): Promise<QueryResult<Row>>;
  /** Runs a script of several statements without parameters (migrations, DDL). */
  exec(script: string): Promise<void>;
}

export interface SqlDatabase extends SqlExecutor {
  readonly kind: 'postgres' | 'pglite';
  /** Runs `work` in one transaction: COMMIT when it resolves, ROLLBACK when it throws. */
  transaction<T>(work: (tx: SqlExecutor) => Promise<T>): Promise<T>;
  /**
   * LISTEN on a channel; resolves with a function that stops listening. A connection lost later
   * is reopened by the adapter, which then calls `onNotify('')` once for what it may have missed.
   */
  listen(channel: string, onNotify: (payload: string) => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

/** Quotes an identifier we build ourselves (schema names); refuses anything unusual rather than escaping it. */
export function quoteIdentifier(name: string): string {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) throw new Error(`refusing unusual SQL identifier: ${name}`);
  return `"${name}"`;
}
