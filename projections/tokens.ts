import type { RecordedEvent } from '../adapters/event-store/port.js';
import type { SqlExecutor } from '../adapters/sql/port.js';
import { invariant } from '../domain/shared/assert.js';
import { parseStreamName } from '../domain/shared/event.js';
import type { TokenEvent } from '../domain/token/events.js';
import type { Projection } from './projection.js';
import { foldIntoTable, type Row, type TableSpec } from './rows.js';

/** Kysely types of `proj_tokens`. */
export interface TokensTable {
  tenant_id: string;
  token_id: string;
  uid: string;
  token_type: string;
  contract_id: string;
  issuer: string;
  whitelist: string;
  source: string;
  valid_until: Date | null;
  status: 'valid' | 'blocked' | 'expired';
  blocked: boolean;
  block_reason: string | null;
  expired: boolean;
  updated_at: Date;
  country_code: string | null;
  party_id: string | null;
  visual_number: string | null;
  group_id: string | null;
  language: string | null;
  default_profile_type: string | null;
  /** JSON text of {supplierName, contractId?}. */
  energy_contract: string | null;
}
export interface TokensReadModel {
  tokens: TokensTable;
}

type Data<T extends TokenEvent['type']> = Extract<TokenEvent, { type: T }>['data'];

const text = (name: string) => ({ name, type: 'text' });
const tokensSpec: TableSpec = {
  table: 'tokens',
  key: ['tenant_id', 'token_id'],
  columns: [
    ...['tenant_id', 'token_id', 'uid', 'token_type', 'contract_id', 'issuer', 'whitelist', 'source'].map(text),
    { name: 'valid_until', type: 'timestamptz' },
    text('status'),
    { name: 'blocked', type: 'boolean' },
    text('block_reason'),
    { name: 'expired', type: 'boolean' },
    { name: 'updated_at', type: 'timestamptz' },
    ...['country_code', 'party_id', 'visual_number', 'group_id', 'language', 'default_profile_type', 'energy_contract'].map(text),
  ],
};

/** Blocked wins over expired: an operator's block is the more specific fact to show. */
const statusOf = (row: Row): string => (row.blocked ? 'blocked' : row.expired ? 'expired' : 'valid');

function evolve(current: Row | undefined, event: RecordedEvent, key: Row): Row {
  const updated_at = event.metadata.occurredAt;
  if (event.type === 'TokenIssued' || event.type === 'TokenUpdated') {
    const data = event.data as unknown as Data<'TokenIssued'>;
    const row: Row = {
      blocked: false,
      block_reason: null,
      expired: false,
      ...current,
      ...key,
      uid: data.uid,
      token_type: data.tokenType,
      contract_id: data.contractId,
      issuer: data.issuer,
      whitelist: data.whitelist,
      source: data.source,
      valid_until: data.validUntil,
      country_code: data.countryCode ?? null,
      party_id: data.partyId ?? null,
      visual_number: data.visualNumber,
      group_id: data.groupId,
      language: data.language ?? null,
      default_profile_type: data.defaultProfileType ?? null,
      energy_contract: data.energyContract === undefined ? null : JSON.stringify(data.energyContract),
      updated_at,
    };
    return { ...row, status: statusOf(row) };
  }
  invariant(current !== undefined, `${event.type} of ${event.streamId} follows TokenIssued`);
  let row: Row;
  if (event.type === 'TokenBlocked') row = { ...current, blocked: true, block_reason: (event.data as unknown as Data<'TokenBlocked'>).reason };
  else if (event.type === 'TokenUnblocked') row = { ...current, blocked: false, block_reason: null };
  else {
    invariant(event.type === 'TokenExpired', `tokens projection handles ${event.type}`);
    row = { ...current, expired: true };
  }
  return { ...row, status: statusOf(row), updated_at };
}

export const tokensProjection: Projection = {
  name: 'tokens',
  // 2: OCPI party and Token fields (migration 002), filled by the rebuild.
  version: 2,
  handledEventTypes: new Set(['TokenIssued', 'TokenUpdated', 'TokenBlocked', 'TokenUnblocked', 'TokenExpired']),
  migrationsGroup: 'readmodels-tokens',
  checksumTables: [{ table: 'tokens', orderBy: tokensSpec.key }],
  async applyBatch(tx: SqlExecutor, schema: string, events: readonly RecordedEvent[]): Promise<void> {
    const keyOf = (event: RecordedEvent): Row => ({ tenant_id: event.metadata.tenantId, token_id: parseStreamName(event.streamId).id });
    await foldIntoTable(tx, schema, tokensSpec, events, keyOf, evolve);
  },
};
