import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../adapters/clock/clock.js';
import { openPostgresEventStore } from '../../adapters/event-store/postgres.js';
import type { EventStore } from '../../adapters/event-store/port.js';
import type { SqlDatabase } from '../../adapters/sql/port.js';
import { registerStation } from '../../api/operator-commands.js';
import { buildServer, ocppSettingsDefault } from '../../api/server.js';
import { createCommandBus } from '../../commands/index.js';
import { catchUpCdrIssuer, postgresCheckpoint } from '../../commands/process/index.js';
import { sessionOf, type PeriodRow, type SessionRow } from '../../ocpi/sessions/objects.js';
import { createStationOperations } from '../../ocpp/operations/index.js';
import { migrateProjections, startProjectionRunners } from '../../projections/index.js';
import { ocpiSessionsProjection } from '../../projections/ocpi-sessions.js';
import { createTestPgliteDatabase } from '../support/services.js';
import { StationSimulator } from '../support/station-simulator.js';

/**
 * An OCPP 2.0.1 remote start from request to OCPI Session and CDR: the operation runner sends
 * RequestStartTransaction with the eMSP's authorization_reference, the server restarts, the
 * station (cable plugged in first) links its transaction with the echoed remoteStartId, and both
 * the Session and the CDR say COMMAND with that reference.
 */

const stationId = 'CP-201-REMOTE';
const password = 'remote-start-password-201';
const token = { idToken: 'RFID-201', type: 'ISO14443' };
const reference = 'REF-START-201';

describe('2.0.1 remote start → Session and CDR (auth_method COMMAND, authorization_reference)', () => {
  let db: SqlDatabase;
  let eventStore: EventStore;
  let server: FastifyInstance | null = null;

  async function startServer(): Promise<{ server: FastifyInstance; url: string }> {
    const started = await buildServer({ db, eventStore, bus: createCommandBus({ eventStore, clock: systemClock }), logLevel: 'silent', ocpp: { ...ocppSettingsDefault, unknownStations: 'reject' } });
    const url = (await started.listen({ host: '127.0.0.1', port: 0 })).replace(/^http/, 'ws').replace('localhost', '127.0.0.1');
    return { server: started, url: `${url}/ocpp` };
  }

  async function connectStation(url: string): Promise<StationSimulator> {
    const station = await StationSimulator.connect({
      url, stationId, protocols: ['ocpp2.0.1'], password, handlers: { RequestStartTransaction: () => ({ status: 'Accepted' }) },
    });
    await station.call('BootNotification', { reason: 'PowerUp', chargingStation: { vendorName: 'ACME', model: 'Remote-201' } });
    return station;
  }

  beforeAll(async () => {
    db = await createTestPgliteDatabase();
    eventStore = await openPostgresEventStore(db);
    await migrateProjections({ db, eventStore }, [ocpiSessionsProjection]);
    await registerStation({ bus: createCommandBus({ eventStore, clock: systemClock }), clock: systemClock, tenantId: 'default', actor: 'user:test' }, { stationId, password });
  }, 60_000);

  afterAll(async () => {
    await server?.close();
    await eventStore?.close().catch(() => {});
    await db?.close().catch(() => {});
  });

  it('the remote start survives a restart and names the transaction it started', async () => {
    const first = await startServer();
    server = first.server;
    const before = await connectStation(first.url);
    const operations = createStationOperations({ bus: createCommandBus({ eventStore, clock: systemClock }), caller: first.server.ocppStations, clock: systemClock, tenantId: 'default', eventStore });
    const result = await operations.run(stationId, { name: 'startCharging', evseId: 1, idToken: token, authorizationReference: reference }, { actor: 'partner:emsp', correlationId: 'c-201', operationId: 'op-start-201' });
    expect(result).toMatchObject({ outcome: 'answered', status: 'Accepted' });
    const remoteStartId = (before.callsReceived[0]?.payload as { remoteStartId: number }).remoteStartId;

    // A restart before the station starts: nothing but the event store carries the remote start over.
    await before.close();
    await first.server.close();
    const second = await startServer();
    server = second.server;
    const station = await connectStation(second.url);
    const at = (second: number) => new Date(Date.now() - 60_000 + second * 1_000).toISOString();
    const event = (eventType: string, seqNo: number, triggerReason: string, extra: Record<string, unknown>) =>
      station.call('TransactionEvent', { eventType, timestamp: at(seqNo), triggerReason, seqNo, transactionInfo: { transactionId: 'TX-201' }, ...extra });
    const register = (wh: number, context: string) => [{ timestamp: at(0), sampledValue: [{ value: wh, context, measurand: 'Energy.Active.Import.Register' }] }];
    // Cable first (F01): the transaction starts without a token; the RemoteStart message links it.
    await event('Started', 0, 'CablePluggedIn', { evse: { id: 1, connectorId: 1 }, meterValue: register(1000, 'Transaction.Begin') });
    await event('Updated', 1, 'RemoteStart', { transactionInfo: { transactionId: 'TX-201', remoteStartId, chargingState: 'Charging' } });
    await event('Ended', 2, 'EVCommunicationLost', { transactionInfo: { transactionId: 'TX-201', stoppedReason: 'EVDisconnected' }, meterValue: register(3000, 'Transaction.End') });
    await station.close();

    const runners = startProjectionRunners({ db, eventStore }, { projections: [ocpiSessionsProjection] });
    await runners.idle();
    await runners.stop();
    const { rows } = await db.query<SessionRow>(`SELECT * FROM proj_ocpi_sessions.sessions WHERE station_id = $1`, [stationId]);
    expect(rows).toHaveLength(1);
    const periods = (await db.query<PeriodRow>(`SELECT * FROM proj_ocpi_sessions.charging_periods WHERE session_id = $1`, [rows[0]!.session_id])).rows;
    const session = sessionOf(rows[0]!, periods, { locationId: 'LOC', evseUid: 'EVSE', connectorId: '1' }, 'EUR', { countryCode: 'NL', partyId: 'OCS' });
    expect({ method: session.auth_method, reference: session.authorization_reference, uid: session.cdr_token.uid }).toEqual({ method: 'COMMAND', reference, uid: token.idToken });

    await catchUpCdrIssuer({ eventStore, bus: createCommandBus({ eventStore, clock: systemClock }) }, await postgresCheckpoint(db, 'cdr_issuer'));
    const issued = (await eventStore.readStream(`cdr-default-${rows[0]!.session_id}`)).find((e) => e.type === 'CdrIssued');
    expect(issued?.data).toMatchObject({ cdr: { auth_method: 'COMMAND', authorization_reference: reference, session_id: rows[0]!.session_id } });
  });

  it('AuthorizeRemoteStart: the station authorizes the token first (Accepted), repeats it on later events (Accepted); a stranger echoing the id is not', async () => {
    await server?.close();
    const started = await startServer();
    server = started.server;
    const station = await connectStation(started.url);
    const operations = createStationOperations({ bus: createCommandBus({ eventStore, clock: systemClock }), caller: started.server.ocppStations, clock: systemClock, tenantId: 'default', eventStore });
    await operations.run(stationId, { name: 'startCharging', evseId: 1, idToken: token, authorizationReference: 'REF-AUTH-FIRST' }, { actor: 'partner:emsp', correlationId: 'c-auth', operationId: 'op-auth-first' });
    const remoteStartId = (station.callsReceived.at(-1)?.payload as { remoteStartId: number }).remoteStartId;
    const now = new Date().toISOString();
    const event = (transactionId: string, eventType: string, seqNo: number, extra: Record<string, unknown>) =>
      station.call('TransactionEvent', { eventType, timestamp: now, triggerReason: 'RemoteStart', seqNo, transactionInfo: { transactionId, remoteStartId }, ...extra });

    // A token we hold no copy of (unknown tokens are rejected here): the remote start authorized it.
    expect(await station.call('Authorize', { idToken: token })).toEqual({ idTokenInfo: { status: 'Accepted' } });
    expect(await event('TX-STRANGER', 'Started', 0, { idToken: { idToken: 'STRANGER', type: 'ISO14443' }, evse: { id: 1, connectorId: 1 } })).toEqual({ idTokenInfo: { status: 'Unknown' } });
    expect(await event('TX-AUTH', 'Started', 0, { idToken: token, evse: { id: 1, connectorId: 1 } })).toEqual({ idTokenInfo: { status: 'Accepted' } });
    expect(await event('TX-AUTH', 'Updated', 1, { triggerReason: 'ChargingStateChanged', idToken: token })).toEqual({ idTokenInfo: { status: 'Accepted' } });
    await station.close();
  });
});
