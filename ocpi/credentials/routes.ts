import type { FastifyInstance } from 'fastify';
import { ocpiRoute, type OcpiTransport } from '../transport/route.js';
import { parseOcpi } from '../transport/validate.js';
import type { VersionRegistry } from '../versions/registry.js';
import { ocpiVersion } from '../versions/registry.js';
import { credentialsSchema } from './schemas.js';
import { acceptRegistration, acceptUnregistration, acceptUpdate, ourCredentials, type CredentialsDeps } from './service.js';

/**
 * /{version}/credentials (spec 7.2). Symmetric: we implement it as SENDER and RECEIVER (it is
 * the one module every platform both calls and serves).
 */
export function registerCredentialsRoutes(
  app: FastifyInstance,
  transport: OcpiTransport,
  registry: VersionRegistry,
  deps: CredentialsDeps,
  ourVersionsUrl: (request: { protocol: string; host: string }) => string,
): void {
  const path = `/${ocpiVersion}/credentials`;
  registry.add(ocpiVersion, { identifier: 'credentials', role: 'SENDER', path });
  registry.add(ocpiVersion, { identifier: 'credentials', role: 'RECEIVER', path });

  ocpiRoute(app, transport, {
    method: 'GET',
    url: path,
    module: 'credentials',
    // The token they called with is the one our credentials object carries for them.
    handler: async (request, _reply, context) => ({ data: ourCredentials(deps, context.caller.token, ourVersionsUrl(request)) }),
  });
  ocpiRoute(app, transport, {
    method: 'POST',
    url: path,
    module: 'credentials',
    handler: async (request, _reply, context) => {
      const body = parseOcpi(credentialsSchema, request.body, 'credentials');
      return { data: await acceptRegistration(deps, context.caller, body, ourVersionsUrl(request), context.ids.correlationId) };
    },
  });
  ocpiRoute(app, transport, {
    method: 'PUT',
    url: path,
    module: 'credentials',
    handler: async (request, _reply, context) => {
      const body = parseOcpi(credentialsSchema, request.body, 'credentials');
      return { data: await acceptUpdate(deps, context.caller, body, ourVersionsUrl(request), context.ids.correlationId) };
    },
  });
  ocpiRoute(app, transport, {
    method: 'DELETE',
    url: path,
    module: 'credentials',
    handler: async (_request, _reply, context) => {
      await acceptUnregistration(deps, context.caller, context.ids.correlationId);
      return {};
    },
  });
}
