import type { RecordedEvent } from '../adapters/event-store/port.js';
import type { SqlExecutor } from '../adapters/sql/port.js';
import { invariant } from '../domain/shared/assert.js';
import { parseStreamName } from '../domain/shared/event.js';
import type { PartnerEvent } from '../domain/partner/events.js';
import type { Projection } from './projection.js';
import { foldIntoTable, type Row, type TableSpec } from './rows.js';

/**
 * `proj_partners`: one row per OCPI partner, with the hash of the token it presents to us (the
 * OCPI authentication lookup) and the sealed token we present to it (for outgoing calls).
 * Roles and endpoints are JSON text: read whole, never queried inside.
 */
export interface PartnersTable {
  tenant_id: string;
  partner_id: string;
  status: 'pending' | 'registered' | 'unregistered';
  initiated_by: 'partner' | 'us' | null;
  version: string | null;
  versions_url: string | null;
  roles: string;
  endpoints: string;
  token_hash: string | null;
  token_sealed: string | null;
  updated_at: Date;
}
/** `client_infos`: what hub partners report about the parties connected to them (hubclientinfo). */
export interface ClientInfosTable {
  tenant_id: string;
  partner_id: string;
  country_code: string;
  party_id: string;
  role: string;
  status: 'CONNECTED' | 'OFFLINE' | 'PLANNED' | 'SUSPENDED';
  last_updated: Date;
  updated_at: Date;
}
export interface PartnersReadModel {
  partners: PartnersTable;
  client_infos: ClientInfosTable;
}

type Data<T extends PartnerEvent['type']> = Extract<PartnerEvent, { type: T }>['data'];

const text = (name: string) => ({ name, type: 'text' });
export const partnersSpec: TableSpec = {
  table: 'partners',
  key: ['tenant_id', 'partner_id'],
  columns: [
    ...['tenant_id', 'partner_id', 'status', 'initiated_by', 'version', 'versions_url', 'roles', 'endpoints', 'token_hash', 'token_sealed'].map(text),
    { name: 'updated_at', type: 'timestamptz' },
  ],
};

export const clientInfosSpec: TableSpec = {
  table: 'client_infos',
  key: ['tenant_id', 'partner_id', 'country_code', 'party_id'],
  columns: [
    ...['tenant_id', 'partner_id', 'country_code', 'party_id', 'role', 'status'].map(text),
    { name: 'last_updated', type: 'timestamptz' },
    { name: 'updated_at', type: 'timestamptz' },
  ],
};

function evolve(current: Row | undefined, event: RecordedEvent, key: Row): Row {
  const base: Row = current ?? { ...key, status: 'pending', initiated_by: null, version: null, versions_url: null, roles: '[]', endpoints: '[]', token_hash: null, token_sealed: null };
  const updated_at = event.metadata.occurredAt;
  switch (event.type) {
    case 'CredentialsTokenIssued': {
      const data = event.data as unknown as Data<'CredentialsTokenIssued'>;
      if (data.presentedBy === 'partner') {
        // A new token they present replaces the old one (A is void once C exists, spec 7.1.1).
        return { ...base, status: base.status === 'registered' ? 'registered' : 'pending', token_hash: data.tokenHash, ...(base.status === 'unregistered' ? { token_sealed: null } : {}), updated_at };
      }
      return { ...base, token_sealed: data.tokenSealed, updated_at };
    }
    case 'PartnerRegistered':
    case 'PartnerUpdated': {
      const data = event.data as unknown as Data<'PartnerRegistered'>;
      return {
        ...base,
        status: 'registered',
        ...(event.type === 'PartnerRegistered' ? { initiated_by: data.initiatedBy } : {}),
        version: data.version,
        versions_url: data.versionsUrl,
        roles: JSON.stringify(data.roles),
        endpoints: JSON.stringify(data.endpoints),
        updated_at,
      };
    }
    case 'PartnerUnregistered':
      invariant(current !== undefined, `PartnerUnregistered of ${event.streamId} follows a registration`);
      // Unregistering revokes both tokens: nothing to authenticate with, nothing to call them with.
      return { ...base, status: 'unregistered', token_hash: null, token_sealed: null, updated_at };
    default:
      throw new Error(`invariant violated: partners projection does not handle ${event.type}`);
  }
}

function clientInfoKey(event: RecordedEvent): Row | null {
  if (event.type !== 'ClientInfoReported') return null;
  const data = event.data as unknown as Data<'ClientInfoReported'>;
  return { tenant_id: event.metadata.tenantId, partner_id: parseStreamName(event.streamId).id, country_code: data.countryCode, party_id: data.partyId };
}

function evolveClientInfo(_current: Row | undefined, event: RecordedEvent, key: Row): Row {
  const data = event.data as unknown as Data<'ClientInfoReported'>;
  return { ...key, role: data.role, status: data.status, last_updated: data.lastUpdated, updated_at: event.metadata.occurredAt };
}

export const partnersProjection: Projection = {
  name: 'partners',
  version: 1,
  handledEventTypes: new Set(['CredentialsTokenIssued', 'PartnerRegistered', 'PartnerUpdated', 'PartnerUnregistered', 'ClientInfoReported']),
  migrationsGroup: 'readmodels-partners',
  checksumTables: [
    { table: 'partners', orderBy: partnersSpec.key },
    { table: 'client_infos', orderBy: clientInfosSpec.key },
  ],
  async applyBatch(tx: SqlExecutor, schema: string, events: readonly RecordedEvent[]): Promise<void> {
    const keyOf = (event: RecordedEvent): Row => ({ tenant_id: event.metadata.tenantId, partner_id: parseStreamName(event.streamId).id });
    // ClientInfoReported has rows of its own (client_infos); the partner row stays as it was.
    const partnerEvents = events.filter((event) => event.type !== 'ClientInfoReported');
    await foldIntoTable(tx, schema, partnersSpec, partnerEvents, keyOf, evolve);
    await foldIntoTable(tx, schema, clientInfosSpec, events, clientInfoKey, evolveClientInfo);
  },
};
