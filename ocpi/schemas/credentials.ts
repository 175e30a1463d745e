import { z } from 'zod';
import { credentialsRolesMax } from './limits.js';
import { businessDetailsSchema } from './locations.js';
import { countryCodeSchema, ocpiString, partyIdSchema, roleSchema, urlSchema } from './primitives.js';

/** The Credentials module of OCPI 2.2.1 (credentials.asciidoc). */

export const credentialsRoleSchema = z.object({
  role: roleSchema,
  business_details: businessDetailsSchema,
  party_id: partyIdSchema,
  country_code: countryCodeSchema,
});

/**
 * "Credentials object". The token is "case sensitive, ASCII only" and sent as is (no Base64).
 * Every role needs a unique (role, party_id, country_code); party ids and country codes are
 * CiStrings, so uniqueness is checked case-insensitively.
 */
export const credentialsSchema = z
  .object({
    token: ocpiString(64).min(1).regex(/^[\x21-\x7E]+$/, 'must be printable ASCII without spaces'),
    url: urlSchema,
    roles: z.array(credentialsRoleSchema).min(1).max(credentialsRolesMax),
  })
  .superRefine((credentials, ctx) => {
    const seen = new Set<string>();
    credentials.roles.forEach((role, index) => {
      const key = `${role.role}/${role.country_code.toUpperCase()}/${role.party_id.toUpperCase()}`;
      if (seen.has(key)) ctx.addIssue({ code: 'custom', message: `role ${key} is listed twice`, path: ['roles', index] });
      seen.add(key);
    });
  });

export type CredentialsRole = z.infer<typeof credentialsRoleSchema>;
export type Credentials = z.infer<typeof credentialsSchema>;
