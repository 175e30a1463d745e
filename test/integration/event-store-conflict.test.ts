import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WrongExpectedRevisionError } from '../../adapters/event-store/port.js';
import { openPostgresEventStore, type PostgresEventStore } from '../../adapters/event-store/postgres.js';
import type { SqlDatabase } from '../../adapters/sql/port.js';
import { event } from '../contract/event-store.contract.js';
import { createTestPostgresDatabase, requirePostgres } from '../support/services.js';

/**
 * Two writers, one stream, the same expected revision: exactly one wins and the other gets the
 * typed conflict with the real revision, whether both go through one process's group commit or
 * through two stores with their own pools (two nodes), where only the unique (stream_id,
 * revision) constraint can tell them apart.
 */
const streamsRaced = 50;
const postgresAvailable = await requirePostgres();

function exactlyOneWins(outcomes: PromiseSettledResult<unknown>[], expected: number): void {
  expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
  const lost = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected')!;
  expect(lost.reason).toBeInstanceOf(WrongExpectedRevisionError);
  expect(lost.reason).toMatchObject({ expected, actual: expected + 1 });
}

describe.skipIf(!postgresAvailable)('event store: racing writers (real Postgres)', () => {
  let database: Awaited<ReturnType<typeof createTestPostgresDatabase>>;
  let nodeA: SqlDatabase;
  let nodeB: SqlDatabase;
  let storeA: PostgresEventStore;
  let storeB: PostgresEventStore;
  beforeAll(async () => {
    database = await createTestPostgresDatabase('es_conflict');
    nodeA = database.open(8);
    nodeB = database.open(8);
    storeA = await openPostgresEventStore(nodeA);
    storeB = await openPostgresEventStore(nodeB);
  });
  afterAll(async () => {
    await storeA?.close();
    await storeB?.close();
    await database?.drop();
  });

  async function seededStreams(): Promise<string[]> {
    const streams = Array.from({ length: streamsRaced }, () => `race-t1-${randomUUID()}`);
    await Promise.all(streams.map((stream) => storeA.append(stream, [event()], 'no_stream')));
    return streams;
  }

  it('through group commit in one process', async () => {
    const streams = await seededStreams();
    const races = await Promise.all(
      streams.map((stream) => Promise.allSettled([storeA.append(stream, [event('A')], 0), storeA.append(stream, [event('B')], 0)])),
    );
    for (const outcomes of races) exactlyOneWins(outcomes, 0);
    for (const stream of streams) expect((await storeA.readStream(stream)).map((e) => e.revision)).toEqual([0, 1]);
  });

  it('through two stores with separate pools, like two nodes', async () => {
    const streams = await seededStreams();
    const races = await Promise.all(
      streams.map((stream) => Promise.allSettled([storeA.append(stream, [event('A')], 0), storeB.append(stream, [event('B')], 0)])),
    );
    for (const outcomes of races) exactlyOneWins(outcomes, 0);
    for (const stream of streams) expect((await storeB.readStream(stream)).map((e) => e.revision)).toEqual([0, 1]);
  });

  it('through appendInTransaction: the second writer waits for the first, then gets the typed conflict and a usable transaction', async () => {
    const stream = `race-t1-${randomUUID()}`;
    await storeA.append(stream, [event()], 'no_stream');
    let releaseFirst!: () => void;
    const firstHolds = new Promise<void>((resolve) => (releaseFirst = resolve));
    let firstAppended!: () => void;
    const firstDone = new Promise<void>((resolve) => (firstAppended = resolve));
    const first = nodeA.transaction(async (tx) => {
      await storeA.appendInTransaction(tx, stream, [event('First')], 0);
      firstAppended();
      await firstHolds; // uncommitted: the second insert blocks on its index entry
    });
    await firstDone;
    const second = nodeB.transaction(async (tx) => {
      const outcome = await storeB.appendInTransaction(tx, stream, [event('Second')], 0).catch((error: unknown) => error);
      // The lost race rolled back only its savepoint: the transaction goes on.
      const { rows } = await tx.query<{ one: number }>('SELECT 1 AS one');
      expect(rows).toEqual([{ one: 1 }]);
      const anyAppend = await storeB.appendInTransaction(tx, stream, [event('Third')], 'any');
      return { outcome, anyAppend };
    });
    await new Promise((resolve) => setTimeout(resolve, 100));
    releaseFirst();
    await first;
    const { outcome, anyAppend } = await second;
    expect(outcome).toBeInstanceOf(WrongExpectedRevisionError);
    expect(outcome).toMatchObject({ expected: 0, actual: 1 });
    expect(anyAppend.nextExpectedRevision).toBe(2);
    expect((await storeA.readStream(stream)).map((e) => e.type)).toEqual(['Tested', 'First', 'Third']);
  });
});
