import { z } from 'zod';
import { cdrTokenTypes, connectorFormats, connectorStandards, geoLocationSchema, powerTypes } from '../../domain/cdr/ocpi.js';
import { energyMixSchema } from '../../domain/tariff/schema.js';
import {
  connectorsPerEvseMax,
  evsesPerLocationMax,
  exceptionalPeriodsMax,
  imagesMax,
  publishAllowedToMax,
  regularHoursMax,
  relatedLocationsMax,
  statusSchedulesMax,
  tariffIdsPerConnectorMax,
} from './limits.js';
import {
  ciIdentifier,
  ciString,
  countryAlpha3Schema,
  countryCodeSchema,
  dateTimeSchema,
  displayTextSchema,
  displayTextsSchema,
  ocpiInt,
  ocpiString,
  partyIdSchema,
  urlSchema,
} from './primitives.js';

/** The Locations module of OCPI 2.2.1 (mod_locations.asciidoc, "Object description", "Data types"). */

export const parkingTypes = ['ALONG_MOTORWAY', 'PARKING_GARAGE', 'PARKING_LOT', 'ON_DRIVEWAY', 'ON_STREET', 'UNDERGROUND_GARAGE'] as const;
export const facilities = [
  'HOTEL', 'RESTAURANT', 'CAFE', 'MALL', 'SUPERMARKET', 'SPORT', 'RECREATION_AREA', 'NATURE', 'MUSEUM',
  'BIKE_SHARING', 'BUS_STOP', 'TAXI_STAND', 'TRAM_STOP', 'METRO_STATION', 'TRAIN_STATION', 'AIRPORT',
  'PARKING_LOT', 'CARPOOL_PARKING', 'FUEL_STATION', 'WIFI',
] as const;
/** "Status" enum of an EVSE. */
export const evseStatuses = ['AVAILABLE', 'BLOCKED', 'CHARGING', 'INOPERATIVE', 'OUTOFORDER', 'PLANNED', 'REMOVED', 'RESERVED', 'UNKNOWN'] as const;
/** "Capability" enum; START_SESSION_CONNECTOR_REQUIRED is new in 2.2.1 (changelog 2.2 -> 2.2.1). */
export const capabilities = [
  'CHARGING_PROFILE_CAPABLE', 'CHARGING_PREFERENCES_CAPABLE', 'CHIP_CARD_SUPPORT', 'CONTACTLESS_CARD_SUPPORT',
  'CREDIT_CARD_PAYABLE', 'DEBIT_CARD_PAYABLE', 'PED_TERMINAL', 'REMOTE_START_STOP_CAPABLE', 'RESERVABLE',
  'RFID_READER', 'START_SESSION_CONNECTOR_REQUIRED', 'TOKEN_GROUP_CAPABLE', 'UNLOCK_CAPABLE',
] as const;
export const parkingRestrictions = ['EV_ONLY', 'PLUGGED', 'DISABLED', 'CUSTOMERS', 'MOTORCYCLES'] as const;
export const imageCategories = ['CHARGER', 'ENTRANCE', 'LOCATION', 'NETWORK', 'OPERATOR', 'OTHER', 'OWNER'] as const;
/** ConnectorType, ConnectorFormat and PowerType are shared with the CDR (domain/cdr/ocpi.ts). */
export const connectorTypes = connectorStandards;
export { connectorFormats, powerTypes };

/** EnergyMix is shared with the Tariff (domain/tariff/schema.ts); its enums are read off it. */
export { energyMixSchema };
const energySourceSchema = energyMixSchema.shape.energy_sources.unwrap().element;
const environmentalImpactSchema = energyMixSchema.shape.environ_impact.unwrap().element;
export const energySourceCategories = energySourceSchema.shape.source.options;
export const environmentalImpactCategories = environmentalImpactSchema.shape.category.options;
export { energySourceSchema, environmentalImpactSchema };

/** "GeoLocation class": latitude/longitude as strings with 5 to 7 decimals (regex in the spec). */
export { geoLocationSchema };

export const additionalGeoLocationSchema = z.object({
  latitude: geoLocationSchema.shape.latitude,
  longitude: geoLocationSchema.shape.longitude,
  name: displayTextSchema.optional(),
});

export const imageSchema = z.object({
  url: urlSchema,
  thumbnail: urlSchema.optional(),
  category: z.enum(imageCategories),
  type: ciString(4).min(1),
  /** int(5): at most five digits. */
  width: ocpiInt.min(0).max(99_999).optional(),
  height: ocpiInt.min(0).max(99_999).optional(),
});

export const businessDetailsSchema = z.object({
  name: ocpiString(100).min(1),
  website: urlSchema.optional(),
  logo: imageSchema.optional(),
});

/** "RegularHours class": HH:MM in local time with the spec's regex; the end must be later. */
const timeOfDay = ocpiString(5).regex(/^([0-1][0-9]|2[0-3]):[0-5][0-9]$/, 'must be HH:MM, 24 h, leading zeros');
export const regularHoursSchema = z
  .object({
    weekday: ocpiInt.min(1).max(7),
    period_begin: timeOfDay,
    period_end: timeOfDay,
  })
  .refine((hours) => hours.period_end > hours.period_begin, { message: 'period_end must be later than period_begin', path: ['period_end'] });

export const exceptionalPeriodSchema = z.object({
  period_begin: dateTimeSchema,
  period_end: dateTimeSchema,
});

/**
 * "Hours class": twentyfourseven is always required; regular_hours only with twentyfourseven=false,
 * and then with at least one entry (changelog 2.2: "now twentyfourseven is always required").
 */
export const hoursSchema = z
  .object({
    twentyfourseven: z.boolean(),
    regular_hours: z.array(regularHoursSchema).max(regularHoursMax).optional(),
    exceptional_openings: z.array(exceptionalPeriodSchema).max(exceptionalPeriodsMax).optional(),
    exceptional_closings: z.array(exceptionalPeriodSchema).max(exceptionalPeriodsMax).optional(),
  })
  .superRefine((hours, ctx) => {
    const regularCount = hours.regular_hours?.length ?? 0;
    if (hours.twentyfourseven && regularCount > 0) {
      ctx.addIssue({ code: 'custom', message: 'regular_hours may only be used when twentyfourseven is false', path: ['regular_hours'] });
    }
    if (!hours.twentyfourseven && regularCount === 0) {
      ctx.addIssue({ code: 'custom', message: 'regular_hours needs at least one entry when twentyfourseven is false', path: ['regular_hours'] });
    }
  });

export const statusScheduleSchema = z.object({
  period_begin: dateTimeSchema,
  period_end: dateTimeSchema.optional(),
  status: z.enum(evseStatuses),
});

/**
 * "PublishTokenType class": at least one of uid, visual_number, group_id; uid needs type and
 * visual_number needs issuer.
 */
export const publishTokenTypeSchema = z
  .object({
    uid: ciIdentifier(36).optional(),
    type: z.enum(cdrTokenTypes).optional(),
    visual_number: ocpiString(64).optional(),
    issuer: ocpiString(64).optional(),
    group_id: ciIdentifier(36).optional(),
  })
  .superRefine((token, ctx) => {
    if (token.uid === undefined && token.visual_number === undefined && token.group_id === undefined) {
      ctx.addIssue({ code: 'custom', message: 'one of uid, visual_number or group_id is required', path: [] });
    }
    if (token.uid !== undefined && token.type === undefined) {
      ctx.addIssue({ code: 'custom', message: 'type is required when uid is set', path: ['type'] });
    }
    if (token.visual_number !== undefined && token.issuer === undefined) {
      ctx.addIssue({ code: 'custom', message: 'issuer is required when visual_number is set', path: ['issuer'] });
    }
  });

const connectorShape = z.object({
  id: ciIdentifier(36),
  standard: z.enum(connectorTypes),
  format: z.enum(connectorFormats),
  power_type: z.enum(powerTypes),
  /** Volt, line to neutral for AC_3_PHASE. */
  max_voltage: ocpiInt.nonnegative(),
  /** Ampere. */
  max_amperage: ocpiInt.nonnegative(),
  /** Watt. */
  max_electric_power: ocpiInt.nonnegative().optional(),
  tariff_ids: z.array(ciIdentifier(36)).max(tariffIdsPerConnectorMax).optional(),
  terms_and_conditions: urlSchema.optional(),
  last_updated: dateTimeSchema,
});
export const connectorSchema = connectorShape;

const evseShape = z.object({
  uid: ciIdentifier(36),
  evse_id: ciString(48).optional(),
  status: z.enum(evseStatuses),
  status_schedule: z.array(statusScheduleSchema).max(statusSchedulesMax).optional(),
  capabilities: z.array(z.enum(capabilities)).max(capabilities.length).optional(),
  connectors: z.array(connectorSchema).min(1).max(connectorsPerEvseMax),
  floor_level: ocpiString(4).optional(),
  coordinates: geoLocationSchema.optional(),
  physical_reference: ocpiString(16).optional(),
  directions: displayTextsSchema.optional(),
  parking_restrictions: z.array(z.enum(parkingRestrictions)).max(parkingRestrictions.length).optional(),
  images: z.array(imageSchema).max(imagesMax).optional(),
  last_updated: dateTimeSchema,
});
export const evseSchema = evseShape;

/** IANA tz name check by the runtime's own tz database (Location "time_zone"). */
function isIanaTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

const locationShape = z.object({
  country_code: countryCodeSchema,
  party_id: partyIdSchema,
  id: ciIdentifier(36),
  publish: z.boolean(),
  publish_allowed_to: z.array(publishTokenTypeSchema).max(publishAllowedToMax).optional(),
  name: ocpiString(255).optional(),
  address: ocpiString(45),
  city: ocpiString(45),
  postal_code: ocpiString(10).optional(),
  state: ocpiString(20).optional(),
  country: countryAlpha3Schema,
  coordinates: geoLocationSchema,
  related_locations: z.array(additionalGeoLocationSchema).max(relatedLocationsMax).optional(),
  parking_type: z.enum(parkingTypes).optional(),
  evses: z.array(evseSchema).max(evsesPerLocationMax).optional(),
  directions: displayTextsSchema.optional(),
  operator: businessDetailsSchema.optional(),
  suboperator: businessDetailsSchema.optional(),
  owner: businessDetailsSchema.optional(),
  facilities: z.array(z.enum(facilities)).max(facilities.length).optional(),
  time_zone: ocpiString(255).refine(isIanaTimeZone, 'must be an IANA time zone such as "Europe/Oslo"'),
  opening_times: hoursSchema.optional(),
  charging_when_closed: z.boolean().optional(),
  images: z.array(imageSchema).max(imagesMax).optional(),
  energy_mix: energyMixSchema.optional(),
  last_updated: dateTimeSchema,
});

/** "Location Object"; publish_allowed_to "may only be used when the publish field is set to false". */
export const locationSchema = locationShape.superRefine((location, ctx) => {
  if (location.publish && (location.publish_allowed_to?.length ?? 0) > 0) {
    ctx.addIssue({ code: 'custom', message: 'publish_allowed_to may only be used when publish is false', path: ['publish_allowed_to'] });
  }
});

/**
 * PATCH bodies (mod_locations "PATCH Method"): any subset of the object's fields, but
 * last_updated is always required. Nested objects given in a PATCH are whole objects.
 */
export const locationPatchSchema = locationShape.partial().extend({ last_updated: dateTimeSchema });
export const evsePatchSchema = evseShape.partial().extend({ last_updated: dateTimeSchema });
export const connectorPatchSchema = connectorShape.partial().extend({ last_updated: dateTimeSchema });

export type ParkingType = (typeof parkingTypes)[number];
export type Facility = (typeof facilities)[number];
export type EvseStatus = (typeof evseStatuses)[number];
export type Capability = (typeof capabilities)[number];
export type ParkingRestriction = (typeof parkingRestrictions)[number];
export type ImageCategory = (typeof imageCategories)[number];
export type ConnectorType = (typeof connectorTypes)[number];
export type ConnectorFormat = (typeof connectorFormats)[number];
export type PowerType = (typeof powerTypes)[number];
export type EnergySourceCategory = (typeof energySourceCategories)[number];
export type EnvironmentalImpactCategory = (typeof environmentalImpactCategories)[number];
export type GeoLocation = z.infer<typeof geoLocationSchema>;
export type AdditionalGeoLocation = z.infer<typeof additionalGeoLocationSchema>;
export type Image = z.infer<typeof imageSchema>;
export type BusinessDetails = z.infer<typeof businessDetailsSchema>;
export type EnergyMix = z.infer<typeof energyMixSchema>;
export type RegularHours = z.infer<typeof regularHoursSchema>;
export type ExceptionalPeriod = z.infer<typeof exceptionalPeriodSchema>;
export type Hours = z.infer<typeof hoursSchema>;
export type StatusSchedule = z.infer<typeof statusScheduleSchema>;
export type PublishTokenType = z.infer<typeof publishTokenTypeSchema>;
export type Connector = z.infer<typeof connectorSchema>;
export type Evse = z.infer<typeof evseSchema>;
export type Location = z.infer<typeof locationSchema>;
export type LocationPatch = z.infer<typeof locationPatchSchema>;
export type EvsePatch = z.infer<typeof evsePatchSchema>;
export type ConnectorPatch = z.infer<typeof connectorPatchSchema>;
