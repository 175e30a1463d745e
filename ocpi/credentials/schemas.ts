import { z } from 'zod';
import { ocpiRoles } from '../../domain/partner/events.js';
import { credentialsTokenCharsMax } from '../transport/auth.js';

/** Wire shape of the Credentials object (spec 7.3.1) and CredentialsRole (7.4.1). */

export const businessDetailsSchema = z
  .object({
    name: z.string().min(1).max(100),
    website: z.string().url().max(255).optional(),
    logo: z.record(z.string(), z.unknown()).optional(),
  })
  .catchall(z.unknown());

export const credentialsRoleSchema = z.object({
  role: z.enum(ocpiRoles),
  business_details: businessDetailsSchema,
  party_id: z.string().regex(/^[A-Za-z0-9]{3}$/, 'must be 3 letters or digits'),
  country_code: z.string().regex(/^[A-Za-z]{2}$/, 'must be 2 letters'),
});

export const credentialsSchema = z.object({
  token: z
    .string()
    .min(1)
    .max(credentialsTokenCharsMax)
    .regex(/^[\x21-\x7e]+$/, 'must be printable non-whitespace ASCII'),
  url: z.string().url().max(2048),
  roles: z.array(credentialsRoleSchema).min(1).max(50),
});
export type Credentials = z.infer<typeof credentialsSchema>;
export type CredentialsRole = z.infer<typeof credentialsRoleSchema>;
