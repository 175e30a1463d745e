import type { FastifyRequest } from 'fastify';
import type { OcpiModule } from '../plugin.js';
import { parsePageRequest, setPageHeaders } from '../transport/pagination.js';
import { ocpiRoute } from '../transport/route.js';
import { OcpiError, OcpiStatus } from '../transport/status.js';
import { ocpiVersion } from '../versions/registry.js';
import { OcpiObjectInvalidError, findLocation, pageOfLocations } from './objects.js';

/**
 * Locations, Sender interface (mod_locations.asciidoc, "Sender Interface"): the list with
 * pagination and the single Location, EVSE and Connector GETs, from the read model. A location
 * not published (publish=false) is unknown to partners: publish_allowed_to is not offered.
 */

export const locationsPath = `/${ocpiVersion}/locations`;

/** "Unknown Location" (2003) with HTTP 404: the object the URL names does not exist. */
const unknown = (what: string) => new OcpiError(OcpiStatus.unknownLocation, `unknown ${what}`, { httpStatus: 404 });

/** An object failing its schema is our bug: logged with its issues, answered 500 by the transport. */
async function guarded<T>(request: FastifyRequest, build: () => Promise<T>): Promise<T> {
  try {
    return await build();
  } catch (error) {
    if (error instanceof OcpiObjectInvalidError) request.log.error({ err: error }, 'OCPI location object fails its schema');
    throw error;
  }
}

interface Params {
  location_id: string;
  evse_uid?: string;
  connector_id?: string;
}

export const locationsModule: OcpiModule = (context) => {
  const { app, transport, registry, db, tenantId, us } = context;
  registry.add(ocpiVersion, { identifier: 'locations', role: 'SENDER', path: locationsPath });

  ocpiRoute(app, transport, {
    method: 'GET',
    url: locationsPath,
    module: 'locations',
    handler: (request, reply) =>
      guarded(request, async () => {
        const page = parsePageRequest(request.query);
        const result = await pageOfLocations(db, tenantId, us, page);
        setPageHeaders(request, reply, page, result, context.baseUrl(request));
        return { data: result.items };
      }),
  });

  /** The location, EVSE or connector the path names, or 2003. */
  const single = (request: FastifyRequest) =>
    guarded(request, async () => {
      const params = request.params as Params;
      const location = await findLocation(db, tenantId, us, params.location_id);
      if (location === null) throw unknown(`location ${params.location_id}`);
      if (params.evse_uid === undefined) return { data: location };
      const evse = location.evses?.find((candidate) => candidate.uid === params.evse_uid);
      if (evse === undefined) throw unknown(`EVSE ${params.location_id}/${params.evse_uid}`);
      if (params.connector_id === undefined) return { data: evse };
      const connector = evse.connectors.find((candidate) => candidate.id === params.connector_id);
      if (connector === undefined) throw unknown(`connector ${params.location_id}/${params.evse_uid}/${params.connector_id}`);
      return { data: connector };
    });
  for (const url of [`${locationsPath}/:location_id`, `${locationsPath}/:location_id/:evse_uid`, `${locationsPath}/:location_id/:evse_uid/:connector_id`]) {
    ocpiRoute(app, transport, { method: 'GET', url, module: 'locations', handler: (request) => single(request) });
  }
};
