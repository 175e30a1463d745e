import { randomUUID } from 'node:crypto';
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { quoteIdentifier, type SqlExecutor } from '../../adapters/sql/port.js';
import type { CommandBus } from '../../commands/index.js';
import type { LocationCommand } from '../../domain/location/index.js';
import { IllegalStateError, InvalidCommandError } from '../../domain/shared/errors.js';
import { findEvseByStation } from '../../ocpi/locations/lookup.js';
import { liveSchemaName, schemaExists } from '../../projections/schema.js';
import type { OperatorDeps } from '../operator-commands.js';

/**
 * What an operator states about sites and their EVSEs (the OCPI locations we publish), as
 * commands on the bus; the CLI (`csms locations`) and the REST endpoints below both use these.
 * Registered inside the operator API, so its authentication (admin token or loopback) and error
 * mapping (400 invalid, 409 conflict) apply:
 *   GET  /locations                      the locations read model
 *   POST /locations                      add a location              {id, ...facts}
 *   PUT  /locations/:id                  add or replace its facts    {...facts}
 *   PUT  /locations/:id/evses/:uid       assign or update an EVSE    {...evse}
 *   POST /locations/:id/evses            the same, uid in the body (the CLI client only POSTs)
 * Facts are the domain's (domain/location/facts.ts), optional ones defaulted here; the decider
 * validates them.
 */

/** Rows `GET /locations` returns at most: a listing for an operator, not an export. */
export const locationListRowsMax = 1_000;

function envelope(deps: OperatorDeps, locationId: string, command: LocationCommand) {
  const id = randomUUID();
  // A new id per operator action: the decider makes a repeated action a no-op by state.
  return { commandId: `operator:${command.type}:${id}`, tenantId: deps.tenantId, aggregateId: locationId, actor: deps.actor, correlationId: id, occurredAt: deps.clock.now().toISOString(), command };
}

/** Operator input with the optional OCPI fields defaulted to "not stated". */
export function locationFactsFrom(input: Record<string, unknown>): Record<string, unknown> {
  const { id: _id, ...facts } = input;
  return {
    name: null, postalCode: null, state: null, parkingType: null, facilities: [], openingTimes: null, chargingWhenClosed: null,
    directions: [], operator: null, suboperator: null, owner: null, publish: true, ...facts,
  };
}

export function evseFactsFrom(input: Record<string, unknown>): Record<string, unknown> {
  const connectors = Array.isArray(input.connectors) ? input.connectors : [];
  return {
    evseId: null, capabilities: [], physicalReference: null, floorLevel: null, ...input,
    connectors: connectors.map((c: Record<string, unknown>) => ({ maxElectricPowerW: null, tariffIds: [], ...c })),
  };
}

export interface LocationOutcome {
  readonly locationId: string;
  readonly outcome: 'created' | 'updated' | 'unchanged';
}

/** Adds a location; with `replace`, an existing one gets these facts instead of a refusal. */
export async function putLocation(deps: OperatorDeps, locationId: string, input: Record<string, unknown>, replace: boolean): Promise<LocationOutcome> {
  const facts = locationFactsFrom(input);
  try {
    const result = await deps.bus.send(envelope(deps, locationId, { type: 'DeclareLocation', locationId, facts }));
    return { locationId, outcome: result.events.length > 0 ? 'created' : 'unchanged' };
  } catch (error) {
    if (!replace || !(error instanceof IllegalStateError) || !/already exists/.test(error.message)) throw error;
  }
  const result = await deps.bus.send(envelope(deps, locationId, { type: 'UpdateLocation', locationId, facts }));
  return { locationId, outcome: result.events.length > 0 ? 'updated' : 'unchanged' };
}

export interface EvseOutcome {
  readonly locationId: string;
  readonly evseUid: string;
  readonly outcome: 'assigned' | 'updated' | 'unchanged';
}

/**
 * Assigns an EVSE, or updates it when the uid is already there. The location decider keeps a
 * station EVSE on one EVSE within its location; across locations only the read model can tell,
 * so it is checked here (best effort: two operators at once may still race; before `csms migrate`
 * made the read model there is nothing to check against).
 */
export async function putEvse(deps: OperatorDeps & { db: SqlExecutor }, locationId: string, input: Record<string, unknown>): Promise<EvseOutcome> {
  const evse = evseFactsFrom(input);
  const evseUid = String(evse.evseUid);
  const readModel = await schemaExists(deps.db, liveSchemaName('locations'));
  if (readModel && typeof evse.stationId === 'string' && typeof evse.stationEvseId === 'number') {
    const taken = await findEvseByStation(deps.db, deps.tenantId, evse.stationId, evse.stationEvseId);
    if (taken !== null && (taken.locationId !== locationId || taken.evseUid !== evseUid)) {
      throw new InvalidCommandError(`station ${evse.stationId} EVSE ${evse.stationEvseId} is already EVSE ${taken.locationId}/${taken.evseUid}`, 'AssignEvse');
    }
  }
  try {
    const result = await deps.bus.send(envelope(deps, locationId, { type: 'AssignEvse', locationId, evse }));
    return { locationId, evseUid, outcome: result.events.length > 0 ? 'assigned' : 'unchanged' };
  } catch (error) {
    if (!(error instanceof IllegalStateError) || !/already assigned/.test(error.message)) throw error;
  }
  const result = await deps.bus.send(envelope(deps, locationId, { type: 'UpdateEvse', locationId, evse }));
  return { locationId, evseUid, outcome: result.events.length > 0 ? 'updated' : 'unchanged' };
}

export interface LocationListRow {
  readonly locationId: string;
  readonly name: string | null;
  readonly city: string;
  readonly country: string;
  readonly publish: boolean;
  readonly evses: number;
  /** "<uid>:<status>" of each EVSE. */
  readonly statuses: readonly string[];
  readonly lastUpdated: string;
}

export async function listLocations(db: SqlExecutor, tenantId: string): Promise<LocationListRow[]> {
  const schema = quoteIdentifier(liveSchemaName('locations'));
  const { rows } = await db.query<{ location_id: string; name: string | null; city: string; country: string; publish: boolean; last_updated: Date; statuses: string[] | null }>(
    `SELECT l.location_id, l.name, l.city, l.country, l.publish, l.last_updated,
            (SELECT array_agg(e.evse_uid || ':' || e.status ORDER BY e.evse_uid) FROM ${schema}.location_evses e
              WHERE e.tenant_id = l.tenant_id AND e.location_id = l.location_id) AS statuses
       FROM ${schema}.locations l WHERE l.tenant_id = $1 ORDER BY l.location_id LIMIT ${locationListRowsMax}`,
    [tenantId],
  );
  return rows.map((row) => ({
    locationId: row.location_id,
    name: row.name,
    city: row.city,
    country: row.country,
    publish: row.publish,
    evses: row.statuses?.length ?? 0,
    statuses: row.statuses ?? [],
    lastUpdated: new Date(row.last_updated).toISOString(),
  }));
}

/** Bodies are checked for shape only; the decider checks every fact. */
const factsBody = z.record(z.string(), z.unknown());
const idParam = z.string().min(1).max(36);

export interface LocationsApiOptions {
  readonly db: SqlExecutor;
  readonly deps: OperatorDeps;
}

export const locationsApiPlugin: FastifyPluginAsync<LocationsApiOptions> = async (app, { db, deps }) => {
  const withDb = { ...deps, db };
  app.get('/locations', async () => ({ locations: await listLocations(db, deps.tenantId) }));
  app.post('/locations', async (request, reply) => {
    const body = factsBody.parse(request.body);
    const outcome = await putLocation(deps, idParam.parse(body.id), body, false);
    return reply.code(outcome.outcome === 'created' ? 201 : 200).send(outcome);
  });
  app.put<{ Params: { id: string } }>('/locations/:id', async (request, reply) => {
    const outcome = await putLocation(deps, idParam.parse(request.params.id), factsBody.parse(request.body), true);
    return reply.code(outcome.outcome === 'created' ? 201 : 200).send(outcome);
  });
  app.put<{ Params: { id: string; uid: string } }>('/locations/:id/evses/:uid', async (request, reply) => {
    const body = { ...factsBody.parse(request.body), evseUid: idParam.parse(request.params.uid) };
    const outcome = await putEvse(withDb, idParam.parse(request.params.id), body);
    return reply.code(outcome.outcome === 'assigned' ? 201 : 200).send(outcome);
  });
  app.post<{ Params: { id: string } }>('/locations/:id/evses', async (request, reply) => {
    const outcome = await putEvse(withDb, idParam.parse(request.params.id), factsBody.parse(request.body));
    return reply.code(outcome.outcome === 'assigned' ? 201 : 200).send(outcome);
  });
};
