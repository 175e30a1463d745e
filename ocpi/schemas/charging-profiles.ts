import { z } from 'zod';
import { chargingProfilePeriodsMax } from './limits.js';
import { dateTimeSchema, ocpiInt, ocpiNumber, urlSchema } from './primitives.js';

/** The ChargingProfiles module of OCPI 2.2.1 (mod_charging_profiles.asciidoc). */

export const chargingRateUnits = ['W', 'A'] as const;
export const chargingProfileResponseTypes = ['ACCEPTED', 'NOT_SUPPORTED', 'REJECTED', 'TOO_OFTEN', 'UNKNOWN_SESSION'] as const;
export const chargingProfileResultTypes = ['ACCEPTED', 'REJECTED', 'UNKNOWN'] as const;

/** limit and min_charging_rate "accept at most one digit fraction (e.g. 8.1)", as in OCPP. */
const chargingRate = ocpiNumber(1).nonnegative();

export const chargingProfilePeriodSchema = z.object({
  /** Seconds from the start of the profile. */
  start_period: ocpiInt.nonnegative(),
  /** In the profile's charging_rate_unit (W or A). */
  limit: chargingRate,
});

export const chargingProfileSchema = z.object({
  start_date_time: dateTimeSchema.optional(),
  /** Seconds. */
  duration: ocpiInt.nonnegative().optional(),
  charging_rate_unit: z.enum(chargingRateUnits),
  min_charging_rate: chargingRate.optional(),
  charging_profile_period: z.array(chargingProfilePeriodSchema).max(chargingProfilePeriodsMax).optional(),
});

export const activeChargingProfileSchema = z.object({
  start_date_time: dateTimeSchema,
  charging_profile: chargingProfileSchema,
});

export const setChargingProfileSchema = z.object({
  charging_profile: chargingProfileSchema,
  response_url: urlSchema,
});

export const chargingProfileResponseSchema = z.object({
  result: z.enum(chargingProfileResponseTypes),
  /** Seconds. */
  timeout: ocpiInt.nonnegative(),
});

/** "ActiveChargingProfileResult": the profile is there when the result is ACCEPTED. */
export const activeChargingProfileResultSchema = z.object({
  result: z.enum(chargingProfileResultTypes),
  profile: activeChargingProfileSchema.optional(),
});

export const chargingProfileResultSchema = z.object({ result: z.enum(chargingProfileResultTypes) });
export const clearProfileResultSchema = z.object({ result: z.enum(chargingProfileResultTypes) });

export type ChargingRateUnit = (typeof chargingRateUnits)[number];
export type ChargingProfileResponseType = (typeof chargingProfileResponseTypes)[number];
export type ChargingProfileResultType = (typeof chargingProfileResultTypes)[number];
export type ChargingProfilePeriod = z.infer<typeof chargingProfilePeriodSchema>;
export type ChargingProfile = z.infer<typeof chargingProfileSchema>;
export type ActiveChargingProfile = z.infer<typeof activeChargingProfileSchema>;
export type SetChargingProfile = z.infer<typeof setChargingProfileSchema>;
export type ChargingProfileResponse = z.infer<typeof chargingProfileResponseSchema>;
export type ActiveChargingProfileResult = z.infer<typeof activeChargingProfileResultSchema>;
export type ChargingProfileResult = z.infer<typeof chargingProfileResultSchema>;
export type ClearProfileResult = z.infer<typeof clearProfileResultSchema>;
