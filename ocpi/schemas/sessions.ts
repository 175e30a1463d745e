import { z } from 'zod';
import { authMethods, cdrTokenSchema, chargingPeriodSchema } from './cdrs.js';
import { chargingPeriodsPerSessionMax } from './limits.js';
import { ciIdentifier, currencySchema, dateTimeSchema, ocpiNumber, ocpiString, priceSchema } from './primitives.js';

/** The Sessions module of OCPI 2.2.1 (mod_sessions.asciidoc). */

export const sessionStatuses = ['ACTIVE', 'COMPLETED', 'INVALID', 'PENDING', 'RESERVATION'] as const;
export const profileTypes = ['CHEAP', 'FAST', 'GREEN', 'REGULAR'] as const;
export const chargingPreferencesResponses = [
  'ACCEPTED', 'DEPARTURE_REQUIRED', 'ENERGY_NEED_REQUIRED', 'NOT_POSSIBLE', 'PROFILE_TYPE_NOT_SUPPORTED',
] as const;

const sessionShape = z.object({
  country_code: cdrTokenSchema.shape.country_code,
  party_id: cdrTokenSchema.shape.party_id,
  id: ciIdentifier(36),
  start_date_time: dateTimeSchema,
  end_date_time: dateTimeSchema.optional(),
  kwh: ocpiNumber(),
  cdr_token: cdrTokenSchema,
  auth_method: z.enum(authMethods),
  authorization_reference: ciIdentifier(36).optional(),
  location_id: ciIdentifier(36),
  evse_uid: ciIdentifier(36),
  connector_id: ciIdentifier(36),
  meter_id: ocpiString(255).optional(),
  currency: currencySchema,
  charging_periods: z.array(chargingPeriodSchema).max(chargingPeriodsPerSessionMax).optional(),
  total_cost: priceSchema.optional(),
  status: z.enum(sessionStatuses),
  last_updated: dateTimeSchema,
});
export const sessionSchema = sessionShape;

/**
 * PATCH body (mod_sessions "PATCH Method"): any subset, last_updated always required.
 * charging_periods in a PATCH are appended to the Session's periods, not a replacement.
 */
export const sessionPatchSchema = sessionShape.partial().extend({ last_updated: dateTimeSchema });

export const chargingPreferencesSchema = z.object({
  profile_type: z.enum(profileTypes),
  departure_time: dateTimeSchema.optional(),
  /** kWh. */
  energy_need: ocpiNumber().nonnegative().optional(),
  discharge_allowed: z.boolean().optional(),
});

export const chargingPreferencesResponseSchema = z.enum(chargingPreferencesResponses);

export type SessionStatus = (typeof sessionStatuses)[number];
export type ProfileType = (typeof profileTypes)[number];
export type ChargingPreferencesResponse = (typeof chargingPreferencesResponses)[number];
export type Session = z.infer<typeof sessionSchema>;
export type SessionPatch = z.infer<typeof sessionPatchSchema>;
export type ChargingPreferences = z.infer<typeof chargingPreferencesSchema>;
