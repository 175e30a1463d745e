import type { EventStore } from '../../adapters/event-store/port.js';
import type { CommandBus } from '../../commands/index.js';
import type { CommandResult } from '../../commands/envelope.js';
import { foldStream } from '../../commands/process/streams.js';
import { streamName } from '../../domain/shared/event.js';
import { tokenDecider, type IssueToken, type TokenChanges, type TokenFacts } from '../../domain/token/index.js';
import { tokenSchema, type Token, type TokenPatch } from '../schemas/tokens.js';

/**
 * Between OCPI Tokens and the token aggregate: the commands a PUT/PATCH (or a pull) becomes, and
 * the Token a GET answers, folded from the token's stream. The aggregate id is the uid as a
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

/**
 * Our copy of a party's token, or null: folded from the token's stream, the write side, so a GET
 * answers what a PUT/PATCH answered a moment ago on any node, however far `proj_tokens` lags
 * (the reason this single-object read does not use the read model). An event per change the eMSP
 * or an operator made; read page by page up to the length any command may write (`foldStream`),
 * so a token an eMSP toggled thousands of times still answers.
 */
export async function readTokenFromStream(
  events: Pick<EventStore, 'readStream'>,
  tenantId: string,
  key: { countryCode: string; partyId: string; uid: string; type: string },
): Promise<Token | null> {
  const { state, last } = await foldStream(events, tokenDecider, streamName(tokenDecider.aggregateType, tenantId, key.uid));
  if (state.status !== 'issued' || last === null) return null;
  const { facts } = state;
  const matches = facts.countryCode === key.countryCode.toUpperCase() && facts.partyId === key.partyId.toUpperCase() && facts.tokenType === key.type;
  return matches ? tokenOf(facts, state.blockedReason === null && state.expiredAt === null, last.metadata.occurredAt) : null;
}

function tokenOf(facts: TokenFacts, valid: boolean, lastUpdated: string): Token {
  const token = {
    country_code: facts.countryCode,
    party_id: facts.partyId,
    uid: facts.uid,
    type: facts.tokenType,
    contract_id: facts.contractId,
    ...(facts.visualNumber === null ? {} : { visual_number: facts.visualNumber }),
    issuer: facts.issuer,
    ...(facts.groupId === null ? {} : { group_id: facts.groupId }),
    // Blocked (by the eMSP or an operator) or expired: not valid for charging here.
    valid,
    whitelist: facts.whitelist,
    ...(facts.language === undefined ? {} : { language: facts.language }),
    ...(facts.defaultProfileType === undefined ? {} : { default_profile_type: facts.defaultProfileType }),
    ...(facts.energyContract === undefined
      ? {}
      : { energy_contract: { supplier_name: facts.energyContract.supplierName, ...(facts.energyContract.contractId === undefined ? {} : { contract_id: facts.energyContract.contractId }) } }),
    // The time of the last change as its sender stated it (the eMSP's last_updated for its own changes).
    last_updated: new Date(lastUpdated).toISOString(),
  };
  // What we send is checked like what we receive: a token that is no OCPI Token is a bug here.
  return tokenSchema.parse(token);
}
