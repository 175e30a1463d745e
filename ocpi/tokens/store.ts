import type { SqlExecutor } from '../../adapters/sql/port.js';
import type { CommandBus } from '../../commands/index.js';
import type { CommandResult } from '../../commands/envelope.js';
import type { IssueToken, TokenChanges } from '../../domain/token/index.js';
import { liveSchemaName } from '../../projections/schema.js';
import type { TokensTable } from '../../projections/tokens.js';
import { tokenSchema, type Token, type TokenPatch } from '../schemas/tokens.js';

/**
 * Between OCPI Tokens and the token aggregate: the commands a PUT/PATCH (or a pull) becomes, and
 * the Token a GET answers from the `proj_tokens` read model. The aggregate id is the uid as a
 * station sends it, so a station's Authorize finds tokens of eMSPs too.
 */

/** The block an eMSP's `valid: false` sets; its `valid: true` lifts only this one, never an operator's. */
export const emspInvalidReason = 'OCPI valid: false';

export interface TokenWriteMeta {
  readonly tenantId: string;
  readonly partnerId: string;
  readonly correlationId: string;
  /** Unique per request (or per token of a pull); the commands append `:issue`, `:block`... */
  readonly commandIdPrefix: string;
}

export interface TokenWriteOutcome {
  /** A new token (PUT answers 201). */
  readonly created: boolean;
  /** Any event appended. */
  readonly changed: boolean;
}

function issueCommand(token: Token): IssueToken {
  return {
    type: 'IssueToken',
    uid: token.uid,
    tokenType: token.type,
    contractId: token.contract_id,
    issuer: token.issuer,
    visualNumber: token.visual_number ?? null,
    groupId: token.group_id ?? null,
    // OCPI 2.2.1 Tokens have no expiry: `valid` says whether they may be used.
    validUntil: null,
    whitelist: token.whitelist,
    source: 'ocpi',
    countryCode: token.country_code.toUpperCase(),
    partyId: token.party_id.toUpperCase(),
    ...(token.language === undefined ? {} : { language: token.language }),
    ...(token.default_profile_type === undefined ? {} : { defaultProfileType: token.default_profile_type }),
    ...(token.energy_contract === undefined ? {} : { energyContract: energyContractOf(token.energy_contract) }),
  };
}

const energyContractOf = (contract: NonNullable<Token['energy_contract']>) => ({
  supplierName: contract.supplier_name,
  ...(contract.contract_id === undefined ? {} : { contractId: contract.contract_id }),
});

function changesOf(patch: TokenPatch): TokenChanges {
  return {
    ...(patch.type === undefined ? {} : { tokenType: patch.type }),
    ...(patch.contract_id === undefined ? {} : { contractId: patch.contract_id }),
    ...(patch.issuer === undefined ? {} : { issuer: patch.issuer }),
    ...(patch.visual_number === undefined ? {} : { visualNumber: patch.visual_number }),
    ...(patch.group_id === undefined ? {} : { groupId: patch.group_id }),
    ...(patch.whitelist === undefined ? {} : { whitelist: patch.whitelist }),
    ...(patch.language === undefined ? {} : { language: patch.language }),
    ...(patch.default_profile_type === undefined ? {} : { defaultProfileType: patch.default_profile_type }),
    ...(patch.energy_contract === undefined ? {} : { energyContract: energyContractOf(patch.energy_contract) }),
  };
}

async function send(bus: CommandBus, meta: TokenWriteMeta, uid: string, part: string, occurredAt: string, command: Parameters<CommandBus['send']>[0]['command']): Promise<CommandResult> {
  return bus.send({
    commandId: `${meta.commandIdPrefix}:${part}`,
    tenantId: meta.tenantId,
    aggregateId: uid,
    actor: `partner:${meta.partnerId}`,
    correlationId: meta.correlationId,
    // The eMSP's own time of the change (Token last_updated), shown back as last_updated on GET.
    occurredAt,
    command,
  });
}

/** `valid` as block/unblock, after the facts: a refused facts command (another party's token) stops here. */
async function applyValid(bus: CommandBus, meta: TokenWriteMeta, uid: string, valid: boolean, occurredAt: string): Promise<boolean> {
  const result = valid
    ? await send(bus, meta, uid, 'unblock', occurredAt, { type: 'UnblockToken', onlyReason: emspInvalidReason })
    : await send(bus, meta, uid, 'block', occurredAt, { type: 'BlockToken', reason: emspInvalidReason });
  return result.events.length > 0 && !result.duplicate;
}

/** A whole Token (PUT, or one token of a pull): issued, updated or left alone when unchanged. */
export async function writeToken(bus: CommandBus, meta: TokenWriteMeta, token: Token): Promise<TokenWriteOutcome> {
  const issued = await send(bus, meta, token.uid, 'issue', token.last_updated, issueCommand(token));
  const created = issued.events.some((event) => event.type === 'TokenIssued');
  const factsChanged = issued.events.length > 0 && !issued.duplicate;
  const validChanged = await applyValid(bus, meta, token.uid, token.valid, token.last_updated);
  return { created, changed: factsChanged || validChanged };
}

/** A PATCH: only the fields sent change; the party in the URL must own the token. */
export async function patchToken(
  bus: CommandBus,
  meta: TokenWriteMeta,
  target: { readonly countryCode: string; readonly partyId: string; readonly uid: string },
  patch: TokenPatch,
): Promise<TokenWriteOutcome> {
  const updated = await send(bus, meta, target.uid, 'update', patch.last_updated, {
    type: 'UpdateToken',
    changes: changesOf(patch),
    expectedParty: { countryCode: target.countryCode, partyId: target.partyId },
  });
  const factsChanged = updated.events.length > 0 && !updated.duplicate;
  const validChanged = patch.valid === undefined ? false : await applyValid(bus, meta, target.uid, patch.valid, patch.last_updated);
  return { created: false, changed: factsChanged || validChanged };
}

type TokenRow = Pick<
  TokensTable,
  'uid' | 'token_type' | 'contract_id' | 'issuer' | 'whitelist' | 'status' | 'updated_at' | 'country_code' | 'party_id' | 'visual_number' | 'group_id' | 'language' | 'default_profile_type' | 'energy_contract'
>;

/** Our copy of a party's token, from the read model (never the event store), or null. */
export async function readToken(db: SqlExecutor, tenantId: string, key: { countryCode: string; partyId: string; uid: string; type: string }): Promise<Token | null> {
  const { rows } = await db.query<TokenRow>(
    `SELECT uid, token_type, contract_id, issuer, whitelist, status, updated_at, country_code, party_id, visual_number, group_id, language, default_profile_type, energy_contract
       FROM ${liveSchemaName('tokens')}.tokens
      WHERE tenant_id = $1 AND token_id = $2 AND country_code = $3 AND party_id = $4 AND token_type = $5`,
    [tenantId, key.uid, key.countryCode.toUpperCase(), key.partyId.toUpperCase(), key.type],
  );
  const row = rows[0];
  return row === undefined ? null : tokenOfRow(row);
}

function tokenOfRow(row: TokenRow): Token {
  const contract = row.energy_contract === null ? null : (JSON.parse(row.energy_contract) as { supplierName: string; contractId?: string });
  const token = {
    country_code: row.country_code,
    party_id: row.party_id,
    uid: row.uid,
    type: row.token_type,
    contract_id: row.contract_id,
    ...(row.visual_number === null ? {} : { visual_number: row.visual_number }),
    issuer: row.issuer,
    ...(row.group_id === null ? {} : { group_id: row.group_id }),
    // Blocked (by the eMSP or an operator) or expired: not valid for charging here.
    valid: row.status === 'valid',
    whitelist: row.whitelist,
    ...(row.language === null ? {} : { language: row.language }),
    ...(row.default_profile_type === null ? {} : { default_profile_type: row.default_profile_type }),
    ...(contract === null ? {} : { energy_contract: { supplier_name: contract.supplierName, ...(contract.contractId === undefined ? {} : { contract_id: contract.contractId }) } }),
    last_updated: new Date(row.updated_at).toISOString(),
  };
  // What we send is checked like what we receive: a row that is no OCPI Token is a bug here.
  return tokenSchema.parse(token);
}
