import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixedClock } from '../adapters/clock/clock.js';
import { openPostgresEventStore } from '../adapters/event-store/postgres.js';
import type { EventStore } from '../adapters/event-store/port.js';
import type { SqlDatabase } from '../adapters/sql/port.js';
import { createCommandBus, type Command, type CommandBus } from '../commands/index.js';
import { element, energy, flat, tariff } from '../domain/tariff/fixtures/index.js';
import { tariffSchema } from '../ocpi/schemas/index.js';
import { createTestPgliteDatabase } from '../test/support/services.js';
import { migrateProjections, startProjectionRunners, verifyProjection } from './index.js';
import { tariffsProjection } from './tariffs.js';

/** Tariff events in, one `proj_tariffs.tariffs` row per tariff out: its newest version as OCPI JSON. */

interface TariffRow {
  tariff_id: string;
  country_code: string;
  party_id: string;
  currency: string;
  version: number;
  version_id: string;
  active: boolean;
  deactivated_at: Date | null;
  last_updated: Date;
  tariff_json: string;
}

describe('tariffs projection', () => {
  let db: SqlDatabase;
  let eventStore: EventStore;
  let bus: CommandBus;
  let runners: { stop(): Promise<void>; idle(): Promise<void> };
  const clock = fixedClock('2025-04-01T08:00:00.000Z');

  beforeAll(async () => {
    db = await createTestPgliteDatabase();
    eventStore = await openPostgresEventStore(db);
    await migrateProjections({ db, eventStore });
    bus = createCommandBus({ eventStore, clock });
    runners = startProjectionRunners({ db, eventStore }, { projections: [tariffsProjection] });
  });
  afterAll(async () => {
    await runners?.stop();
    await eventStore?.close().catch(() => {});
    await db?.close().catch(() => {});
  });

  let sent = 0;
  async function send(tariffId: string, command: Command): Promise<string> {
    sent += 1;
    const at = clock.now().toISOString();
    await bus.send({ commandId: `test-${sent}`, tenantId: 'default', aggregateId: tariffId, actor: 'user:test', correlationId: `c-${sent}`, occurredAt: at, command });
    await runners.idle();
    return at;
  }
  const row = async (id: string) => (await db.query<TariffRow>(`SELECT * FROM proj_tariffs.tariffs WHERE tariff_id = $1`, [id])).rows[0];

  const v1 = tariff('T-DAY', [element([flat(0.5, 21), energy(0.3, 21, 1)])], { country_code: 'NL', party_id: 'CSM', type: 'REGULAR' });
  const v2 = { ...v1, elements: [element([flat(0.5, 21), energy(0.35, 21, 1)])], tariff_alt_text: [{ language: 'en', text: '0.35 EUR/kWh' }] };

  it('keeps the created tariff as OCPI JSON whose last_updated is when the version was recorded', async () => {
    const createdAt = await send('T-DAY', { type: 'CreateTariff', tariff: v1, createdAt: clock.now().toISOString() });
    const created = await row('T-DAY');
    expect(created).toMatchObject({ country_code: 'NL', party_id: 'CSM', currency: 'EUR', version: 1, version_id: 'T-DAY@1', active: true, deactivated_at: null });
    expect(created!.last_updated.toISOString()).toBe(createdAt);
    const json = JSON.parse(created!.tariff_json);
    expect(json).toEqual({ ...v1, last_updated: createdAt });
    expect(tariffSchema.safeParse(json).success).toBe(true);
  });

  it('replaces it with each new version', async () => {
    clock.advanceMs(60_000);
    const versionedAt = await send('T-DAY', { type: 'VersionTariff', tariff: v2, versionedAt: clock.now().toISOString() });
    const versioned = await row('T-DAY');
    expect(versioned).toMatchObject({ version: 2, version_id: 'T-DAY@2', active: true });
    expect(versioned!.last_updated.toISOString()).toBe(versionedAt);
    expect(JSON.parse(versioned!.tariff_json)).toEqual({ ...v2, last_updated: versionedAt });
  });

  it('marks a deactivated tariff inactive and moves last_updated', async () => {
    clock.advanceMs(60_000);
    const deactivatedAt = await send('T-DAY', { type: 'DeactivateTariff', deactivatedAt: clock.now().toISOString(), reason: 'replaced' });
    const deactivated = await row('T-DAY');
    expect(deactivated).toMatchObject({ version: 2, active: false });
    expect(deactivated!.deactivated_at!.toISOString()).toBe(deactivatedAt);
    expect(deactivated!.last_updated.toISOString()).toBe(deactivatedAt);
    expect(JSON.parse(deactivated!.tariff_json).elements).toEqual(v2.elements);
  });

  it('rebuilds to the same rows (a pure function of the events)', async () => {
    await send('T-NIGHT', { type: 'CreateTariff', tariff: { ...v1, id: 'T-NIGHT' }, createdAt: clock.now().toISOString() });
    await runners.idle();
    const result = await verifyProjection({ db, eventStore }, 'tariffs');
    expect(result.identical).toBe(true);
  });
});
