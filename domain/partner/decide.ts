import { assertNever } from '../shared/assert.js';
import { eventFrom } from '../shared/event-definition.js';
import { IllegalStateError, InvalidCommandError } from '../shared/errors.js';
import { checkText, normalizeTimestamp } from '../shared/values.js';
import type { PartnerCommand, PartnerConnection, TokenTheyPresent, TokenWePresent } from './commands.js';
import {
  ClientInfoReported,
  CredentialsTokenIssued,
  PartnerRegistered,
  PartnerUnregistered,
  PartnerUpdated,
  clientInfoStatuses,
  credentialsTokenLetters,
  ocpiRoles,
  partnerEndpointSchema,
  partnerRoleSchema,
  type PartnerEndpoint,
  type PartnerEvent,
  type PartnerRole,
} from './events.js';
import type { PartnerState } from './state.js';

/**
 * The credentials rules of OCPI 2.2.1 chapter 7 as state transitions: POST (register) only when
 * not registered, PUT (update) and DELETE (unregister) only when registered. The gateway turns
 * IllegalStateError into HTTP 405, as 7.2.2–7.2.4 require.
 */
export function decidePartner(command: PartnerCommand, state: PartnerState): PartnerEvent[] {
  switch (command.type) {
    case 'IssueRegistrationToken': {
      if (state.status === 'registered') throw new IllegalStateError('partner is registered: update its credentials instead', command.type);
      const token = theirToken(command.tokenTheyPresent, command.type);
      if (state.status === 'pending' && state.tokenHash === token.tokenHash) return [];
      return [eventFrom(CredentialsTokenIssued, { token: token.token, presentedBy: 'partner', tokenHash: token.tokenHash })];
    }
    case 'RegisterPartner': {
      if (state.status === 'registered') throw new IllegalStateError('partner is already registered', command.type);
      if (state.status !== 'pending') throw new IllegalStateError('no registration token was issued to this partner', command.type);
      const connection = checkConnection(command.connection, command.type);
      const ours = ourToken(command.tokenWePresent, command.type);
      const theirs = theirToken(command.tokenTheyPresent, command.type);
      const events: PartnerEvent[] = [
        eventFrom(PartnerRegistered, { ...connection, initiatedBy: command.initiatedBy }),
        eventFrom(CredentialsTokenIssued, { token: ours.token, presentedBy: 'us', tokenSealed: ours.tokenSealed }),
      ];
      // When we registered with them, their token (our B) was issued before the POST already.
      if (theirs.tokenHash !== state.tokenHash) {
        events.push(eventFrom(CredentialsTokenIssued, { token: theirs.token, presentedBy: 'partner', tokenHash: theirs.tokenHash }));
      }
      return events;
    }
    case 'UpdatePartner': {
      if (state.status !== 'registered') throw new IllegalStateError('partner is not registered', command.type);
      const connection = checkConnection(command.connection, command.type);
      const ours = ourToken(command.tokenWePresent, command.type);
      const events: PartnerEvent[] = [eventFrom(PartnerUpdated, connection)];
      if (ours.tokenSealed !== state.tokenSealed) events.push(eventFrom(CredentialsTokenIssued, { token: ours.token, presentedBy: 'us', tokenSealed: ours.tokenSealed }));
      if (command.tokenTheyPresent !== null) {
        const theirs = theirToken(command.tokenTheyPresent, command.type);
        if (theirs.tokenHash !== state.tokenHash) events.push(eventFrom(CredentialsTokenIssued, { token: theirs.token, presentedBy: 'partner', tokenHash: theirs.tokenHash }));
      }
      return events;
    }
    case 'UnregisterPartner': {
      if (state.status !== 'registered') throw new IllegalStateError('partner is not registered', command.type);
      return [eventFrom(PartnerUnregistered, { initiatedBy: command.initiatedBy, reason: checkText(command.reason, 'reason', 500, command.type) })];
    }
    case 'ReportClientInfo': {
      if (state.status !== 'registered') throw new IllegalStateError('partner is not registered', command.type);
      // hubclientinfo objects are owned by a hub (spec mod_hub_client_info: "Data owner: Hub").
      if (!state.connection.roles.some((role) => role.role === 'HUB')) throw new IllegalStateError('only a partner with the HUB role reports client info', command.type);
      const countryCode = command.countryCode?.toUpperCase();
      const partyId = command.partyId?.toUpperCase();
      if (!/^[A-Z]{2}$/.test(countryCode ?? '') || !/^[A-Z0-9]{3}$/.test(partyId ?? '')) throw new InvalidCommandError('country code is 2 letters, party id 3 letters or digits', command.type);
      if (!ocpiRoles.includes(command.role)) throw new InvalidCommandError(`unknown role ${String(command.role)}`, command.type);
      if (!clientInfoStatuses.includes(command.status)) throw new InvalidCommandError(`unknown connection status ${String(command.status)}`, command.type);
      const lastUpdated = normalizeTimestamp(command.lastUpdated, 'lastUpdated', command.type);
      return [eventFrom(ClientInfoReported, { countryCode, partyId, role: command.role, status: command.status, lastUpdated })];
    }
    default:
      return assertNever(command, 'partner command');
  }
}

function theirToken(token: TokenTheyPresent, commandType: string): TokenTheyPresent {
  if (!credentialsTokenLetters.includes(token.token)) throw new InvalidCommandError(`unknown token letter ${String(token.token)}`, commandType);
  if (!/^[0-9a-f]{64}$/.test(token.tokenHash)) throw new InvalidCommandError('a token they present is stored as its SHA-256 hash (64 hex digits)', commandType);
  return token;
}

function ourToken(token: TokenWePresent, commandType: string): TokenWePresent {
  if (!credentialsTokenLetters.includes(token.token)) throw new InvalidCommandError(`unknown token letter ${String(token.token)}`, commandType);
  return { token: token.token, tokenSealed: checkText(token.tokenSealed, 'tokenSealed', 1024, commandType) };
}

function checkConnection(connection: PartnerConnection, commandType: string): { roles: PartnerRole[]; version: string; versionsUrl: string; endpoints: PartnerEndpoint[] } {
  const roles = connection.roles.map((role) => {
    const parsed = partnerRoleSchema.safeParse({ ...role, countryCode: role.countryCode?.toUpperCase(), partyId: role.partyId?.toUpperCase() });
    if (!parsed.success) throw new InvalidCommandError(`invalid role: ${parsed.error.issues[0]?.message}`, commandType);
    return parsed.data;
  });
  if (roles.length === 0) throw new InvalidCommandError('a partner has at least one role', commandType);
  // Spec 7.3.1: every role needs a unique combination of role, party_id and country_code.
  const keys = new Set(roles.map((role) => `${role.role}/${role.countryCode}/${role.partyId}`));
  if (keys.size !== roles.length) throw new InvalidCommandError('roles repeat the same role, country_code and party_id', commandType);
  const endpoints = connection.endpoints.map((endpoint) => {
    const parsed = partnerEndpointSchema.safeParse(endpoint);
    if (!parsed.success) throw new InvalidCommandError(`invalid endpoint ${String(endpoint.identifier)}: ${parsed.error.issues[0]?.message}`, commandType);
    return parsed.data;
  });
  return { roles, version: checkText(connection.version, 'version', 10, commandType), versionsUrl: checkText(connection.versionsUrl, 'versionsUrl', 2048, commandType), endpoints };
}
