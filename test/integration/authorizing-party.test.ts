import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../adapters/clock/clock.js';
import { openPostgresEventStore } from '../../adapters/event-store/postgres.js';
import type { EventStore } from '../../adapters/event-store/port.js';
import type { SqlDatabase } from '../../adapters/sql/port.js';
import { inviteOcpiPartner } from '../../api/ocpi-commands.js';
import { issueToken } from '../../api/operator-commands.js';
import { buildServer, ocppSettingsDefault } from '../../api/server.js';
import { createCommandBus, type CommandBus } from '../../commands/index.js';
import { catchUpCdrIssuer, memoryCheckpoint } from '../../commands/process/index.js';
import { loadState } from '../../commands/process/streams.js';
import { cdrDecider, type OcpiCdr } from '../../domain/cdr/index.js';
import { entriesOf, ledgerDecider, ledgerJournalId } from '../../domain/ledger/index.js';
import { streamName } from '../../domain/shared/event.js';
import type { OcpiModuleContext } from '../../ocpi/plugin.js';
import { commandResponseSchema } from '../../ocpi/schemas/index.js';
import { sessionOf, type PeriodRow, type SessionRow } from '../../ocpi/sessions/objects.js';
import { migrateProjections, startProjectionRunners } from '../../projections/index.js';
import { ocpiSessionsProjection } from '../../projections/ocpi-sessions.js';
import { partnersProjection } from '../../projections/partners.js';
import { EmspPartner, emspToken } from '../support/emsp-partner.js';
import { eventually } from '../support/eventually.js';
import { createTestPgliteDatabase } from '../support/services.js';
import { StationSimulator } from '../support/station-simulator.js';

/**
 * Issue 10 point 2, follow-up: a session is billed to the eMSP that authorized it, even when we
 * never held its token. The eMSP (DE/EMP, test/support/emsp-partner.ts) registers with our real
 * server; a 1.6 station charges on a token it allows in real time and on one it sends in a
 * START_SESSION without ever pushing it; the CDR issuer bills; CDR, journal entry and OCPI Session
 * are read back. A START_SESSION for another party's token is refused. A 2.0.1 station plugged in
 * before its token was read gets a CDR that names the token, as its Session does.
 */

const tenantId = 'default';
const us = { countryCode: 'NL', partyId: 'CSM' };
const waitMs = 15_000;

describe('the party that authorized a session is billed for it', () => {
  let db: SqlDatabase;
  let eventStore: EventStore;
  let bus: CommandBus;
  let server: FastifyInstance;
  let serverUrl: string;
  let ocpi: OcpiModuleContext;
  let runners: { stop(): Promise<void>; idle(): Promise<void> };
  let emsp: EmspPartner;
  let station: StationSimulator;
  let commandsUrl: string;

  beforeAll(async () => {
    db = await createTestPgliteDatabase();
    eventStore = await openPostgresEventStore(db);
    await migrateProjections({ db, eventStore });
    bus = createCommandBus({ eventStore, clock: systemClock });
    runners = startProjectionRunners({ db, eventStore }, { projections: [partnersProjection, ocpiSessionsProjection] });
    server = await buildServer({
      db,
      eventStore,
      bus,
      logLevel: 'silent',
      ocpp: { ...ocppSettingsDefault, unknownStations: 'accept', unknownTokens: 'reject', allowUnsecured: true },
      ocpi: { publicUrl: null, secret: 'p'.repeat(40), roles: [{ role: 'CPO', country_code: us.countryCode, party_id: us.partyId, business_details: { name: 'Open-CSMS test' } }] },
      ocpiModules: [(context) => void (ocpi = context)],
    });
    serverUrl = (await server.listen({ host: '127.0.0.1', port: 0 })).replace('localhost', '127.0.0.1');
    emsp = await EmspPartner.start({ client: { timeoutMs: 5_000 } });
    const invitation = await inviteOcpiPartner(ocpi.credentials, 'emsp', `${serverUrl}/ocpi/versions`, 'user:test');
    await emsp.registerWith(invitation.versionsUrl, invitation.token);
    await eventually(async () => {
      const { rows } = await db.query<{ status: string }>(`SELECT status FROM proj_partners.partners WHERE partner_id = 'emsp'`);
      return rows[0]?.status === 'registered';
    }, waitMs, 'the eMSP registered in the read model');
    commandsUrl = `${emsp.endpoint('commands', 'RECEIVER')}/START_SESSION`;
    // A priced session posts a journal entry (a free one posts nothing): 0.30 EUR/kWh, 21 % VAT.
    const operatorCommand = (aggregateId: string, command: Parameters<CommandBus['send']>[0]['command']) =>
      bus.send({ commandId: `test:${aggregateId}:${command.type}`, tenantId, aggregateId, actor: 'user:test', correlationId: 'setup', occurredAt: new Date().toISOString(), command });
    const tariff = {
      country_code: us.countryCode, party_id: us.partyId, id: 'STD', currency: 'EUR', elements: [{ price_components: [{ type: 'ENERGY', price: 0.3, vat: 21, step_size: 1 }] }],
      last_updated: '2025-03-01T00:00:00Z',
    };
    await operatorCommand('STD', { type: 'CreateTariff', tariff, createdAt: '2025-03-01T00:00:00Z' });
    await operatorCommand('tenant', { type: 'AttachTariff', tariffId: 'STD', scope: { kind: 'tenant' }, attachedAt: '2025-03-01T00:00:00Z' });
    // The START_SESSION target, as the locations read model holds it (the locations projection is not run).
    const now = new Date().toISOString();
    await db.query(
      `INSERT INTO proj_locations.location_evses (tenant_id, location_id, evse_uid, evse_id, station_id, station_evse_id, capabilities, removed, status, last_updated)
       VALUES ($1, 'LOC1', 'EVSE1', null, 'CP-16', 1, '["REMOTE_START_STOP_CAPABLE"]', false, 'AVAILABLE', $2)`,
      [tenantId, now],
    );
    station = await StationSimulator.connect({
      url: `${serverUrl.replace(/^http/, 'ws')}/ocpp`,
      stationId: 'CP-16',
      protocols: ['ocpp1.6'],
      handlers: { RemoteStartTransaction: () => ({ status: 'Accepted' }) },
    });
    await station.call('BootNotification', { chargePointVendor: 'ACME', chargePointModel: 'Wallbox' });
  }, 60_000);

  afterAll(async () => {
    await station?.close().catch(() => {});
    await emsp?.close();
    await server?.close();
    await runners?.stop();
    await eventStore?.close().catch(() => {});
    await db?.close().catch(() => {});
  });

  /** A 1.6 session of 10 kWh on this idTag; its transaction id. */
  async function charge16(idTag: string): Promise<string> {
    const startedAt = new Date(Date.now() - 3_600_000).toISOString();
    const started = (await station.call('StartTransaction', { connectorId: 1, idTag, meterStart: 0, timestamp: startedAt })) as { transactionId: number; idTagInfo: { status: string } };
    expect(started.idTagInfo.status, `${idTag} accepted`).toBe('Accepted');
    await station.call('StopTransaction', { transactionId: started.transactionId, idTag, meterStop: 10_000, timestamp: new Date().toISOString(), reason: 'Local' });
    return String(started.transactionId);
  }

  async function cdrOf(transactionId: string): Promise<OcpiCdr> {
    await catchUpCdrIssuer({ eventStore, bus }, memoryCheckpoint());
    const state = await loadState(eventStore, cdrDecider, streamName('cdr', tenantId, transactionId));
    if (state.status !== 'issued') throw new Error(`no CDR for ${transactionId}`);
    return state.issued.cdr;
  }

  async function receivableOf(cdr: OcpiCdr): Promise<string | undefined> {
    const ledger = await loadState(eventStore, ledgerDecider, streamName('ledger', tenantId, ledgerJournalId));
    const entry = [...entriesOf(ledger)].find((e) => e.entryId === `cdr:${cdr.country_code}-${cdr.party_id}:${cdr.id}`);
    return entry?.lines.find((line) => line.side === 'debit')?.account;
  }

  async function sessionTokenOf(transactionId: string) {
    await runners.idle();
    const { rows } = await db.query<SessionRow>(`SELECT * FROM proj_ocpi_sessions.sessions WHERE session_id = $1`, [transactionId]);
    expect(rows, `the OCPI session ${transactionId}`).toHaveLength(1);
    const periods = (await db.query<PeriodRow>(`SELECT * FROM proj_ocpi_sessions.charging_periods WHERE session_id = $1`, [transactionId])).rows;
    return sessionOf(rows[0]!, periods, { locationId: 'LOC1', evseUid: 'EVSE1', connectorId: '1' }, 'EUR', us).cdr_token;
  }

  it('a token we do not hold, allowed by the eMSP in real time: CDR, Session and receivable name DE/EMP', async () => {
    emsp.authorizeAnswers.set('RT-FOREIGN', 'ALLOWED');
    const transactionId = await charge16('RT-FOREIGN');
    const cdr = await cdrOf(transactionId);
    expect(cdr).toMatchObject({ country_code: 'NL', party_id: 'CSM', auth_method: 'AUTH_REQUEST' });
    // The contract_id and type of the Token its answer names (AuthorizationInfo.token), not the uid.
    expect(cdr.cdr_token).toEqual({ country_code: 'DE', party_id: 'EMP', uid: 'RT-FOREIGN', type: 'RFID', contract_id: 'DE-EMP-CRT-FOREIGN' });
    expect(await receivableOf(cdr)).toBe('receivable:emsp:DE-EMP');
    expect(await sessionTokenOf(transactionId)).toEqual(cdr.cdr_token);
  });

  it('a START_SESSION token the eMSP never pushed: CDR, Session and receivable name DE/EMP', async () => {
    const response = await emsp.call(commandsUrl, {
      method: 'POST',
      body: { response_url: emsp.responseUrl('start-unpushed'), token: emspToken('APP-UNPUSHED', { type: 'APP_USER', contract_id: 'DE-EMP-C99' }), location_id: 'LOC1', evse_uid: 'EVSE1' },
      data: commandResponseSchema,
    });
    expect(response.data.result).toBe('ACCEPTED');
    await eventually(async () => emsp.commandResults.get('start-unpushed'), waitMs, 'the START_SESSION result');
    const transactionId = await charge16('APP-UNPUSHED');
    const cdr = await cdrOf(transactionId);
    expect(cdr).toMatchObject({ auth_method: 'COMMAND' });
    // Its Token's contract_id and type (OCPI 2.2.1 13.3.5), though we never held it.
    expect(cdr.cdr_token).toEqual({ country_code: 'DE', party_id: 'EMP', uid: 'APP-UNPUSHED', type: 'APP_USER', contract_id: 'DE-EMP-C99' });
    expect(await receivableOf(cdr)).toBe('receivable:emsp:DE-EMP');
    expect(await sessionTokenOf(transactionId)).toEqual(cdr.cdr_token);
  });

  it("a START_SESSION with a token of a party not in the caller's credentials is refused (2001, REJECTED), nothing reaches the station", async () => {
    const before = station.callsReceived.filter((call) => call.action === 'RemoteStartTransaction').length;
    const refused = await fetch(commandsUrl, {
      method: 'POST',
      headers: {
        authorization: `Token ${Buffer.from(emsp.tokenToUs!).toString('base64')}`,
        'content-type': 'application/json',
        'x-request-id': 'req-other-party',
        'x-correlation-id': 'corr-other-party',
        'ocpi-from-country-code': 'DE', 'ocpi-from-party-id': 'EMP', 'ocpi-to-country-code': 'NL', 'ocpi-to-party-id': 'CSM',
      },
      body: JSON.stringify({ response_url: emsp.responseUrl('start-other'), token: emspToken('FR-TOKEN', { country_code: 'FR', party_id: 'XYZ' }), location_id: 'LOC1', evse_uid: 'EVSE1' }),
    });
    expect(refused.status).toBe(200);
    const body = (await refused.json()) as { status_code: number; status_message: string; data: { result: string; timeout: number } };
    expect(body).toMatchObject({ status_code: 2001, status_message: expect.stringMatching(/FR\*XYZ/), data: { result: 'REJECTED', timeout: 0 } });
    expect(station.callsReceived.filter((call) => call.action === 'RemoteStartTransaction')).toHaveLength(before);
    expect(emsp.commandResults.has('start-other')).toBe(false);
  });

  it('2.0.1, cable plugged in before the token was read: the CDR names the token the session was authorized with', async () => {
    await issueToken({ bus, clock: systemClock, tenantId, actor: 'user:test' }, { uid: 'TAG-201' });
    const station201 = await StationSimulator.connect({ url: `${serverUrl.replace(/^http/, 'ws')}/ocpp`, stationId: 'CP-201', protocols: ['ocpp2.0.1'], handlers: {} });
    try {
      await station201.call('BootNotification', { reason: 'PowerUp', chargingStation: { vendorName: 'ACME', model: 'Wallbox-201' } });
      const at = (minute: number) => new Date(Date.now() - 3_600_000 + minute * 60_000).toISOString();
      const register = (wh: number, context: string, minute: number) => [{ timestamp: at(minute), sampledValue: [{ value: wh, context, measurand: 'Energy.Active.Import.Register' }] }];
      const event = (eventType: string, seqNo: number, triggerReason: string, extra: Record<string, unknown>) =>
        station201.call('TransactionEvent', { eventType, timestamp: at(seqNo), triggerReason, seqNo, transactionInfo: { transactionId: 'TX-CABLE' }, ...extra });
      await event('Started', 0, 'CablePluggedIn', { evse: { id: 1, connectorId: 1 }, meterValue: register(0, 'Transaction.Begin', 0) });
      const authorized = (await event('Updated', 1, 'Authorized', { idToken: { idToken: 'TAG-201', type: 'ISO14443' }, transactionInfo: { transactionId: 'TX-CABLE', chargingState: 'Charging' } })) as {
        idTokenInfo?: { status: string };
      };
      expect(authorized.idTokenInfo?.status).toBe('Accepted');
      await event('Ended', 60, 'EVCommunicationLost', { transactionInfo: { transactionId: 'TX-CABLE', stoppedReason: 'EVDisconnected' }, meterValue: register(10_000, 'Transaction.End', 60) });
    } finally {
      await station201.close();
    }
    await runners.idle();
    const { rows } = await db.query<{ session_id: string }>(`SELECT session_id FROM proj_ocpi_sessions.sessions WHERE station_id = 'CP-201'`);
    expect(rows).toHaveLength(1);
    const transactionId = rows[0]!.session_id;
    const cdr = await cdrOf(transactionId);
    expect(cdr.cdr_token).toEqual({ country_code: 'NL', party_id: 'CSM', uid: 'TAG-201', type: 'RFID', contract_id: 'TAG-201' });
    expect(await receivableOf(cdr)).toBe('receivable:customer:Open-CSMS');
    expect(await sessionTokenOf(transactionId)).toEqual(cdr.cdr_token);
  });
});
