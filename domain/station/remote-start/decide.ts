import { assertNever } from '../../shared/assert.js';
import { eventFrom } from '../../shared/event-definition.js';
import { IllegalStateError, InvalidCommandError } from '../../shared/errors.js';
import { checkText, idTokenSchema, normalizeTimestamp, sameIdToken, timeMs, type IdToken } from '../../shared/values.js';
import { checkAuthorizingParty } from '../../transaction/session-authorization.js';
import type { ClaimRemoteStart, RemoteStartCommand } from './commands.js';
import { authorizationReferenceSchema, RemoteStartClaimed, RemoteStartRefused, RemoteStartRequested, type RemoteStartEvent } from './events.js';
import type { RemoteStartEntry, RemoteStartState } from './state.js';

/**
 * How long after a remote start its token counts as authorized at that station: the station's start
 * (and an Authorize before it) may come this long after and still be its. OCPI 2.2.1 13.3.5
 * (StartSession object): for the token of a START_SESSION the CPO "SHALL NOT do a realtime
 * authorization at the eMSP ... at the given EVSE/Charge Point within 15 minutes after having
 * received this StartSession". It covers the driver still plugging in (1.6 ConnectionTimeOut, 2.0.1
 * EVConnectionTimeOut, typically 30 s to a few minutes). Later, a start with the same token is a new, local one.
 */
export const remoteStartClaimWindowMs = 15 * 60_000;
/** The start may be stamped a little before the remote start on another node's clock (server clocks, not station clocks). */
export const remoteStartClockSkewMs = 60_000;

export function decideRemoteStart(command: RemoteStartCommand, state: RemoteStartState): RemoteStartEvent[] {
  switch (command.type) {
    case 'RecordRemoteStart': {
      const operationId = checkText(command.operationId, 'operationId', 100, command.type);
      if (state.entries.some((entry) => entry.operationId === operationId)) return [];
      return [
        eventFrom(RemoteStartRequested, {
          operationId,
          stationId: checkText(command.stationId, 'stationId', 48, command.type),
          evseId: command.evseId === null ? null : positive(command.evseId, 'evseId', command.type),
          idToken: checkIdToken(command.idToken, command.type),
          remoteStartId: command.remoteStartId === null ? null : positive(command.remoteStartId, 'remoteStartId', command.type),
          authorizationReference: command.authorizationReference === null ? null : checkReference(command.authorizationReference, command.type),
          ...(command.authorizingParty == null ? {} : { authorizingParty: checkAuthorizingParty(command.authorizingParty, command.type) }),
          requestedBy: checkText(command.requestedBy, 'requestedBy', 200, command.type),
          requestedAt: normalizeTimestamp(command.requestedAt, 'requestedAt', command.type),
        }),
      ];
    }
    case 'RefuseRemoteStart': {
      const entry = state.entries.find((candidate) => candidate.operationId === command.operationId);
      if (entry === undefined) throw new IllegalStateError(`remote start ${command.operationId} was never recorded`, command.type);
      // Already claimed: a transaction did start from it, whatever the late answer says.
      if (entry.status !== 'open') return [];
      return [
        eventFrom(RemoteStartRefused, {
          operationId: entry.operationId,
          reason: checkText(command.reason, 'reason', 50, command.type),
          refusedAt: normalizeTimestamp(command.refusedAt, 'refusedAt', command.type),
        }),
      ];
    }
    case 'ClaimRemoteStart':
      return decideClaim(command, state);
    default:
      return assertNever(command, 'remote start command');
  }
}

function decideClaim(command: ClaimRemoteStart, state: RemoteStartState): RemoteStartEvent[] {
  const transactionId = checkText(command.transactionId, 'transactionId', 64, command.type);
  const claimedAt = normalizeTimestamp(command.claimedAt, 'claimedAt', command.type);
  const claimedAtMs = timeMs(claimedAt);
  // Newest first: a second remote start replaces one the station never acted on.
  const entry = [...state.entries].reverse().find((candidate) => fits(candidate, command, claimedAtMs));
  if (entry === undefined) return [];
  return [
    eventFrom(RemoteStartClaimed, {
      operationId: entry.operationId,
      transactionId,
      stationId: entry.stationId,
      idToken: entry.idToken,
      authorizationReference: entry.authorizationReference,
      ...(entry.authorizingParty === null ? {} : { authorizingParty: entry.authorizingParty }),
      claimedAt,
    }),
  ];
}

function fits(entry: RemoteStartEntry, command: ClaimRemoteStart, claimedAtMs: number): boolean {
  if (entry.status !== 'open' || entry.stationId !== command.stationId || !withinWindow(entry, claimedAtMs)) return false;
  if (command.evseId != null && entry.evseId !== null && entry.evseId !== command.evseId) return false;
  // A token the message names must be the remote start's: an echoed remoteStartId alone would let
  // any token ride on the remote start's authorization.
  if (command.idToken != null && !sameIdToken(entry.idToken, command.idToken)) return false;
  if (command.remoteStartId != null) return entry.remoteStartId === command.remoteStartId;
  // A 2.0.1 remote start is claimed by its echoed remoteStartId only (its copy by token serves Authorize).
  return command.idToken != null && entry.remoteStartId === null;
}

function withinWindow(entry: RemoteStartEntry, atMs: number): boolean {
  return atMs >= entry.requestedAtMs - remoteStartClockSkewMs && atMs - entry.requestedAtMs <= remoteStartClaimWindowMs;
}

/**
 * The newest open remote start of this station for this token within the window at `atMs`, without
 * claiming it: what a station's Authorize before its start (1.6 AuthorizeRemoteTxRequests, 2.0.1
 * AuthorizeRemoteStart) is answered from. null: none.
 */
export function openRemoteStartFor(state: RemoteStartState, match: { readonly stationId: string; readonly idToken: IdToken }, atMs: number): RemoteStartEntry | null {
  const fitting = (entry: RemoteStartEntry) => entry.status === 'open' && entry.stationId === match.stationId && sameIdToken(entry.idToken, match.idToken) && withinWindow(entry, atMs);
  return [...state.entries].reverse().find(fitting) ?? null;
}

function positive(value: number, field: string, commandType: string): number {
  if (!Number.isSafeInteger(value) || value < 1) throw new InvalidCommandError(`${field} must be a positive integer: ${String(value)}`, commandType);
  return value;
}

function checkIdToken(idToken: IdToken, commandType: string): IdToken {
  const parsed = idTokenSchema.safeParse(idToken);
  if (!parsed.success) throw new InvalidCommandError(`invalid idToken: ${parsed.error.message}`, commandType);
  return parsed.data;
}

function checkReference(reference: string, commandType: string): string {
  if (!authorizationReferenceSchema.safeParse(reference).success) throw new InvalidCommandError('authorizationReference must be 1 to 36 printable ASCII characters', commandType);
  return reference;
}
