import type { z } from 'zod';
import { assertNever } from '../shared/assert.js';
import { eventFrom } from '../shared/event-definition.js';
import { IllegalStateError, InvalidCommandError } from '../shared/errors.js';
import { sameJson } from '../shared/values.js';
import type { LocationCommand } from './commands.js';
import { EvseAssigned, EvseRemoved, EvseUpdated, LocationDeclared, LocationUpdated, type LocationEvent } from './events.js';
import { evseFactsSchema, evsesPerLocationMax, locationFactsSchema, locationIdSchema, type EvseFacts } from './facts.js';
import type { LocationState } from './state.js';

/** zod's issues as one line the operator can act on. */
function parse<T>(schema: z.ZodType<T>, input: unknown, what: string, commandType: string): T {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issues = result.error.issues.slice(0, 10).map((issue) => `${issue.path.join('.') || what}: ${issue.message}`);
  throw new InvalidCommandError(`invalid ${what}: ${issues.join('; ')}`, commandType);
}

function declared(state: LocationState, locationId: string, commandType: string) {
  if (state.status === 'none') throw new IllegalStateError(`location ${locationId} does not exist: add it first`, commandType);
  if (state.locationId !== locationId) throw new InvalidCommandError(`location id ${locationId} is not this location's (${state.locationId})`, commandType);
  return state;
}

/**
 * Among the EVSEs still in service, one eMI3 id and one station EVSE each: a second EVSE on the
 * same station EVSE would split its status and sessions between two OCPI objects. (Across
 * locations the aggregate cannot see; the CLI looks it up before assigning.)
 */
function checkUnique(state: Extract<LocationState, { status: 'declared' }>, evse: EvseFacts, commandType: string): void {
  for (const [uid, other] of Object.entries(state.evses)) {
    if (uid === evse.evseUid || other.removed) continue;
    if (evse.evseId !== null && other.facts.evseId === evse.evseId) {
      throw new InvalidCommandError(`EVSE id ${evse.evseId} is already EVSE ${uid}'s`, commandType);
    }
    if (other.facts.stationId === evse.stationId && other.facts.stationEvseId === evse.stationEvseId) {
      throw new InvalidCommandError(`station ${evse.stationId} EVSE ${evse.stationEvseId} is already EVSE ${uid}`, commandType);
    }
  }
}

export function decideLocation(command: LocationCommand, state: LocationState): LocationEvent[] {
  const locationId = parse(locationIdSchema, command.locationId, 'location id', command.type);
  switch (command.type) {
    case 'DeclareLocation': {
      const facts = parse(locationFactsSchema, command.facts, 'location', command.type);
      if (state.status === 'declared') {
        // The same facts again is a retry (or `locations add` run twice): nothing new.
        if (sameJson(state.facts, facts)) return [];
        throw new IllegalStateError(`location ${locationId} already exists: update it instead`, command.type);
      }
      return [eventFrom(LocationDeclared, { locationId, facts })];
    }
    case 'UpdateLocation': {
      const current = declared(state, locationId, command.type);
      const facts = parse(locationFactsSchema, command.facts, 'location', command.type);
      return sameJson(current.facts, facts) ? [] : [eventFrom(LocationUpdated, { locationId, facts })];
    }
    case 'AssignEvse': {
      const current = declared(state, locationId, command.type);
      const evse = parse(evseFactsSchema, command.evse, 'EVSE', command.type);
      const existing = current.evses[evse.evseUid];
      if (existing?.removed) throw new IllegalStateError(`EVSE ${evse.evseUid} was removed; an EVSE uid is never reused`, command.type);
      if (existing !== undefined) {
        if (sameJson(existing.facts, evse)) return [];
        throw new IllegalStateError(`EVSE ${evse.evseUid} is already assigned: update it instead`, command.type);
      }
      // Removed EVSEs count: partners still see them (status REMOVED).
      if (Object.keys(current.evses).length >= evsesPerLocationMax) {
        throw new IllegalStateError(`location has ${evsesPerLocationMax} EVSEs`, command.type);
      }
      checkUnique(current, evse, command.type);
      return [eventFrom(EvseAssigned, { locationId, evse })];
    }
    case 'UpdateEvse': {
      const current = declared(state, locationId, command.type);
      const evse = parse(evseFactsSchema, command.evse, 'EVSE', command.type);
      const existing = current.evses[evse.evseUid];
      if (existing === undefined) throw new IllegalStateError(`no EVSE ${evse.evseUid} at location ${locationId}`, command.type);
      if (existing.removed) throw new IllegalStateError(`EVSE ${evse.evseUid} was removed`, command.type);
      if (sameJson(existing.facts, evse)) return [];
      checkUnique(current, evse, command.type);
      return [eventFrom(EvseUpdated, { locationId, evse })];
    }
    case 'RemoveEvse': {
      const current = declared(state, locationId, command.type);
      const existing = current.evses[command.evseUid];
      if (existing === undefined) throw new IllegalStateError(`no EVSE ${command.evseUid} at location ${locationId}`, command.type);
      if (existing.removed) return [];
      const reason = command.reason ?? null;
      if (reason !== null && (reason.length === 0 || reason.length > 255)) throw new InvalidCommandError('reason must be 1 to 255 characters', command.type);
      return [eventFrom(EvseRemoved, { locationId, evseUid: command.evseUid, reason })];
    }
    default:
      return assertNever(command, 'location command');
  }
}
