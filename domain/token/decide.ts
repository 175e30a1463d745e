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
      // OCPI partners PUT the whole token again on every sync: unchanged facts are not a new event.
      return sameJson(state.facts, facts) ? [] : [eventFrom(TokenUpdated, facts)];
    }
    case 'BlockToken': {
      const reason = checkText(command.reason, 'reason', 500, command.type);
      if (state.status === 'none') throw new IllegalStateError('token not issued', command.type);
      return state.blockedReason === null ? [eventFrom(TokenBlocked, { reason })] : [];
    }
    case 'UnblockToken':
      if (state.status === 'none') throw new IllegalStateError('token not issued', command.type);
      return state.blockedReason === null ? [] : [eventFrom(TokenUnblocked, {})];
    case 'ExpireToken': {
      const expiredAt = normalizeTimestamp(command.expiredAt, 'expiredAt', command.type);
      if (state.status === 'none') throw new IllegalStateError('token not issued', command.type);
      return state.expiredAt === null ? [eventFrom(TokenExpired, { expiredAt })] : [];
    }
    default:
      return assertNever(command, 'token command');
  }
}

function tokenFacts(command: IssueToken): TokenFacts {
  const type = command.type;
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
  };
}
