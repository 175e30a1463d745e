import { quoteIdentifier } from '../../adapters/sql/port.js';
import { IllegalStateError, InvalidCommandError } from '../../domain/shared/errors.js';
import { liveSchemaName } from '../../projections/schema.js';
import type { OcpiModuleContext } from '../plugin.js';
import { clientInfoSchema, type ClientInfo } from '../schemas/hub-client-info.js';
import { countryCodeSchema, partyIdSchema } from '../schemas/primitives.js';
import { ocpiRoute } from '../transport/route.js';
import { OcpiError, OcpiStatus, invalidParameters } from '../transport/status.js';
import { checkUrlMatchesBody, parseOcpi } from '../transport/validate.js';
import { ocpiVersion } from '../versions/registry.js';
import { z } from 'zod';

/**
 * OCPI 2.2.1 HubClientInfo, Receiver interface (mod_hub_client_info): a hub tells us which
 * parties behind it are reachable. A configuration module (no routing headers; ocpiRoute knows).
 * PUT records ReportClientInfo on the hub's partner aggregate; GET reads the partners read model.
 *
 * Who may PUT: the data owner is the Hub (spec), so a partner without the HUB role gets 2000
 * (generic client error) in an HTTP 200 answer, the request being well-formed.
 */

/**
 * Parties one hub may report (rows of client_infos per partner): the largest roaming hubs
 * connect a few thousand. Checked against the read model, so a burst may pass it by the
 * projection's lag; it is a bound on storage, not a business rule.
 */
export const clientInfoPartiesMax = 10_000;

const params = z.object({ country_code: countryCodeSchema, party_id: partyIdSchema });

/** OCPI DateTime without a zone is UTC (spec "DateTime type"); our events want an explicit one. */
const withZone = (value: string) => (/(Z|[+-]\d{2}:?\d{2})$/i.test(value) ? value : `${value}Z`);

export function hubClientInfoModule(context: OcpiModuleContext): void {
  const path = `/${ocpiVersion}/hubclientinfo`;
  context.registry.add(ocpiVersion, { identifier: 'hubclientinfo', role: 'RECEIVER', path });
  const table = `${quoteIdentifier(liveSchemaName('partners'))}.client_infos`;

  ocpiRoute(context.app, context.transport, {
    method: 'GET',
    url: `${path}/:country_code/:party_id`,
    module: 'hubclientinfo',
    handler: async (request, _reply, { caller }) => {
      const { country_code: countryCode, party_id: partyId } = parseOcpi(params, request.params, 'path');
      const { rows } = await context.db.query<{ country_code: string; party_id: string; role: string; status: string; last_updated: Date | string }>(
        `SELECT country_code, party_id, role, status, last_updated FROM ${table}
          WHERE tenant_id = $1 AND partner_id = $2 AND country_code = $3 AND party_id = $4`,
        [context.tenantId, caller.partnerId, countryCode.toUpperCase(), partyId.toUpperCase()],
      );
      const row = rows[0];
      if (row === undefined) throw new OcpiError(OcpiStatus.unknownLocation, `no client info for ${countryCode}/${partyId}`, { httpStatus: 404 });
      const info: ClientInfo = {
        country_code: row.country_code,
        party_id: row.party_id,
        role: row.role as ClientInfo['role'],
        status: row.status as ClientInfo['status'],
        last_updated: new Date(row.last_updated).toISOString(),
      };
      return { data: clientInfoSchema.parse(info) };
    },
  });

  ocpiRoute(context.app, context.transport, {
    method: 'PUT',
    url: `${path}/:country_code/:party_id`,
    module: 'hubclientinfo',
    handler: async (request, _reply, { caller, ids }) => {
      const { country_code: countryCode, party_id: partyId } = parseOcpi(params, request.params, 'path');
      const info = parseOcpi(clientInfoSchema, request.body, 'ClientInfo');
      checkUrlMatchesBody([
        { name: 'country_code', url: countryCode, body: info.country_code, caseInsensitive: true },
        { name: 'party_id', url: partyId, body: info.party_id, caseInsensitive: true },
      ]);
      const { rows } = await context.db.query<{ parties: string; known: boolean }>(
        `SELECT count(*)::text AS parties, bool_or(country_code = $3 AND party_id = $4) AS known FROM ${table} WHERE tenant_id = $1 AND partner_id = $2`,
        [context.tenantId, caller.partnerId, info.country_code.toUpperCase(), info.party_id.toUpperCase()],
      );
      if (rows[0] !== undefined && !rows[0].known && Number(rows[0].parties) >= clientInfoPartiesMax) {
        throw new OcpiError(OcpiStatus.clientError, `a hub reports at most ${clientInfoPartiesMax} parties`);
      }
      try {
        await context.bus.send({
          // Per request: a retried PUT (same X-Request-ID) is recognised and appends nothing.
          commandId: `ocpi:hubclientinfo:${caller.partnerId}:${ids.requestId}`.slice(0, 200),
          tenantId: context.tenantId,
          aggregateId: caller.partnerId,
          actor: `partner:${caller.partnerId}`,
          correlationId: ids.correlationId,
          occurredAt: context.clock.now().toISOString(),
          command: {
            type: 'ReportClientInfo',
            countryCode: info.country_code,
            partyId: info.party_id,
            role: info.role,
            status: info.status,
            lastUpdated: withZone(info.last_updated),
          },
        });
      } catch (error) {
        if (error instanceof IllegalStateError) throw new OcpiError(OcpiStatus.clientError, error.message);
        if (error instanceof InvalidCommandError) throw invalidParameters(error.message);
        throw error;
      }
      return {};
    },
  });
}
