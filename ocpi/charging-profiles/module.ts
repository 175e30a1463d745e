import { z } from 'zod';
import { createAsyncCommandRunner, findActiveSession, ocpiCommandTimeouts, operationIdFor, postResult, responseTimeoutSeconds, type ActiveSession } from '../commands/async-results.js';
import type { OcpiModuleContext } from '../plugin.js';
import type { StationCommandOptions } from '../ports.js';
import {
  activeChargingProfileResultSchema, chargingProfileResponseSchema, chargingProfileResultSchema, clearProfileResultSchema, setChargingProfileSchema,
  type ChargingProfileResponse,
} from '../schemas/charging-profiles.js';
import { ciIdentifier, urlSchema } from '../schemas/primitives.js';
import { ocpiRoute } from '../transport/route.js';
import { parseOcpi } from '../transport/validate.js';
import { ocpiVersion } from '../versions/registry.js';
import { activeProfileOf } from './schedule.js';

/**
 * OCPI 2.2.1 ChargingProfiles, Receiver interface (mod_charging_profiles): an eMSP (or SCSP)
 * reads the active profile of a session, sets one, or clears it. As with commands, we answer at
 * once (ChargingProfileResponse) and POST the station's answer to the response_url.
 */

/** Longest composite schedule asked of a station: a day, as OCPP stations typically plan. */
const compositeScheduleSecondsMax = 86_400;

const sessionParams = z.object({ session_id: ciIdentifier(36) });
const getQuery = z.object({ duration: z.coerce.number().int().positive().max(compositeScheduleSecondsMax), response_url: urlSchema });
const deleteQuery = z.object({ response_url: urlSchema });

export function chargingProfilesModule(context: OcpiModuleContext): void {
  const runner = createAsyncCommandRunner(context.app, 'chargingprofiles');
  const path = `/${ocpiVersion}/chargingprofiles`;
  context.registry.add(ocpiVersion, { identifier: 'chargingprofiles', role: 'RECEIVER', path });

  /** The immediate answer; `work` runs afterwards when the session is there and the bound allows. */
  async function accept(
    partnerId: string,
    ids: { readonly requestId: string; readonly correlationId: string },
    sessionId: string,
    work: (session: ActiveSession, options: StationCommandOptions) => Promise<void>,
  ): Promise<{ data: ChargingProfileResponse }> {
    const respond = (result: ChargingProfileResponse['result'], timeout = 0) => ({ data: chargingProfileResponseSchema.parse({ result, timeout }) });
    if (context.stationCommands === null) return respond('NOT_SUPPORTED');
    const session = await findActiveSession(context.db, context.tenantId, sessionId);
    if (session === null) return respond('UNKNOWN_SESSION');
    const options: StationCommandOptions = {
      actor: `partner:${partnerId}`,
      correlationId: ids.correlationId,
      operationId: operationIdFor('chargingprofiles', partnerId, ids.requestId),
      timeoutMs: ocpiCommandTimeouts.stationAnswerMs,
    };
    if (!runner.start(() => work(session, options))) return respond('REJECTED');
    return respond('ACCEPTED', responseTimeoutSeconds());
  }

  ocpiRoute(context.app, context.transport, {
    method: 'GET',
    url: `${path}/:session_id`,
    module: 'chargingprofiles',
    handler: async (request, _reply, { caller, ids }) => {
      const { session_id: sessionId } = parseOcpi(sessionParams, request.params, 'path');
      const query = parseOcpi(getQuery, request.query, 'query');
      return accept(caller.partnerId, ids, sessionId, async (session, options) => {
        const outcome = await context.stationCommands!.getCompositeSchedule(session.stationId, { evseId: session.evseId, durationSeconds: query.duration }, options);
        const profile = outcome.outcome === 'answered' && outcome.status === 'Accepted' ? activeProfileOf(outcome.answer, context.clock.now()) : null;
        const body = profile === null ? { result: 'REJECTED' as const } : { result: 'ACCEPTED' as const, profile };
        await postResult(context, { partnerId: caller.partnerId, url: query.response_url, correlationId: ids.correlationId, schema: activeChargingProfileResultSchema, body });
      });
    },
  });

  ocpiRoute(context.app, context.transport, {
    method: 'PUT',
    url: `${path}/:session_id`,
    module: 'chargingprofiles',
    handler: async (request, _reply, { caller, ids }) => {
      const { session_id: sessionId } = parseOcpi(sessionParams, request.params, 'path');
      const set = parseOcpi(setChargingProfileSchema, request.body, 'SetChargingProfile');
      return accept(caller.partnerId, ids, sessionId, async (session, options) => {
        const outcome = await context.stationCommands!.setChargingProfile(
          session.stationId,
          { evseId: session.evseId, transactionId: session.transactionId, profile: set.charging_profile },
          options,
        );
        const result = outcome.outcome === 'answered' && outcome.status === 'Accepted' ? 'ACCEPTED' : 'REJECTED';
        await postResult(context, { partnerId: caller.partnerId, url: set.response_url, correlationId: ids.correlationId, schema: chargingProfileResultSchema, body: { result } });
      });
    },
  });

  ocpiRoute(context.app, context.transport, {
    method: 'DELETE',
    url: `${path}/:session_id`,
    module: 'chargingprofiles',
    handler: async (request, _reply, { caller, ids }) => {
      const { session_id: sessionId } = parseOcpi(sessionParams, request.params, 'path');
      const query = parseOcpi(deleteQuery, request.query, 'query');
      return accept(caller.partnerId, ids, sessionId, async (session, options) => {
        const outcome = await context.stationCommands!.clearChargingProfile(session.stationId, { evseId: session.evseId, transactionId: session.transactionId }, options);
        // OCPP ClearChargingProfile answers Unknown when no profile matched: OCPI UNKNOWN.
        const result = outcome.outcome !== 'answered' ? 'REJECTED' : outcome.status === 'Accepted' ? 'ACCEPTED' : outcome.status === 'Unknown' ? 'UNKNOWN' : 'REJECTED';
        await postResult(context, { partnerId: caller.partnerId, url: query.response_url, correlationId: ids.correlationId, schema: clearProfileResultSchema, body: { result } });
      });
    },
  });
}
