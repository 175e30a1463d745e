import {
  DummyDriver,
  Kysely,
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
  type Compilable,
} from 'kysely';
import type { QueryResult, SqlExecutor } from './port.js';

/**
 * Kysely used as a typed query builder only; queries run through our SqlExecutor, so the same
 * code works on `pg`, on PGlite and inside any transaction we hold (Kysely's "splitting query
 * building and execution" recipe). Build with `queryBuilder<DB>()`, run with `execute`.
 */
export function queryBuilder<DB>(): Kysely<DB> {
  return new Kysely<DB>({
    dialect: {
      createAdapter: () => new PostgresAdapter(),
      createDriver: () => new DummyDriver(),
      createIntrospector: (db) => new PostgresIntrospector(db),
      createQueryCompiler: () => new PostgresQueryCompiler(),
    },
  });
}

export async function execute<Row>(executor: SqlExecutor, query: Compilable<Row>): Promise<QueryResult<Row>> {
  const compiled = query.compile();
  return executor.query<Row>(compiled.sql, compiled.parameters);
}
