import { expect } from 'vitest';
import type { EventStore } from '../../adapters/event-store/port.js';
import type { SqlDatabase } from '../../adapters/sql/port.js';
import { allProjections, migrateProjections, startProjectionRunners } from '../../projections/index.js';
import { liveSchemaName } from '../../projections/schema.js';
import { generateChargingHistory, tamperWithEvent } from '../support/cli.js';
import { runCliInProcess } from '../support/cli-in-process.js';

/**
 * The acceptance test of "Event-sourced core": a charging history produced through the command
 * bus, projections caught up as a server would, then `csms projections rebuild --all` replays
 * every event into fresh schemas and swaps them in (with progress on stderr), `csms projections
 * verify` finds the same checksums as the live read models, and `csms audit verify` names an
 * event altered in SQL.
 *
 * What is proven does not depend on the size, so the history is small enough to take seconds:
 * the rebuild at scale (1,000,000 events, >= 100,000 events/s per projection) is measured by
 * `npm run bench:rebuild` (test/bench/rebuild.ts, results in test/bench/RESULTS.md). The live
 * schemas serving reads during the command is checked on PostgreSQL here, and with new events
 * arriving during a rebuild in test/integration/projection-rebuild.test.ts. The commands run in-process
 * (test/support/cli-in-process.ts): the process boundary is not what is tested here.
 */

/**
 * Enough for every kind of event the history has (registrations, boots, statuses, sessions with
 * readings), eight stations interleaving in $all, and the tampered stream below (CP-0005's third
 * session). Paging through $all (10,000 events a page) is the event store contract's to test.
 */
export const acceptanceEventsMin = 500;
/** A rebuild or verify of 500 events takes well under a second; generous for a loaded CI machine. */
export const cliTimeoutMs = 60_000;
export const testTimeoutMs = 120_000;

/** The event altered behind the store's back: a meter reading in the middle of a session. */
const tamperedStream = 'transaction-default-CP-0005-T2';
const tamperedRevision = 7;

/**
 * Generates the history and lets the projection runners catch up, as a running server would.
 * Returns how many events were appended and the live schemas as they are before any rebuild.
 */
export async function historyWithProjectionsCaughtUp(
  db: SqlDatabase,
  eventStore: EventStore,
  eventsMin = acceptanceEventsMin,
): Promise<{ events: number; schemas: ProjectionSchemas }> {
  const { events } = await generateChargingHistory(eventStore, eventsMin);
  await migrateProjections({ db, eventStore });
  const runners = startProjectionRunners({ db, eventStore }, { owner: 'acceptance-test' });
  try {
    await runners.idle();
  } finally {
    await runners.stop();
  }
  return { events, schemas: await projectionSchemas(db) };
}

/** The identity of each projection's live schema (its oid), and any aside schema left over. */
export interface ProjectionSchemas {
  /** Projection name -> oid of its live schema. */
  readonly live: Readonly<Record<string, string>>;
  /** Any other proj_ schema: a rebuild's or verify's copy left behind. */
  readonly aside: readonly string[];
}

export async function projectionSchemas(db: SqlDatabase): Promise<ProjectionSchemas> {
  const { rows } = await db.query<{ name: string; oid: string }>(`SELECT nspname AS name, oid::text AS oid FROM pg_namespace WHERE nspname LIKE 'proj\\_%'`);
  const liveNames = new Map(allProjections().map((projection) => [liveSchemaName(projection.name), projection.name]));
  const live: Record<string, string> = {};
  const aside: string[] = [];
  for (const row of rows) {
    const projection = liveNames.get(row.name);
    if (projection !== undefined) live[projection] = row.oid;
    else aside.push(row.name);
  }
  return { live, aside };
}

export interface AcceptanceWorld {
  readonly env: Record<string, string>;
  /** How many events the history holds: every rebuild must replay exactly these. */
  readonly events: number;
  /** The live schemas before the commands run. */
  readonly schemasBefore: ProjectionSchemas;
  /**
   * Runs `work` on the database between two commands, once (the embedded database cannot be
   * open during a command, and opening it takes seconds).
   */
  readonly inspect: <T>(work: (db: SqlDatabase) => Promise<T>) => Promise<T>;
  /**
   * One read of the live read models, repeated while the rebuild runs; every read must succeed.
   * Only where a second connection can read meanwhile (PostgreSQL): the embedded database has
   * one user at a time.
   */
  readonly readLive?: () => Promise<unknown>;
}

/** Repeats `read` until stopped; resolves with how many reads succeeded and the errors met. */
function readRepeatedly(read: () => Promise<unknown>): { stop(): Promise<{ reads: number; errors: unknown[] }> } {
  let reading = true;
  let reads = 0;
  const errors: unknown[] = [];
  const loop = (async () => {
    while (reading) {
      try {
        await read();
        reads++;
      } catch (error) {
        errors.push(error);
      }
      await new Promise((resolve) => setImmediate(resolve));
    }
  })();
  return {
    async stop() {
      reading = false;
      await loop;
      return { reads, errors };
    },
  };
}

const cli = (args: string[], env: Record<string, string>) => runCliInProcess(args, { env, timeoutMs: cliTimeoutMs });

export async function rebuildVerifyAudit(world: AcceptanceWorld): Promise<void> {
  const { env, events } = world;
  const names = allProjections().map((projection) => projection.name);
  const status = await cli(['projections', 'status'], env);
  expect(status.exitCode, status.stderr).toBe(0);
  for (const name of names) expect(status.stdout).toMatch(new RegExp(`^${name}\\s`, 'm'));

  const before = world.schemasBefore;
  expect(Object.keys(before.live).sort()).toEqual([...names].sort());

  const reader = world.readLive === undefined ? null : readRepeatedly(world.readLive);
  const rebuild = await cli(['projections', 'rebuild', '--all'], env);
  const served = await reader?.stop();
  expect(rebuild.exitCode, rebuild.stderr).toBe(0);
  if (served !== undefined) {
    // The live schemas answered throughout, the swaps included.
    expect(served.errors).toEqual([]);
    expect(served.reads).toBeGreaterThan(0);
  }
  for (const name of names) {
    // Every event of $all replayed into the fresh schema, with the progress bar on stderr.
    expect(rebuild.stdout).toMatch(new RegExp(`^${name}: rebuilt from ${events} events in \\d+ ms$`, 'm'));
    expect(rebuild.stderr).toContain(`${name} [`);
    expect(rebuild.stderr).toMatch(new RegExp(`^${name} \\[.*\\] 100% \\| ${events}/${events} events`, 'm'));
  }
  const verify = await cli(['projections', 'verify'], env);
  expect(verify.exitCode, `${verify.stdout}\n${verify.stderr}`).toBe(0);
  for (const name of names) {
    const line = verify.stdout.split('\n').find((text) => text.startsWith(`${name}:`));
    expect(line, verify.stdout).toBeDefined();
    expect(line).toContain(': identical at ');
    const [, live, rebuilt] = /live=(\S+) rebuilt=(\S+)/.exec(line!) ?? [];
    expect(live).toBeDefined();
    expect(live).toBe(rebuilt);
  }

  const intact = await cli(['audit', 'verify'], env);
  expect(intact.exitCode, intact.stderr).toBe(0);
  expect(intact.stdout).toContain(`audit ok: ${events} events`);

  const { after, eventId } = await world.inspect(async (db) => ({
    after: await projectionSchemas(db),
    eventId: await tamperWithEvent(db, tamperedStream, tamperedRevision),
  }));
  // Swapped: each live schema is another schema than before (a fresh one renamed in), and no
  // rebuild, old or verify copy is left beside it.
  expect(after.aside).toEqual([]);
  for (const name of names) expect(after.live[name], name).not.toBe(before.live[name]);

  const audit = await cli(['audit', 'verify'], env);
  expect(audit.exitCode).toBe(1);
  expect(audit.stdout).toContain(`stream ${tamperedStream} revision ${tamperedRevision} event ${eventId}`);
}
