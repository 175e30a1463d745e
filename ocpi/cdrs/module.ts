import type { OcpiModule } from '../plugin.js';
import { ocpiRoute } from '../transport/route.js';
import { parsePageRequest, setPageHeaders } from '../transport/pagination.js';
import { cdrAudienceOf, listCdrs } from './read.js';

/**
 * CDRs module, Sender interface (OCPI 2.2.1 mod_cdrs): the eMSP pulls the CDRs of its tokens,
 * paginated on last_updated, credit CDRs among them. A CDR never changes once issued, so
 * date_from is all an eMSP needs to fetch what is new.
 */

export const cdrsPath = '/2.2.1/cdrs';

export const cdrsModule: OcpiModule = (context) => {
  context.registry.add('2.2.1', { identifier: 'cdrs', role: 'SENDER', path: cdrsPath });
  ocpiRoute(context.app, context.transport, {
    method: 'GET',
    url: cdrsPath,
    module: 'cdrs',
    async handler(request, reply, { caller, routing }) {
      const page = parsePageRequest(request.query);
      const audience = cdrAudienceOf({ caller, routing });
      const result = await listCdrs(context.db, context.tenantId, audience, page);
      setPageHeaders(request, reply, page, result, context.baseUrl(request));
      return { data: result.items };
    },
  });
};
