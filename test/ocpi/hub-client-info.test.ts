import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../adapters/clock/clock.js';
import { openPostgresEventStore } from '../../adapters/event-store/postgres.js';
import type { EventStore } from '../../adapters/event-store/port.js';
import type { SqlDatabase } from '../../adapters/sql/port.js';
import { buildServer } from '../../api/server.js';
import { createCommandBus, type CommandBus } from '../../commands/index.js';
import type { OcpiModuleContext } from '../../ocpi/plugin.js';
import { authorizationHeader, credentialsTokenHash, newCredentialsToken } from '../../ocpi/transport/auth.js';
import { migrateProjections, startProjectionRunners } from '../../projections/index.js';
import { partnersProjection } from '../../projections/partners.js';
import { eventually } from '../support/eventually.js';
import { createTestPgliteDatabase } from '../support/services.js';

/** hubclientinfo Receiver on the real server: a HUB partner PUTs ClientInfo, GET reads it back from the read model. */

describe('OCPI hubclientinfo (Receiver)', () => {
  let db: SqlDatabase;
  let eventStore: EventStore;
  let bus: CommandBus;
  let server: FastifyInstance;
  let serverUrl: string;
  let ocpi: OcpiModuleContext;
  let runners: { stop(): Promise<void>; idle(): Promise<void> };
  const hubToken = newCredentialsToken();
  const emspToken = newCredentialsToken();

  beforeAll(async () => {
    db = await createTestPgliteDatabase();
    eventStore = await openPostgresEventStore(db);
    await migrateProjections({ db, eventStore });
    bus = createCommandBus({ eventStore, clock: systemClock });
    runners = startProjectionRunners({ db, eventStore }, { projections: [partnersProjection] });
    server = await buildServer({
      db,
      eventStore,
      bus,
      logLevel: 'silent',
      ocpi: { publicUrl: null, secret: 'x'.repeat(40), roles: [{ role: 'CPO', country_code: 'NL', party_id: 'CSM', business_details: { name: 'Open-CSMS test' } }] },
      ocpiModules: [(context) => void (ocpi = context)],
    });
    serverUrl = await server.listen({ host: '127.0.0.1', port: 0 });
    await registerPartner('hub', 'HUB', hubToken);
    await registerPartner('emsp', 'EMSP', emspToken);
  });
  afterAll(async () => {
    await server?.close();
    await runners?.stop();
    await eventStore?.close().catch(() => {});
    await db?.close().catch(() => {});
  });

  async function registerPartner(id: string, role: string, theirToken: string): Promise<void> {
    const envelope = (suffix: string, command: unknown) => ({
      commandId: `test:${id}:${suffix}`, tenantId: 'default', aggregateId: id, actor: 'user:test', correlationId: suffix, occurredAt: new Date().toISOString(), command,
    });
    await bus.send(envelope('invite', { type: 'IssueRegistrationToken', tokenTheyPresent: { token: 'A', tokenHash: credentialsTokenHash(newCredentialsToken()) } }) as never);
    await bus.send(
      envelope('register', {
        type: 'RegisterPartner',
        initiatedBy: 'partner',
        connection: { roles: [{ role, countryCode: 'DE', partyId: 'HUB', businessDetails: { name: id } }], version: '2.2.1', versionsUrl: 'https://partner.example.com/ocpi/versions', endpoints: [] },
        tokenWePresent: { token: 'B', tokenSealed: ocpi.sealer.seal(newCredentialsToken()) },
        tokenTheyPresent: { token: 'C', tokenHash: credentialsTokenHash(theirToken) },
      }) as never,
    );
    await runners.idle();
  }

  // A configuration module: no routing headers.
  const call = async (method: string, path: string, token: string, body?: unknown): Promise<{ status: number; json: any }> => {
    const response = await fetch(`${serverUrl}/ocpi/2.2.1/hubclientinfo${path}`, {
      method,
      headers: { authorization: authorizationHeader(token), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: response.status, json: await response.json() };
  };
  const info = (status: string) => ({ country_code: 'FR', party_id: 'ABC', role: 'EMSP', status, last_updated: '2026-11-28T10:00:00' });

  it('lists hubclientinfo as a RECEIVER interface', async () => {
    const details: any = await (await fetch(`${serverUrl}/ocpi/2.2.1`, { headers: { authorization: authorizationHeader(hubToken) } })).json();
    expect(details.data.endpoints).toContainEqual({ identifier: 'hubclientinfo', role: 'RECEIVER', url: `${serverUrl}/ocpi/2.2.1/hubclientinfo` });
  });

  it('a hub PUTs a ClientInfo, then an update; GET answers the latest (last_updated in UTC)', async () => {
    expect((await call('GET', '/FR/ABC', hubToken)).json.status_code).toBe(2003);
    const put = await call('PUT', '/FR/ABC', hubToken, info('CONNECTED'));
    expect(put.json.status_code).toBe(1000);
    await eventually(async () => (await call('GET', '/FR/ABC', hubToken)).json.data, 10_000, 'the client info in the read model');
    await call('PUT', '/fr/abc', hubToken, { ...info('OFFLINE'), last_updated: '2026-11-28T11:00:00Z' });
    const got = await eventually(async () => {
      const json = (await call('GET', '/FR/ABC', hubToken)).json;
      return json.data?.status === 'OFFLINE' ? json : undefined;
    }, 10_000, 'the update in the read model');
    expect(got.data).toEqual({ country_code: 'FR', party_id: 'ABC', role: 'EMSP', status: 'OFFLINE', last_updated: '2026-11-28T11:00:00.000Z' });
  });

  it('refuses a PUT from a partner without the HUB role (2000), a URL that differs from the body (2001), an unknown status (2001)', async () => {
    const notHub = await call('PUT', '/FR/XYZ', emspToken, { ...info('CONNECTED'), party_id: 'XYZ' });
    expect(notHub).toMatchObject({ status: 200, json: { status_code: 2000 } });
    expect(notHub.json.status_message).toMatch(/HUB role/);
    expect((await call('PUT', '/FR/XYZ', hubToken, info('CONNECTED'))).json.status_code).toBe(2001);
    expect((await call('PUT', '/FR/ABC', hubToken, info('ASLEEP'))).json.status_code).toBe(2001);
  });

  it('a client info is the hub’s own: another partner does not see it', async () => {
    await eventually(async () => (await call('GET', '/FR/ABC', hubToken)).json.data, 10_000, 'the client info in the read model');
    expect((await call('GET', '/FR/ABC', emspToken)).json.status_code).toBe(2003);
  });
});
