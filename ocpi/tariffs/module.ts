import type { OcpiModule } from '../plugin.js';
import { ocpiRoute } from '../transport/route.js';
import { parsePageRequest, setPageHeaders } from '../transport/pagination.js';
import { listActiveTariffs } from './read.js';

/**
 * Tariffs module, Sender interface (OCPI 2.2.1 mod_tariffs): the eMSP pulls our active tariffs,
 * paginated on last_updated. Deactivated tariffs are gone for partners (pushed as DELETE). There
 * is no single-object GET on the Sender interface.
 */

export const tariffsPath = '/2.2.1/tariffs';

export const tariffsModule: OcpiModule = (context) => {
  context.registry.add('2.2.1', { identifier: 'tariffs', role: 'SENDER', path: tariffsPath });
  ocpiRoute(context.app, context.transport, {
    method: 'GET',
    url: tariffsPath,
    module: 'tariffs',
    async handler(request, reply) {
      const page = parsePageRequest(request.query);
      const result = await listActiveTariffs(context.db, context.tenantId, page);
      setPageHeaders(request, reply, page, result, context.baseUrl(request));
      return { data: result.items };
    },
  });
};
