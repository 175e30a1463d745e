import type { FastifyInstance } from 'fastify';
import { ocpiRoute, type OcpiTransport } from '../transport/route.js';
import { notFound } from '../transport/status.js';
import type { VersionRegistry } from './registry.js';

/**
 * GET /versions (the versions we speak) and GET /{version} (its endpoints), spec chapter 6.
 * Both are configuration modules: any known token, A included, no routing headers.
 */
export function registerVersionRoutes(app: FastifyInstance, transport: OcpiTransport, registry: VersionRegistry, ocpiBaseUrl: (request: { protocol: string; host: string }) => string): void {
  ocpiRoute(app, transport, {
    method: 'GET',
    url: '/versions',
    module: 'versions',
    handler: async (request) => ({ data: registry.versions().map((version) => ({ version, url: `${ocpiBaseUrl(request)}/${version}` })) }),
  });
  ocpiRoute(app, transport, {
    method: 'GET',
    url: '/:version',
    module: 'versions',
    handler: async (request) => {
      const { version } = request.params as { version: string };
      if (!registry.versions().includes(version)) throw notFound(`OCPI version ${version.slice(0, 20)} is not supported here`);
      const base = ocpiBaseUrl(request);
      return { data: { version, endpoints: registry.endpoints(version).map((endpoint) => ({ identifier: endpoint.identifier, role: endpoint.role, url: `${base}${endpoint.path}` })) } };
    },
  });
}
