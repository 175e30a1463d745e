import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { comparePositions, type RecordedEvent } from '../../adapters/event-store/port.js';
import { openPostgresEventStore, type PostgresEventStore } from '../../adapters/event-store/postgres.js';
import type { SqlDatabase } from '../../adapters/sql/port.js';
import { event } from '../contract/event-store.contract.js';
import { createTestPostgresDatabase, requirePostgres } from '../support/services.js';

/**
 * The bigserial gap problem (docs/design.md, "Event store contract"): a transaction takes its seq at
 * INSERT and commits later, so rows become visible out of seq order. A reader that had already
 * passed a higher seq would skip the late one forever. Writers here commit in random order on
 * purpose; the store's subscriber must still see every event once, in the final $all order, and a
 * naive "ORDER BY seq" reader under the same load must show that the problem was really there.
 */
/**
 * 8 writers x 250 appends: the naive reader below missed 252-287 of the 2,000 events in every
 * measured run (~13 %, from the random commit delays, not from the machine's speed), so the
 * problem is reliably present at this size; 16 x 2,000 took over a minute of the suite to show
 * the same thing.
 */
const writers = 8;
const appendsPerWriter = 250;
const total = writers * appendsPerWriter;
/** Random time a writer holds its transaction open after inserting, before COMMIT. */
const commitDelayMaxMs = 3;
const testTimeoutMs = 120_000;

const postgresAvailable = await requirePostgres();

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.skipIf(!postgresAvailable)('event store: no reader skips a late commit (real Postgres)', () => {
  let database: Awaited<ReturnType<typeof createTestPostgresDatabase>>;
  let db: SqlDatabase;
  let store: PostgresEventStore;
  beforeAll(async () => {
    database = await createTestPostgresDatabase('es_gap');
    // Visibility order is what is tested here, not durability: without the WAL fsync wait per
    // COMMIT (measured: ~370 commits/s in total on this machine, 85 s for the test) the writers
    // commit much faster, which also means more interleaving. Set before the pool connects.
    const admin = database.open(1);
    const { rows } = await admin.query<{ name: string }>('SELECT current_database() AS name');
    await admin.exec(`ALTER DATABASE "${rows[0]!.name}" SET synchronous_commit = off`);
    await admin.close();
    db = database.open(writers + 4); // one connection per writer, plus reads and LISTEN headroom
    store = await openPostgresEventStore(db);
  });
  afterAll(async () => {
    await store?.close();
    await database?.drop();
  });

  it(`${writers} writers x ${appendsPerWriter} appends committing out of order: the subscriber sees every event once, in $all order`, async () => {
    const started = performance.now();
    const subscription = store.subscribe({ batchSize: 1_000 });
    const delivered: RecordedEvent[] = [];
    const subscriber = (async () => {
      for await (const recorded of subscription) {
        const previous = delivered.at(-1);
        if (previous !== undefined) expect(comparePositions(previous.position, recorded.position)).toBe(-1);
        delivered.push(recorded);
        if (delivered.length === total) return;
      }
    })();

    // The naive reader: "WHERE seq > last ORDER BY seq", polled as fast as it can go.
    let writing = true;
    const naiveSeen = new Set<string>();
    const naive = (async () => {
      let last = '0';
      const poll = async () => {
        const { rows } = await db.query<{ seq: string }>(
          'SELECT seq::text AS seq FROM eventstore.events WHERE seq > $1::bigint ORDER BY seq LIMIT 1000',
          [last],
        );
        for (const row of rows) naiveSeen.add(row.seq);
        if (rows.length > 0) last = rows.at(-1)!.seq;
      };
      while (writing) {
        await poll();
        await sleep(1);
      }
      await poll();
    })();

    await Promise.all(
      Array.from({ length: writers }, async (_, writer) => {
        const stream = `gap-t1-${writer}-${randomUUID()}`;
        for (let i = 0; i < appendsPerWriter; i++) {
          await db.transaction(async (tx) => {
            const result = await store.appendInTransaction(tx, stream, [event('GapTested', { writer, i })], i === 0 ? 'no_stream' : i - 1);
            expect(result.nextExpectedRevision).toBe(i);
            await sleep(Math.random() * commitDelayMaxMs);
          });
        }
      }),
    );
    writing = false;
    const writtenMs = performance.now() - started;
    await naive;
    await subscriber;
    await subscription.close();

    const final: RecordedEvent[] = [];
    for (;;) {
      const page = await store.readAll({ after: final.at(-1)?.position, limit: 10_000 });
      if (page.length === 0) break;
      final.push(...page);
    }
    expect(final).toHaveLength(total);
    expect(delivered.map((e) => e.eventId)).toEqual(final.map((e) => e.eventId));
    expect(new Set(delivered.map((e) => e.eventId)).size).toBe(total);

    // Proof the test exercised the problem: a reader following seq lost events. (Order by xid8
    // differs from seq order only rarely, as both are taken at the INSERT: it is the xmin
    // barrier, not the sort key, that keeps late commits from being skipped.)
    const outOfSeqOrder = final.filter((e, i) => i > 0 && e.position.prepare < final[i - 1]!.position.prepare).length;
    const naiveMissed = total - naiveSeen.size;
    console.info(
      `gap test: ${total} appends in ${Math.round(writtenMs)} ms; ${outOfSeqOrder} events follow a higher seq in $all; ` +
        `naive ORDER BY seq reader missed ${naiveMissed}`,
    );
    expect(naiveMissed).toBeGreaterThan(0);
  }, testTimeoutMs);
});
