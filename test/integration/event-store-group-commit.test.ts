import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WrongExpectedRevisionError } from '../../adapters/event-store/port.js';
import { AppendQueueFullError, appendQueueMax, openPostgresEventStore, type PostgresEventStore } from '../../adapters/event-store/postgres.js';
import type { SqlDatabase } from '../../adapters/sql/port.js';
import { event } from '../contract/event-store.contract.js';
import { createTestPostgresDatabase, requirePostgres } from '../support/services.js';

/** Group commit (docs/design.md): many appends, few transactions, and each append still checked alone. */
const postgresAvailable = await requirePostgres();
const newStream = () => `group-t1-${randomUUID()}`;

describe.skipIf(!postgresAvailable)('event store: group commit (real Postgres)', () => {
  let database: Awaited<ReturnType<typeof createTestPostgresDatabase>>;
  let db: SqlDatabase;
  let store: PostgresEventStore;
  beforeAll(async () => {
    database = await createTestPostgresDatabase('es_group');
    db = database.open(8);
    store = await openPostgresEventStore(db);
  });
  afterAll(async () => {
    await store?.close();
    await database?.drop();
  });

  async function transactionsOf(streams: readonly string[]): Promise<number> {
    const { rows } = await db.query<{ transactions: string }>(
      'SELECT count(DISTINCT transaction_id)::text AS transactions FROM eventstore.events WHERE stream_id = ANY($1::text[])',
      [streams],
    );
    return Number(rows[0]!.transactions);
  }

  it('writes 200 concurrent appends to different streams in far fewer transactions', async () => {
    const streams = Array.from({ length: 200 }, newStream);
    const results = await Promise.all(streams.map((stream) => store.append(stream, [event()], 'no_stream')));
    expect(results.every((result) => result.nextExpectedRevision === 0 && !result.duplicate)).toBe(true);
    const transactions = await transactionsOf(streams);
    expect(transactions).toBeLessThanOrEqual(10);
    expect(new Set(results.map((result) => result.position.commit)).size).toBe(transactions);
  });

  it('fails only the conflicting append of a group', async () => {
    const stale = newStream();
    await store.append(stale, [event()], 'no_stream');
    const others = Array.from({ length: 50 }, newStream);
    const [conflict, ...rest] = await Promise.allSettled([
      store.append(stale, [event()], 5),
      ...others.map((stream) => store.append(stream, [event()], 'no_stream')),
    ]);
    expect(conflict).toMatchObject({ status: 'rejected', reason: { name: 'WrongExpectedRevisionError', actual: 0 } });
    expect(rest.every((outcome) => outcome.status === 'fulfilled')).toBe(true);
    expect(await transactionsOf(others)).toBe(1); // they were one group, with the conflicting append in it
    expect(await store.readStream(stale)).toHaveLength(1);
  });

  it('fails only the append that lost a race to another transaction (savepoint fallback), the rest of its group commits', async () => {
    const contested = newStream();
    const others = Array.from({ length: 20 }, newStream);
    const fallbacksBefore = store.groupCommitStats().savepointFallbacks;
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let inserted!: () => void;
    const rival = new Promise<void>((resolve) => (inserted = resolve));
    // Another writer (another node's transaction) has written the stream but not committed yet:
    // the group reads "no stream", and only its INSERT runs into the rival's row.
    const rivalTransaction = db.transaction(async (tx) => {
      await store.appendInTransaction(tx, contested, [event('Rival')], 'no_stream');
      inserted();
      await held;
    });
    await rival;
    const group = Promise.allSettled([
      store.append(contested, [event('Ours')], 'no_stream'),
      ...others.map((stream) => store.append(stream, [event()], 'no_stream')),
    ]);
    await new Promise((resolve) => setTimeout(resolve, 100));
    release();
    await rivalTransaction;
    const [lost, ...rest] = await group;
    expect(lost).toMatchObject({ status: 'rejected' });
    expect((lost as PromiseRejectedResult).reason).toBeInstanceOf(WrongExpectedRevisionError);
    expect((lost as PromiseRejectedResult).reason).toMatchObject({ expected: 'no_stream', actual: 0 });
    expect(rest.every((outcome) => outcome.status === 'fulfilled')).toBe(true);
    expect(store.groupCommitStats().savepointFallbacks).toBe(fallbacksBefore + 1);
    expect((await store.readStream(contested)).map((e) => e.type)).toEqual(['Rival']);
  });

  it(`refuses appends beyond ${appendQueueMax} queued with AppendQueueFullError, and writes the queued ones`, async () => {
    const appends = Array.from({ length: appendQueueMax + 5 }, () => store.append(newStream(), [event()], 'no_stream'));
    const outcomes = await Promise.allSettled(appends);
    const refused = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
    expect(refused.length).toBeGreaterThanOrEqual(5);
    expect(refused.every((o) => o.reason instanceof AppendQueueFullError)).toBe(true);
    expect(outcomes.filter((o) => o.status === 'fulfilled').length).toBe(appends.length - refused.length);
  });

  it('writes queued appends before close() resolves, and refuses new ones after', async () => {
    const own = await openPostgresEventStore(db, { schema: 'eventstore_close' });
    const appends = Array.from({ length: 100 }, () => own.append(newStream(), [event()], 'no_stream'));
    await own.close();
    expect((await Promise.allSettled(appends)).every((o) => o.status === 'fulfilled')).toBe(true);
    await expect(own.append(newStream(), [event()], 'any')).rejects.toThrow(/closed/);
  });
});
