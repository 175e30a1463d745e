import type { RecordedEvent } from '../adapters/event-store/port.js';
import type { SqlExecutor } from '../adapters/sql/port.js';
import type { CdrEventData } from '../domain/cdr/events.js';
import { invariant } from '../domain/shared/assert.js';
import { parseStreamName } from '../domain/shared/event.js';
import type { Projection } from './projection.js';
import { foldIntoTable, type Row, type TableSpec } from './rows.js';

/** Kysely types of `proj_cdrs`. numeric columns come back as strings. */
export interface CdrsTable {
  tenant_id: string;
  cdr_id: string;
  transaction_id: string;
  party: string;
  emsp: string;
  token_uid: string;
  start_date_time: Date;
  end_date_time: Date;
  currency: string;
  total_cost_excl_vat: string;
  total_cost_incl_vat: string | null;
  total_energy_kwh: string;
  total_time_h: string;
  total_parking_time_h: string | null;
  tariff_version_id: string | null;
  credit: boolean;
  credit_reference_id: string | null;
  credited_by: string | null;
  credited_at: Date | null;
  credit_reason: string | null;
  replaced_by: string | null;
  replaces_cdr_id: string | null;
  last_updated: Date;
  cdr_json: string;
}
export interface CdrsReadModel {
  cdrs: CdrsTable;
}

const text = (name: string) => ({ name, type: 'text' });
const numeric = (name: string) => ({ name, type: 'numeric' });
const timestamptz = (name: string) => ({ name, type: 'timestamptz' });
export const cdrsSpec: TableSpec = {
  table: 'cdrs',
  key: ['tenant_id', 'cdr_id'],
  columns: [
    ...['tenant_id', 'cdr_id', 'transaction_id', 'party', 'emsp', 'token_uid'].map(text),
    timestamptz('start_date_time'),
    timestamptz('end_date_time'),
    text('currency'),
    ...['total_cost_excl_vat', 'total_cost_incl_vat', 'total_energy_kwh', 'total_time_h', 'total_parking_time_h'].map(numeric),
    text('tariff_version_id'),
    { name: 'credit', type: 'boolean' },
    ...['credit_reference_id', 'credited_by'].map(text),
    timestamptz('credited_at'),
    ...['credit_reason', 'replaced_by', 'replaces_cdr_id'].map(text),
    timestamptz('last_updated'),
    text('cdr_json'),
  ],
};

function evolve(current: Row | undefined, event: RecordedEvent, key: Row): Row {
  switch (event.type) {
    case 'CdrIssued': {
      invariant(current === undefined, `CDR ${String(key.cdr_id)} issued once`);
      const data = event.data as unknown as CdrEventData<'CdrIssued'>;
      const { cdr } = data;
      return {
        ...key,
        transaction_id: data.transactionId,
        party: `${cdr.country_code}-${cdr.party_id}`,
        emsp: `${cdr.cdr_token.country_code}-${cdr.cdr_token.party_id}`,
        token_uid: cdr.cdr_token.uid,
        start_date_time: cdr.start_date_time,
        end_date_time: cdr.end_date_time,
        currency: cdr.currency,
        total_cost_excl_vat: cdr.total_cost.excl_vat,
        total_cost_incl_vat: cdr.total_cost.incl_vat ?? null,
        total_energy_kwh: cdr.total_energy,
        total_time_h: cdr.total_time,
        total_parking_time_h: cdr.total_parking_time ?? null,
        tariff_version_id: data.tariffVersionId,
        credit: cdr.credit === true,
        credit_reference_id: cdr.credit_reference_id ?? null,
        credited_by: null,
        credited_at: null,
        credit_reason: null,
        replaced_by: null,
        replaces_cdr_id: data.replacesCdrId,
        last_updated: cdr.last_updated,
        // Stored as issued: export gives back exactly the CDR the eMSP received.
        cdr_json: JSON.stringify(cdr),
      };
    }
    case 'CdrCredited': {
      invariant(current !== undefined, `CdrCredited for an unknown CDR ${String(key.cdr_id)}`);
      const data = event.data as unknown as CdrEventData<'CdrCredited'>;
      return { ...current, credited_by: data.creditCdrId, credited_at: data.creditedAt, credit_reason: data.reason };
    }
    case 'CdrReissued': {
      invariant(current !== undefined, `CdrReissued for an unknown CDR ${String(key.cdr_id)}`);
      const data = event.data as unknown as CdrEventData<'CdrReissued'>;
      return { ...current, replaced_by: data.replacementCdrId };
    }
    default:
      throw new Error(`invariant violated: cdrs projection handles ${event.type}`);
  }
}

export const cdrsProjection: Projection = {
  name: 'cdrs',
  version: 1,
  handledEventTypes: new Set(['CdrIssued', 'CdrCredited', 'CdrReissued']),
  migrationsGroup: 'readmodels-cdrs',
  checksumTables: [{ table: 'cdrs', orderBy: cdrsSpec.key }],
  async applyBatch(tx: SqlExecutor, schema: string, events: readonly RecordedEvent[]): Promise<void> {
    const keyOf = (event: RecordedEvent): Row => ({ tenant_id: event.metadata.tenantId, cdr_id: parseStreamName(event.streamId).id });
    await foldIntoTable(tx, schema, cdrsSpec, events, keyOf, evolve);
  },
};
