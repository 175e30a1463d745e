import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { quoteIdentifier, type SqlDatabase } from './port.js';

/** Where the SQL lives: migrations/<group>/NNN_name.sql, applied in name order. */
export const migrationsRoot = fileURLToPath(new URL('../../migrations/', import.meta.url));

export interface MigrationFile {
  readonly name: string;
  readonly sql: string;
}

export async function loadMigrations(group: string): Promise<MigrationFile[]> {
  const folder = `${migrationsRoot}${group}/`;
  const names = (await readdir(folder)).filter((name) => name.endsWith('.sql')).sort();
  return Promise.all(names.map(async (name) => ({ name, sql: await readFile(folder + name, 'utf8') })));
}

/**
 * Applies a group's migrations to `schema` (created if missing), each file once, in its own
 * transaction. The SQL files use unqualified names and run with `search_path` set to the schema,
 * so the same files build a live schema or a fresh one for a projection rebuild. An advisory lock
 * keeps two nodes starting at once from applying the same file twice.
 * Returns the names of the files applied now.
 */
export async function migrate(db: SqlDatabase, group: string, schema: string): Promise<string[]> {
  const files = await loadMigrations(group);
  const quoted = quoteIdentifier(schema);
  const applied: string[] = [];
  for (const file of files) {
    const done = await db.transaction(async (tx) => {
      await tx.query(`SELECT pg_advisory_xact_lock(hashtext($1))`, [`csms-migrate:${schema}`]);
      await tx.exec(
        `CREATE SCHEMA IF NOT EXISTS ${quoted};
         CREATE TABLE IF NOT EXISTS ${quoted}.schema_migrations (
           name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now());`,
      );
      const seen = await tx.query(`SELECT 1 FROM ${quoted}.schema_migrations WHERE name = $1`, [file.name]);
      if (seen.rowCount > 0) return false;
      await tx.exec(`SET LOCAL search_path TO ${quoted}, public;`);
      await tx.exec(file.sql);
      await tx.query(`INSERT INTO ${quoted}.schema_migrations (name) VALUES ($1)`, [file.name]);
      return true;
    });
    if (done) applied.push(file.name);
  }
  return applied;
}
