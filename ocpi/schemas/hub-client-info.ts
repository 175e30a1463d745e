import { z } from 'zod';
import { countryCodeSchema, dateTimeSchema, partyIdSchema, roleSchema } from './primitives.js';

/** The HubClientInfo module of OCPI 2.2.1 (mod_hub_client_info.asciidoc). */

export const connectionStatuses = ['CONNECTED', 'OFFLINE', 'PLANNED', 'SUSPENDED'] as const;

export const clientInfoSchema = z.object({
  party_id: partyIdSchema,
  country_code: countryCodeSchema,
  role: roleSchema,
  status: z.enum(connectionStatuses),
  last_updated: dateTimeSchema,
});

export type ConnectionStatus = (typeof connectionStatuses)[number];
export type ClientInfo = z.infer<typeof clientInfoSchema>;
