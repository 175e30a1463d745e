import type { FastifyPluginAsync } from 'fastify';

/**
 * A placeholder for a surface a later issue builds (OCPP, OCPI, GraphQL, REST): it owns its prefix
 * now so the routes and printed URLs are stable, and answers 501 so a client learns it is not
 * there yet instead of getting a bare 404. The real plugin replaces it in server.ts.
 */
export function notYetImplemented(surface: string): FastifyPluginAsync {
  return async (app) => {
    app.all('/*', async (_request, reply) =>
      reply.code(501).send({ error: 'Not Implemented', message: `${surface} is not implemented yet in this version of Open-CSMS` }),
    );
    app.all('/', async (_request, reply) =>
      reply.code(501).send({ error: 'Not Implemented', message: `${surface} is not implemented yet in this version of Open-CSMS` }),
    );
  };
}
