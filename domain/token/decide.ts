import { assertNever } from '../shared/assert.js';
import { eventFrom } from '../shared/event-definition.js';
import { IllegalStateError, InvalidCommandError } from '../shared/errors.js';
import { checkText, normalizeTimestamp, sameJson } from '../shared/values.js';
import type { IssueToken, TokenCommand } from './commands.js';
import { TokenBlocked, TokenExpired, TokenIssued, TokenUnblocked, TokenUpdated, tokenSources, tokenTypes, whitelistTypes, type TokenEvent, type TokenFacts } from './events.js';
import type { TokenState } from './state.js';

export function decideToken(command: TokenCommand, state: TokenState): TokenEvent[] {
  switch (command.type) {
    case 'IssueToken': {
      const facts = tokenFacts(command);
      if (state.status === 'none') return [eventFrom(TokenIssued, facts)];
      if (state.facts.uid !== facts.uid) throw new InvalidCommandError(`token stream holds uid ${state.facts.uid}, not ${facts.uid}`, command.type);
      checkSameOwner(state.facts, facts, command.type);
      // OCPI partners PUT the whole token again on every sync: unchanged facts are not a new event.
      return sameJson(state.facts, facts) ? [] : [eventFrom(TokenUpdated, facts)];
    }
    case 'UpdateToken': {
      if (state.status === 'none') throw new IllegalStateError('token not issued', command.type);
      const { facts: current } = state;
      const expected = command.expectedParty;
      if (expected !== undefined && (current.countryCode !== expected.countryCode.toUpperCase() || current.partyId !== expected.partyId.toUpperCase())) {
        throw new InvalidCommandError(`token ${current.uid} belongs to ${current.countryCode ?? '?'}*${current.partyId ?? '?'}`, command.type);
      }
      const merged: IssueToken = {
        ...issueOf(current),
        ...definedOnly(command.changes),
        type: 'IssueToken',
      };
      const facts = tokenFacts(merged, command.type);
      return sameJson(current, facts) ? [] : [eventFrom(TokenUpdated, facts)];
    }
    case 'BlockToken': {
      const reason = checkText(command.reason, 'reason', 500, command.type);
      if (state.status === 'none') throw new IllegalStateError('token not issued', command.type);
      return state.blockedReason === null ? [eventFrom(TokenBlocked, { reason })] : [];
    }
    case 'UnblockToken':
      if (state.status === 'none') throw new IllegalStateError('token not issued', command.type);
      if (state.blockedReason === null) return [];
      if (command.onlyReason !== undefined && command.onlyReason !== state.blockedReason) return [];
      return [eventFrom(TokenUnblocked, {})];
    case 'ExpireToken': {
      const expiredAt = normalizeTimestamp(command.expiredAt, 'expiredAt', command.type);
      if (state.status === 'none') throw new IllegalStateError('token not issued', command.type);
      return state.expiredAt === null ? [eventFrom(TokenExpired, { expiredAt })] : [];
    }
    default:
      return assertNever(command, 'token command');
  }
}

/**
 * The uid is the stream id (what a station sends), so two issuers could claim one uid: the first
 * keeps it. An eMSP must not take over another party's token, nor an operator's local one.
 */
function checkSameOwner(current: TokenFacts, next: TokenFacts, commandType: string): void {
  const owner = (facts: TokenFacts) => (facts.source === 'local' ? 'local' : `${facts.countryCode ?? '?'}*${facts.partyId ?? '?'}`);
  if (owner(current) !== owner(next)) {
    throw new InvalidCommandError(`token ${current.uid} belongs to ${owner(current)}, not ${owner(next)}`, commandType);
  }
}

function issueOf(facts: TokenFacts): IssueToken {
  return { ...facts, type: 'IssueToken' };
}

/** PATCH semantics: a field absent (undefined) in the changes keeps its value; null clears it. */
function definedOnly<T extends object>(changes: T): Partial<T> {
  return Object.fromEntries(Object.entries(changes).filter(([, value]) => value !== undefined)) as Partial<T>;
}

function tokenFacts(command: IssueToken, type: string = command.type): TokenFacts {
  if (!tokenTypes.includes(command.tokenType)) throw new InvalidCommandError(`unknown token type ${String(command.tokenType)}`, type);
  if (!whitelistTypes.includes(command.whitelist)) throw new InvalidCommandError(`unknown whitelist ${String(command.whitelist)}`, type);
  if (!tokenSources.includes(command.source)) throw new InvalidCommandError(`unknown source ${String(command.source)}`, type);
  // Lengths from OCPI 2.2.1 Token (uid, contract_id, group_id 36; issuer 64; visual_number 64).
  return {
    uid: checkText(command.uid, 'uid', 36, type),
    tokenType: command.tokenType,
    contractId: checkText(command.contractId, 'contractId', 36, type),
    issuer: checkText(command.issuer, 'issuer', 64, type),
    ownerId: command.ownerId == null ? null : checkText(command.ownerId, 'ownerId', 255, type),
    visualNumber: command.visualNumber == null ? null : checkText(command.visualNumber, 'visualNumber', 64, type),
    validUntil: command.validUntil == null ? null : normalizeTimestamp(command.validUntil, 'validUntil', type),
    whitelist: command.whitelist,
    source: command.source,
    groupId: command.groupId == null ? null : checkText(command.groupId, 'groupId', 36, type),
    // Optional keys only when known, so tokens issued without them keep their stored shape.
    ...(command.countryCode === undefined ? {} : { countryCode: checkParty(command.countryCode, /^[A-Z]{2}$/, 'countryCode', type) }),
    ...(command.partyId === undefined ? {} : { partyId: checkParty(command.partyId, /^[A-Z0-9]{3}$/, 'partyId', type) }),
    ...(command.language === undefined ? {} : { language: checkText(command.language, 'language', 2, type) }),
    ...(command.defaultProfileType === undefined ? {} : { defaultProfileType: checkText(command.defaultProfileType, 'defaultProfileType', 20, type) }),
    ...(command.energyContract === undefined
      ? {}
      : {
          energyContract: {
            supplierName: checkText(command.energyContract.supplierName, 'energyContract.supplierName', 64, type),
            ...(command.energyContract.contractId === undefined
              ? {}
              : { contractId: checkText(command.energyContract.contractId, 'energyContract.contractId', 64, type) }),
          },
        }),
  };
}

/** OCPI country codes and party ids are CiStrings: kept upper case so one party is one spelling. */
function checkParty(value: string, pattern: RegExp, field: string, type: string): string {
  const upper = String(value).toUpperCase();
  if (!pattern.test(upper)) throw new InvalidCommandError(`${field} ${value} is not an OCPI ${field}`, type);
  return upper;
}
