import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SqlDatabase } from '../../adapters/sql/port.js';
import { eventually } from '../support/eventually.js';
import { startServe, type ServeProcess } from '../support/serve-process.js';
import { createTestPostgresDatabase, requirePostgres } from '../support/services.js';
import { StationSimulator } from '../support/station-simulator.js';

/**
 * Issue 9: "A SIGKILL-under-load test: every acknowledged message is in the store, none twice."
 * Stations send StatusNotifications as fast as they are acknowledged (each with its own content,
 * so each is a new fact); the server is killed mid-stream. Every CALL answered before the kill
 * must be in the store exactly once; a CALL in flight may or may not be. After a restart the
 * stations resend what was not acknowledged, as OCPP asks of them: still nothing twice.
 */

const available = await requirePostgres();
const stationsCount = 10;
/** Acknowledged messages per station before the kill: enough that the kill lands mid-stream for all. */
const acknowledgedPerStationBeforeKill = 15;
const loadWaitMs = 30_000;
const callTimeoutMs = 10_000;

interface Sent {
  readonly messageId: string;
  readonly payload: { connectorId: number; errorCode: string; status: string; info: string; timestamp: string };
  acknowledged: boolean;
}

interface StoredEvent {
  readonly streamId: string;
  readonly type: string;
  readonly correlationId: string;
  readonly causationId: string;
  readonly reason: string | null;
}

/**
 * Every row of the events table, straight from SQL: "in the store" means committed, whatever a
 * reader of $all may see yet. readAll stops below the oldest transaction open anywhere in the
 * cluster (ARCHITECTURE.md, "Event store"), so another test's long transaction in another
 * database could hide committed events from it for a while: that is not what this test is about.
 */
async function storedEvents(db: SqlDatabase): Promise<StoredEvent[]> {
  const { rows } = await db.query<StoredEvent>(
    `SELECT stream_id AS "streamId", type, metadata->>'correlationId' AS "correlationId",
            metadata->>'causationId' AS "causationId", data->>'reason' AS reason
       FROM eventstore.events ORDER BY transaction_id, seq`,
  );
  return rows;
}

/** Status events by the OCPP message id that caused them (correlationId), and any event whose command produced it twice. */
function statusEventsByMessage(events: readonly StoredEvent[]): { byMessage: Map<string, number>; duplicated: string[] } {
  const byMessage = new Map<string, number>();
  const seen = new Set<string>();
  const duplicated: string[] = [];
  for (const event of events) {
    const key = `${event.streamId}|${event.causationId}|${event.type}`;
    if (seen.has(key)) duplicated.push(key);
    seen.add(key);
    if (event.type === 'ConnectorStatusChanged') byMessage.set(event.correlationId, (byMessage.get(event.correlationId) ?? 0) + 1);
  }
  return { byMessage, duplicated };
}

describe.skipIf(!available)('SIGKILL under load', () => {
  let database: Awaited<ReturnType<typeof createTestPostgresDatabase>>;
  let db: SqlDatabase;
  let env: Record<string, string>;
  const servers: ServeProcess[] = [];
  const simulators: StationSimulator[] = [];

  beforeAll(async () => {
    database = await createTestPostgresDatabase('sigkill-load');
    db = database.open(2);
    env = { DATABASE_URL: database.url, NODE_ID: 'sigkill-load', OCPP_UNKNOWN_STATIONS: 'accept' };
  });
  afterAll(async () => {
    for (const simulator of simulators) simulator.terminate();
    for (const server of servers) await server.kill().catch(() => {});
    await database?.drop();
  });

  const connect = async (server: ServeProcess, stationId: string) => {
    const simulator = await StationSimulator.connect({ url: server.ocppUrl, stationId, protocols: ['ocpp1.6'], callTimeoutMs });
    simulators.push(simulator);
    return simulator;
  };

  it('every acknowledged message is in the store exactly once, also after the stations resend the rest', async () => {
    const first = await startServe(env);
    servers.push(first);
    const stationIds = Array.from({ length: stationsCount }, (_, i) => `LOAD-${String(i).padStart(2, '0')}`);
    const sent = new Map<string, Sent[]>(stationIds.map((id) => [id, []]));
    const simulators1 = await Promise.all(stationIds.map((id) => connect(first, id)));

    // Each station: the next message as soon as the previous one is answered, until its socket dies.
    const loops = simulators1.map(async (simulator, index) => {
      const stationId = stationIds[index]!;
      const mine = sent.get(stationId)!;
      const gone = simulator.closed.then(() => null);
      for (let n = 0; ; n += 1) {
        const message: Sent = {
          messageId: `${stationId}-m${n}`,
          payload: { connectorId: 1, errorCode: 'NoError', status: 'Available', info: `${stationId} report ${n}`, timestamp: new Date().toISOString() },
          acknowledged: false,
        };
        mine.push(message);
        const outcome = await Promise.race([simulator.send('StatusNotification', message.payload, { messageId: message.messageId }).catch(() => null), gone]);
        if (outcome === null) return;
        expect(outcome.type, `${message.messageId}: ${JSON.stringify(outcome)}`).toBe('result');
        message.acknowledged = true;
      }
    });
    const acknowledged = () => [...sent.values()].flat().filter((message) => message.acknowledged);
    await eventually(
      async () => [...sent.values()].every((messages) => messages.filter((m) => m.acknowledged).length >= acknowledgedPerStationBeforeKill),
      loadWaitMs,
      `${acknowledgedPerStationBeforeKill} acknowledged messages per station`,
    );
    await first.kill();
    await Promise.all(loops);
    const acknowledgedBeforeKill = acknowledged().map((message) => message.messageId);
    expect(acknowledgedBeforeKill.length).toBeGreaterThanOrEqual(stationsCount * acknowledgedPerStationBeforeKill);

    // The database as the killed process left it.
    const storedAfterKill = await storedEvents(db);
    const afterKill = statusEventsByMessage(storedAfterKill);
    expect(acknowledgedBeforeKill.filter((id) => afterKill.byMessage.get(id) !== 1)).toEqual([]);
    expect([...afterKill.byMessage.entries()].filter(([, count]) => count > 1)).toEqual([]);
    expect(afterKill.duplicated).toEqual([]);

    // Restart; each station reconnects and resends what was never acknowledged, same id and content.
    const second = await startServe(env);
    servers.push(second);
    const unacknowledged = [...sent.entries()].flatMap(([stationId, messages]) => messages.filter((m) => !m.acknowledged).map((m) => ({ stationId, m })));
    expect(unacknowledged.length).toBeGreaterThan(0);
    expect(unacknowledged.length).toBeLessThanOrEqual(stationsCount); // one CALL at a time per station
    const simulators2 = new Map(await Promise.all(stationIds.map(async (id) => [id, await connect(second, id)] as const)));
    for (const { stationId, m } of unacknowledged) {
      const outcome = await simulators2.get(stationId)!.send('StatusNotification', m.payload, { messageId: m.messageId });
      expect(outcome.type, m.messageId).toBe('result');
    }
    // Resending an acknowledged one too (a station unsure of it) changes nothing.
    const [stationId, messages] = [...sent.entries()][0]!;
    expect((await simulators2.get(stationId)!.send('StatusNotification', messages[0]!.payload, { messageId: messages[0]!.messageId })).type).toBe('result');

    const everything = await storedEvents(db);
    const final = statusEventsByMessage(everything);
    const allMessages = [...sent.values()].flat().map((message) => message.messageId);
    expect(allMessages.filter((id) => final.byMessage.get(id) !== 1)).toEqual([]);
    expect(final.byMessage.size).toBe(allMessages.length);
    expect(final.duplicated).toEqual([]);
    // And the restart recorded that every killed connection ended, once (issue 9, point 10).
    const ended = everything.filter((event) => event.type === 'StationDisconnected' && event.reason === 'nodeRestarted');
    expect(ended.map((event) => event.streamId).sort()).toEqual(stationIds.map((id) => `station-default-${id}`));
    await eventually(
      async () => {
        const { rows } = await db.query<{ n: string }>(`SELECT count(*)::text AS n FROM proj_stations.stations WHERE online AND node_id = 'sigkill-load'`);
        return rows[0]!.n === String(stationsCount);
      },
      loadWaitMs,
      'every station online again',
    );
    await second.stop();
  });
});
