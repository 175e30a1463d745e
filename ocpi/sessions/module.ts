import { Decimal } from 'decimal.js';
import { z } from 'zod';
import { IllegalStateError } from '../../domain/shared/errors.js';
import type { OcpiModule } from '../plugin.js';
import { chargingPreferencesSchema, type ChargingPreferencesResponse, type Session } from '../schemas/index.js';
import { parsePageRequest, setPageHeaders } from '../transport/pagination.js';
import { ocpiRoute } from '../transport/route.js';
import { OcpiError, OcpiStatus } from '../transport/status.js';
import { parseOcpi } from '../transport/validate.js';
import { audienceOf, findSessionRow, isForAudience, listSessionRows, sendableSession } from './read.js';

/**
 * Sessions module, Sender interface (OCPI 2.2.1 mod_sessions): the eMSP pulls the sessions of its
 * own tokens (a HUB: all of them), paginated on last_updated, and sends its driver's charging
 * preferences. Preferences are recorded on the transaction (ChargingPreferencesSet); acting on
 * them through smart charging is not built yet.
 */

export const sessionsPath = '/2.2.1/sessions';

const sessionIdParams = z.object({ session_id: z.string().min(1).max(36) });

/** Unknown, or not a session of the caller's parties: the same answer, so ids cannot be probed. */
const unknownSession = (sessionId: string) => new OcpiError(OcpiStatus.unknownLocation, `unknown session ${sessionId}`, { httpStatus: 404 });

export const sessionsModule: OcpiModule = (context) => {
  context.registry.add('2.2.1', { identifier: 'sessions', role: 'SENDER', path: sessionsPath });

  ocpiRoute(context.app, context.transport, {
    method: 'GET',
    url: sessionsPath,
    module: 'sessions',
    async handler(request, reply, { caller, routing, now }) {
      const page = parsePageRequest(request.query);
      const audience = audienceOf({ caller, routing });
      const { rows, total } = await listSessionRows(context.db, context.tenantId, page, audience, context.us);
      const data: Session[] = [];
      for (const row of rows) {
        const session = await sendableSession(context.db, context.tenantId, context.us, row, (message) => request.log.error(message), now);
        if (session !== null) data.push(session);
      }
      // Offsets count rows, sendable or not, so the next page starts after the skipped ones too.
      setPageHeaders(request, reply, page, { items: rows, total }, context.baseUrl(request));
      return { data };
    },
  });

  ocpiRoute(context.app, context.transport, {
    method: 'PUT',
    url: `${sessionsPath}/:session_id/charging_preferences`,
    module: 'sessions',
    async handler(request, _reply, { caller, routing, ids, now }) {
      const { session_id: sessionId } = parseOcpi(sessionIdParams, request.params, 'path');
      const preferences = parseOcpi(chargingPreferencesSchema, request.body, 'ChargingPreferences');
      const row = await findSessionRow(context.db, context.tenantId, sessionId);
      const audience = audienceOf({ caller, routing });
      if (row === null || !isForAudience(row, audience, context.us)) throw unknownSession(sessionId);
      if (row.status === 'COMPLETED' || row.status === 'INVALID') return { data: 'NOT_POSSIBLE' satisfies ChargingPreferencesResponse };
      try {
        await context.bus.send({
          commandId: `ocpi:${caller.partnerId}:${ids.requestId}`,
          tenantId: context.tenantId,
          aggregateId: sessionId,
          actor: `partner:${caller.partnerId}`,
          correlationId: ids.correlationId,
          occurredAt: now.toISOString(),
          command: {
            type: 'SetChargingPreferences',
            profileType: preferences.profile_type,
            departureTime: preferences.departure_time === undefined ? null : asUtc(preferences.departure_time),
            // Through the JSON text, not the float's binary value: 12.3 stays 12.3.
            energyNeedKwh: preferences.energy_need === undefined ? null : new Decimal(String(preferences.energy_need)),
            dischargeAllowed: preferences.discharge_allowed ?? null,
            setAt: now.toISOString(),
          },
        });
      } catch (error) {
        // The read model lags the stream: the session ended a moment ago.
        if (error instanceof IllegalStateError) return { data: 'NOT_POSSIBLE' satisfies ChargingPreferencesResponse };
        throw error;
      }
      return { data: 'ACCEPTED' satisfies ChargingPreferencesResponse };
    },
  });
};

/** OCPI DateTime without a zone is UTC (types.asciidoc). */
const asUtc = (text: string) => (text.endsWith('Z') ? text : `${text}Z`);
