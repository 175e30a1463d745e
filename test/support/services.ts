import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { openPglite } from '../../adapters/sql/pglite.js';
import { openPostgres } from '../../adapters/sql/postgres.js';
import type { SqlDatabase } from '../../adapters/sql/port.js';
import { pgliteClusterDump } from './pglite-template.js';

/**
 * Real services for tests. A file that needs a server asks `requirePostgres()` (etc.): on a
 * machine without it the file's tests are skipped with a visible message, and under CI=true a
 * missing service fails the run instead, so CI can never go green by skipping.
 */

export const testPostgresUrl = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const testRedisUrl = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
export const testInfluxUrl = process.env.TEST_INFLUX_URL ?? 'http://127.0.0.1:8086';
export const isCi = process.env.CI === 'true';

async function postgresReachable(): Promise<string | null> {
  const client = new pg.Client({ connectionString: testPostgresUrl, connectionTimeoutMillis: 3_000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return null;
  } catch (error) {
    return (error as Error).message;
  } finally {
    await client.end().catch(() => {});
  }
}

let postgresProbe: Promise<string | null> | undefined;

/**
 * Resolves true when PostgreSQL answers at TEST_DATABASE_URL. Use with `describe.skipIf(!available)`.
 * Prints why tests are skipped; throws under CI=true.
 */
export async function requirePostgres(): Promise<boolean> {
  postgresProbe ??= postgresReachable();
  const problem = await postgresProbe;
  if (problem === null) return true;
  const message = `PostgreSQL not reachable at ${testPostgresUrl} (${problem})`;
  if (isCi) throw new Error(`${message}: CI=true requires it`);
  console.warn(`SKIPPED: ${message}; its tests are skipped on this machine.`);
  return false;
}

/**
 * A database of its own for one test file, dropped by the returned `drop()`. Files run in
 * parallel; separate databases mean they never see each other's events or read models.
 */
export async function createTestPostgresDatabase(label: string): Promise<{ url: string; open(poolSize?: number): SqlDatabase; drop(): Promise<void> }> {
  const name = `csms_t_${label.toLowerCase().replace(/[^a-z0-9]+/g, '_').slice(0, 30)}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: testPostgresUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`);
  } finally {
    await admin.end();
  }
  const url = new URL(testPostgresUrl);
  url.pathname = `/${name}`;
  const opened: SqlDatabase[] = [];
  return {
    url: url.toString(),
    open(poolSize?: number) {
      const db = openPostgres({ connectionString: url.toString(), poolSize, applicationName: `csms-test-${label}` });
      opened.push(db);
      return db;
    },
    async drop() {
      for (const db of opened) await db.close().catch(() => {});
      const dropper = new pg.Client({ connectionString: testPostgresUrl });
      await dropper.connect();
      try {
        await dropper.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`);
      } finally {
        await dropper.end();
      }
    },
  };
}

/**
 * An in-memory embedded database: always available, nothing to clean up but `close()`. It starts
 * from an initialized cluster (test/support/pglite-template.ts) rather than running initdb.
 */
export async function createTestPgliteDatabase(): Promise<SqlDatabase> {
  return openPglite({ initialData: await pgliteClusterDump() });
}
