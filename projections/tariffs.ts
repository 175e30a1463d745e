import type { RecordedEvent } from '../adapters/event-store/port.js';
import type { SqlExecutor } from '../adapters/sql/port.js';
import type { TariffEventData } from '../domain/tariff/aggregate/events.js';
import { tariffVersionIdOf } from '../domain/tariff/aggregate/events.js';
import { invariant } from '../domain/shared/assert.js';
import type { Projection } from './projection.js';
import { foldIntoTable, type Row, type TableSpec } from './rows.js';

/**
 * Our tariffs as the OCPI Tariffs module (Sender) serves and pushes them: one row per tariff with
 * its newest version as an OCPI 2.2.1 Tariff object. Which version prices a session is the tariff
 * aggregate's business (state.ts, tariffInForce); partners see the current definition.
 */

/** Kysely types of `proj_tariffs`. */
export interface TariffsTable {
  tenant_id: string;
  tariff_id: string;
  country_code: string;
  party_id: string;
  currency: string;
  version: number;
  version_id: string;
  valid_from: Date;
  active: boolean;
  deactivated_at: Date | null;
  last_updated: Date;
  /** The OCPI Tariff JSON, last_updated included. */
  tariff_json: string;
}
export interface TariffsReadModel {
  tariffs: TariffsTable;
}

const text = (name: string) => ({ name, type: 'text' });
const timestamptz = (name: string) => ({ name, type: 'timestamptz' });
export const tariffsSpec: TableSpec = {
  table: 'tariffs',
  key: ['tenant_id', 'tariff_id'],
  columns: [
    ...['tenant_id', 'tariff_id', 'country_code', 'party_id', 'currency'].map(text),
    { name: 'version', type: 'integer' },
    text('version_id'),
    timestamptz('valid_from'),
    { name: 'active', type: 'boolean' },
    timestamptz('deactivated_at'),
    timestamptz('last_updated'),
    text('tariff_json'),
  ],
};

type VersionData = TariffEventData<'TariffCreated'> | TariffEventData<'TariffVersioned'>;

function versionRow(key: Row, data: VersionData, lastUpdated: string): Row {
  const { tariff } = data;
  // parseTariff accepted every stored version, and it requires both: a row without them is a bug.
  invariant(typeof tariff.country_code === 'string' && typeof tariff.party_id === 'string', `tariff ${data.tariffId} has country_code and party_id`);
  return {
    ...key,
    country_code: tariff.country_code,
    party_id: tariff.party_id,
    currency: tariff.currency,
    version: data.version,
    version_id: tariffVersionIdOf(data.tariffId, data.version),
    valid_from: data.validFrom,
    active: true,
    deactivated_at: null,
    last_updated: lastUpdated,
    // OCPI last_updated is when the object last changed for a partner: when we recorded the version.
    tariff_json: JSON.stringify({ ...tariff, last_updated: lastUpdated }),
  };
}

function evolve(current: Row | undefined, event: RecordedEvent, key: Row): Row {
  const recordedAt = new Date(event.metadata.recordedAt).toISOString();
  switch (event.type) {
    case 'TariffCreated':
      invariant(current === undefined, `tariff ${String(key.tariff_id)} created once`);
      return versionRow(key, event.data as unknown as TariffEventData<'TariffCreated'>, recordedAt);
    case 'TariffVersioned': {
      invariant(current !== undefined && current.active === true, `TariffVersioned for an active tariff ${String(key.tariff_id)}`);
      return versionRow(key, event.data as unknown as TariffEventData<'TariffVersioned'>, recordedAt);
    }
    case 'TariffDeactivated': {
      invariant(current !== undefined && current.active === true, `TariffDeactivated for an active tariff ${String(key.tariff_id)}`);
      const data = event.data as unknown as TariffEventData<'TariffDeactivated'>;
      const tariff = JSON.parse(String(current.tariff_json)) as Record<string, unknown>;
      return { ...current, active: false, deactivated_at: data.deactivatedAt, last_updated: recordedAt, tariff_json: JSON.stringify({ ...tariff, last_updated: recordedAt }) };
    }
    default:
      throw new Error(`invariant violated: tariffs projection handles ${event.type}`);
  }
}

export const tariffsProjection: Projection = {
  name: 'tariffs',
  version: 1,
  handledEventTypes: new Set(['TariffCreated', 'TariffVersioned', 'TariffDeactivated']),
  migrationsGroup: 'readmodels-tariffs',
  checksumTables: [{ table: 'tariffs', orderBy: tariffsSpec.key }],
  async applyBatch(tx: SqlExecutor, schema: string, events: readonly RecordedEvent[]): Promise<void> {
    const keyOf = (event: RecordedEvent): Row => ({ tenant_id: event.metadata.tenantId, tariff_id: (event.data as { tariffId: string }).tariffId });
    await foldIntoTable(tx, schema, tariffsSpec, events, keyOf, evolve);
  },
};
