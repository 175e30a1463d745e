import { z } from 'zod';
import { endpointsMax, versionsMax } from './limits.js';
import { urlSchema } from './primitives.js';

/** The Versions module of OCPI 2.2.1 (version_information_endpoint.asciidoc). */

export const versionNumbers = ['2.0', '2.1', '2.1.1', '2.2', '2.2.1'] as const;
/**
 * "ModuleID enum". The spec lets parties agree on custom module ids; we have no such agreement,
 * so an unknown id is refused rather than silently routed.
 */
export const moduleIds = [
  'cdrs', 'chargingprofiles', 'commands', 'credentials', 'hubclientinfo', 'locations', 'sessions', 'tariffs', 'tokens',
] as const;
export const interfaceRoles = ['SENDER', 'RECEIVER'] as const;

export const versionNumberSchema = z.enum(versionNumbers);

export const versionSchema = z.object({
  version: versionNumberSchema,
  url: urlSchema,
});
/** The version information endpoint's data: at least one version. */
export const versionListSchema = z.array(versionSchema).min(1).max(versionsMax);

export const endpointSchema = z.object({
  identifier: z.enum(moduleIds),
  role: z.enum(interfaceRoles),
  url: urlSchema,
});

export const versionDetailsSchema = z.object({
  version: versionNumberSchema,
  endpoints: z.array(endpointSchema).min(1).max(endpointsMax),
});

export type VersionNumber = (typeof versionNumbers)[number];
export type ModuleId = (typeof moduleIds)[number];
export type InterfaceRole = (typeof interfaceRoles)[number];
export type Version = z.infer<typeof versionSchema>;
export type Endpoint = z.infer<typeof endpointSchema>;
export type VersionDetails = z.infer<typeof versionDetailsSchema>;
