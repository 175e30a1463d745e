import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { systemClock } from '../../adapters/clock/clock.js';
import { openPostgresEventStore } from '../../adapters/event-store/postgres.js';
import type { EventStore, RecordedEvent } from '../../adapters/event-store/port.js';
import type { SqlDatabase } from '../../adapters/sql/port.js';
import { createCommandBus, type CommandBus } from '../../commands/index.js';
import { createTokenSealer } from '../../ocpi/credentials/seal.js';
import type { OcpiSettings } from '../../ocpi/plugin.js';
import type { PushChange, PushSource } from '../../ocpi/push/source.js';
import { credentialsTokenHash, newCredentialsToken } from '../../ocpi/transport/auth.js';
import { migrateProjections, startProjectionRunners } from '../../projections/index.js';
import { partnersProjection } from '../../projections/partners.js';
import { createTestPgliteDatabase } from '../support/services.js';

/**
 * What the outbox tests share: a database with the partners projection running, partners
 * registered through the bus (as the credentials module does), a fake eMSP per partner, and a
 * stub locations push source whose "read model" is a map the test changes.
 */

export const secret = 'push-test-secret-'.padEnd(40, 'x');
export const settings: OcpiSettings = {
  publicUrl: null,
  secret,
  roles: [{ role: 'CPO', country_code: 'NL', party_id: 'CSM', business_details: { name: 'Open-CSMS test' } }],
};
export const sealer = createTokenSealer(secret);
export const changedType = 'TestLocationChanged';
export const cdrIssuedType = 'TestCdrIssued';

export interface Received {
  readonly method: string;
  readonly url: string;
  readonly body: unknown;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly at: number;
}

export type Behaviour = (request: FastifyRequest, reply: FastifyReply) => Promise<unknown>;

export const ok = (data: unknown = null) => ({ status_code: 1000, data, timestamp: new Date().toISOString() });

export interface FakeEmsp {
  readonly app: FastifyInstance;
  readonly url: string;
  /** The token we present to it. */
  readonly token: string;
  readonly received: Received[];
  behave: Behaviour;
}

export async function startFakeEmsp(): Promise<FakeEmsp> {
  const app = Fastify({ logger: false, forceCloseConnections: true });
  const emsp: FakeEmsp = { app, url: '', token: newCredentialsToken(), received: [], behave: async () => ok() };
  app.all('/ocpi/2.2.1/*', async (request, reply) => {
    emsp.received.push({ method: request.method, url: request.url, body: request.body, headers: request.headers, at: Date.now() });
    return emsp.behave(request, reply);
  });
  (emsp as { url: string }).url = (await app.listen({ host: '127.0.0.1', port: 0 })).replace('localhost', '127.0.0.1');
  return emsp;
}

export interface PushWorld {
  readonly db: SqlDatabase;
  readonly eventStore: EventStore;
  readonly bus: CommandBus;
  readonly runners: { stop(): Promise<void>; idle(): Promise<void> };
  /** The stub source's read model: object key → its state (absent: deleted). */
  readonly objects: Map<string, { version: number }>;
  readonly source: PushSource;
  /** A stub cdrs source: every issued cdr id is POSTed once. */
  readonly cdrSource: PushSource;
  close(): Promise<void>;
}

export async function openPushWorld(): Promise<PushWorld> {
  const db = await createTestPgliteDatabase();
  const eventStore = await openPostgresEventStore(db);
  await migrateProjections({ db, eventStore });
  const runners = startProjectionRunners({ db, eventStore }, { projections: [partnersProjection] });
  const bus = createCommandBus({ eventStore, clock: systemClock });
  const objects = new Map<string, { version: number }>();
  const source: PushSource = {
    module: 'locations',
    // The partners projection advances over every event, so the producer's wait for it is real.
    projections: ['partners'],
    eventTypes: new Set([changedType]),
    triggers: (event: RecordedEvent) => [{ module: 'locations', objectKey: String(event.data.key), change: event.data.change as PushChange }],
    async build(context, objectKey, change) {
      if (objectKey.startsWith('nothing')) return null;
      const state = objects.get(objectKey);
      if (state === undefined || change === 'delete') return null;
      return { method: change === 'status' ? 'PATCH' : 'PUT', path: `/${context.us.countryCode}/${context.us.partyId}/${objectKey}`, body: { id: objectKey, version: state.version } };
    },
    async listKeys(_context, afterKey, limit) {
      return [...objects.keys()].sort().filter((key) => afterKey === null || key > afterKey).slice(0, limit);
    },
  };
  const cdrSource: PushSource = {
    module: 'cdrs',
    projections: [],
    eventTypes: new Set([cdrIssuedType]),
    triggers: (event: RecordedEvent) => [{ module: 'cdrs', objectKey: String(event.data.key), change: 'object' }],
    build: async (_context, objectKey) => ({ method: 'POST', path: '', body: { id: objectKey } }),
    listKeys: async () => [],
  };
  return {
    db,
    eventStore,
    bus,
    runners,
    objects,
    source,
    cdrSource,
    async close() {
      await runners.stop();
      await eventStore.close().catch(() => {});
      await db.close().catch(() => {});
    },
  };
}

/** Receiver endpoints a partner registers with unless told otherwise. */
const receiversDefault = ['credentials', 'locations', 'cdrs'] as const;

/** A partner registered as the credentials module records it, with RECEIVER endpoints (default: locations, cdrs) at the fake eMSP. */
export async function registerPartner(world: PushWorld, partnerId: string, emsp: FakeEmsp, partyId = 'EMP', receivers: readonly string[] = receiversDefault): Promise<void> {
  const send = (n: number, command: Parameters<CommandBus['send']>[0]['command']) =>
    world.bus.send({
      commandId: `test:${partnerId}:${n}`,
      tenantId: 'default',
      aggregateId: partnerId,
      actor: 'user:test',
      correlationId: `test:${partnerId}`,
      occurredAt: new Date().toISOString(),
      command,
    });
  await send(1, { type: 'IssueRegistrationToken', tokenTheyPresent: { token: 'A', tokenHash: credentialsTokenHash(newCredentialsToken()) } });
  await send(2, {
    type: 'RegisterPartner',
    initiatedBy: 'partner',
    connection: {
      roles: [{ role: 'EMSP', countryCode: 'DE', partyId, businessDetails: { name: partnerId } }],
      version: '2.2.1',
      versionsUrl: `${emsp.url}/ocpi/versions`,
      endpoints: receivers.map((identifier) => ({ identifier, role: 'RECEIVER' as const, url: `${emsp.url}/ocpi/2.2.1/${identifier}` })),
    },
    tokenWePresent: { token: 'B', tokenSealed: sealer.seal(emsp.token) },
    tokenTheyPresent: { token: 'C', tokenHash: credentialsTokenHash(newCredentialsToken()) },
  });
  await world.runners.idle();
}

/** An event the stub source triggers on, after setting the object's state in its "read model". */
export async function changeObject(world: PushWorld, key: string, change: PushChange, version: number | null): Promise<void> {
  if (version === null) world.objects.delete(key);
  else world.objects.set(key, { version });
  await appendTestEvent(world, key, changedType, { key, change });
}

export async function issueCdr(world: PushWorld, key: string): Promise<void> {
  await appendTestEvent(world, key, cdrIssuedType, { key });
}

async function appendTestEvent(world: PushWorld, key: string, type: string, data: { [name: string]: string }): Promise<void> {
  const now = new Date().toISOString();
  await world.eventStore.append(
    `testlocation-default-${key}`,
    [
      {
        eventId: randomUUID(),
        type,
        schemaVersion: 1,
        data,
        metadata: { tenantId: 'default', correlationId: key, causationId: key, actor: 'test', occurredAt: now, recordedAt: now },
      },
    ],
    'any',
  );
}

export async function pushRows(db: SqlDatabase, where = 'true'): Promise<Record<string, unknown>[]> {
  const { rows } = await db.query(`SELECT id::text, partner_id, module, object_key, change, state, attempts, last_error, last_http_status, last_ocpi_status, response_location, note, version
                                    FROM ocpi_outbox.pushes WHERE ${where} ORDER BY id`);
  return rows;
}
