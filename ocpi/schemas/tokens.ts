import { z } from 'zod';
import { cdrTokenTypes } from '../../domain/cdr/ocpi.js';
import { evseUidsPerReferenceMax } from './limits.js';
import { ciIdentifier, countryCodeSchema, dateTimeSchema, displayTextSchema, languageCodeSchema, ocpiString, partyIdSchema } from './primitives.js';
import { profileTypes } from './sessions.js';

/** The Tokens module of OCPI 2.2.1 (mod_tokens.asciidoc). */

/** "TokenType enum", shared with the CdrToken of domain/cdr/ocpi.ts. */
export const tokenTypes = cdrTokenTypes;
export const whitelistTypes = ['ALWAYS', 'ALLOWED', 'ALLOWED_OFFLINE', 'NEVER'] as const;
export const allowedTypes = ['ALLOWED', 'BLOCKED', 'EXPIRED', 'NO_CREDIT', 'NOT_ALLOWED'] as const;

export const energyContractSchema = z.object({
  supplier_name: ocpiString(64).min(1),
  contract_id: ocpiString(64).optional(),
});

const tokenShape = z.object({
  country_code: countryCodeSchema,
  party_id: partyIdSchema,
  uid: ciIdentifier(36),
  type: z.enum(tokenTypes),
  contract_id: ciIdentifier(36),
  visual_number: ocpiString(64).optional(),
  issuer: ocpiString(64),
  group_id: ciIdentifier(36).optional(),
  valid: z.boolean(),
  whitelist: z.enum(whitelistTypes),
  language: languageCodeSchema.optional(),
  default_profile_type: z.enum(profileTypes).optional(),
  energy_contract: energyContractSchema.optional(),
  last_updated: dateTimeSchema,
});
export const tokenSchema = tokenShape;

/** PATCH body (mod_tokens "PATCH Method"): any subset, last_updated always required. */
export const tokenPatchSchema = tokenShape.partial().extend({ last_updated: dateTimeSchema });

export const locationReferencesSchema = z.object({
  location_id: ciIdentifier(36),
  evse_uids: z.array(ciIdentifier(36)).max(evseUidsPerReferenceMax).optional(),
});

export const authorizationInfoSchema = z.object({
  allowed: z.enum(allowedTypes),
  token: tokenSchema,
  location: locationReferencesSchema.optional(),
  authorization_reference: ciIdentifier(36).optional(),
  info: displayTextSchema.optional(),
});

export type TokenType = (typeof tokenTypes)[number];
export type WhitelistType = (typeof whitelistTypes)[number];
export type AllowedType = (typeof allowedTypes)[number];
export type EnergyContract = z.infer<typeof energyContractSchema>;
export type Token = z.infer<typeof tokenSchema>;
export type TokenPatch = z.infer<typeof tokenPatchSchema>;
export type LocationReferences = z.infer<typeof locationReferencesSchema>;
export type AuthorizationInfo = z.infer<typeof authorizationInfoSchema>;
