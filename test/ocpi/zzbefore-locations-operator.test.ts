import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../adapters/clock/clock.js';
import { openPostgresEventStore } from '../../adapters/event-store/postgres.js';
import type { EventStore } from '../../adapters/event-store/port.js';
import type { SqlDatabase } from '../../adapters/sql/port.js';
import { parseConnector } from '../../api/cli/locations.js';
import { buildServer } from '../../api/server.js';
import { createCommandBus } from '../../commands/index.js';
import { findEvse } from '../../ocpi/locations/lookup.js';
import { migrateProjections, startProjectionRunners } from '../../projections/index.js';
import { locationsProjection } from '../../projections/locations.js';
import { runCli } from '../support/cli.js';
import { eventually } from '../support/eventually.js';
import { createTestPgliteDatabase } from '../support/services.js';

/** How an operator states locations: the REST endpoints under /api, and `csms locations`. */

const site = {
  id: 'LOC-1', name: 'Depot', address: 'Main 1', city: 'Utrecht', country: 'NLD',
  coordinates: { latitude: '52.08920', longitude: '5.11040' }, timeZone: 'Europe/Amsterdam',
};
const connector = { connectorId: '1', stationConnectorId: 1, standard: 'IEC_62196_T2', format: 'SOCKET', powerType: 'AC_3_PHASE', maxVoltage: 230, maxAmperage: 16 };

describe('locations REST API', () => {
  let db: SqlDatabase;
  let eventStore: EventStore;
  let server: FastifyInstance;
  let runners: { stop(): Promise<void>; idle(): Promise<void> };

  beforeAll(async () => {
    db = await createTestPgliteDatabase();
    eventStore = await openPostgresEventStore(db);
    await migrateProjections({ db, eventStore });
    runners = startProjectionRunners({ db, eventStore }, { projections: [locationsProjection] });
    server = await buildServer({ db, eventStore, bus: createCommandBus({ eventStore, clock: systemClock }), logLevel: 'silent' });
  });
  afterAll(async () => {
    await server?.close();
    await runners?.stop();
    await eventStore?.close().catch(() => {});
    await db?.close().catch(() => {});
  });

  const call = (method: 'GET' | 'POST' | 'PUT', url: string, payload?: unknown) => server.inject({ method, url: `/api${url}`, ...(payload ? { payload } : {}) });

  it('adds, replaces and lists locations; refuses bad facts with 400 and a second add with 409', async () => {
    expect((await call('POST', '/locations', site)).statusCode).toBe(201);
    expect((await call('POST', '/locations', site)).json()).toEqual({ locationId: 'LOC-1', outcome: 'unchanged' });
    expect((await call('POST', '/locations', { ...site, name: 'Other' })).statusCode).toBe(409);
    const bad = await call('POST', '/locations', { ...site, id: 'LOC-2', timeZone: 'Mars/Olympus' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().message).toMatch(/IANA/);
    expect((await call('PUT', '/locations/LOC-1', { ...site, name: 'Depot Noord' })).json()).toEqual({ locationId: 'LOC-1', outcome: 'updated' });
    expect((await call('PUT', '/locations/LOC-3', site)).statusCode).toBe(201);
  });

  it('assigns an EVSE, updates it on a second PUT, and refuses a station EVSE taken elsewhere', async () => {
    const evse = { evseId: 'NL*CSM*E1', stationId: 'CP-1', stationEvseId: 1, connectors: [connector] };
    expect((await call('PUT', '/locations/LOC-1/evses/E1', evse)).statusCode).toBe(201);
    expect((await call('PUT', '/locations/LOC-1/evses/E1', { ...evse, floorLevel: '1' })).json()).toMatchObject({ outcome: 'updated' });
    await eventually(async () => (await findEvse(db, 'default', 'LOC-1', 'E1'))?.connectors.length === 1, 10_000, 'EVSE in the read model');
    const taken = await call('PUT', '/locations/LOC-3/evses/E9', { ...evse, evseId: null });
    expect(taken.statusCode).toBe(400);
    expect(taken.json().message).toMatch(/already EVSE LOC-1\/E1/);
    const listed = (await call('GET', '/locations')).json().locations;
    expect(listed.map((l: { locationId: string; statuses: string[] }) => [l.locationId, l.statuses])).toEqual([['LOC-1', ['E1:UNKNOWN']], ['LOC-3', []]]);
  });
});

describe('csms locations', () => {
  it('parses --connector specs and refuses malformed ones', () => {
    expect(parseConnector('1:2:IEC_62196_T2:SOCKET:AC_3_PHASE:230:32:22000', ['T1'])).toEqual({
      connectorId: '1', stationConnectorId: 2, standard: 'IEC_62196_T2', format: 'SOCKET', powerType: 'AC_3_PHASE',
      maxVoltage: 230, maxAmperage: 32, maxElectricPowerW: 22_000, tariffIds: ['T1'],
    });
    expect(() => parseConnector('1:2:IEC_62196_T2', [])).toThrow(/--connector must be/);
    expect(() => parseConnector('1:0:IEC_62196_T2:SOCKET:AC_3_PHASE:230:32', [])).toThrow(/station connector id/);
  });

  let dataDir: string;
  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'csms-locations-'));
  });
  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('adds a location, assigns an EVSE and lists it, on the embedded database', async () => {
    const env = { DATA_DIR: dataDir };
    expect((await runCli(['migrate'], { env })).exitCode).toBe(0);
    const add = await runCli(
      ['locations', 'add', '--id', 'LOC-9', '--name', 'Depot', '--address', 'Main 1', '--city', 'Utrecht', '--country', 'NLD', '--lat', '52.08920', '--lon', '5.11040', '--time-zone', 'Europe/Amsterdam'],
      { env },
    );
    expect(add.stderr).toMatch(/^csms: wrote to the embedded database in [^\n]*\n$/); // the only line: README "Which database"
    expect(add.stdout).toContain('location LOC-9 created');
    const refused = await runCli(['locations', 'add', '--id', 'LOC-8', '--address', 'x', '--city', 'y', '--country', 'NL', '--lat', '52.08920', '--lon', '5.11040', '--time-zone', 'Europe/Amsterdam'], { env });
    expect(refused.exitCode).toBe(2);
    expect(refused.stderr).toMatch(/alpha-3/);
    const assign = await runCli(
      ['locations', 'assign-evse', '--location', 'LOC-9', '--evse-uid', 'E1', '--evse-id', 'NL*CSM*E1', '--station', 'CP-1', '--station-evse', '1', '--connector', '1:1:IEC_62196_T2:SOCKET:AC_3_PHASE:230:16'],
      { env },
    );
    expect(assign.stdout).toContain('EVSE LOC-9/E1 assigned');
    // No server runs the projections here: bring the read model up to date as an operator would.
    expect((await runCli(['projections', 'rebuild', 'locations'], { env })).exitCode).toBe(0);
    const list = await runCli(['locations', 'list'], { env });
    expect(list.stdout).toContain('E1:UNKNOWN');
    expect(list.stdout).toMatch(/LOC-9\s+Depot\s+Utrecht\s+NLD\s+yes/);
  }, 300_000);
});
