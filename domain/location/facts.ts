import { z } from 'zod';
import { connectorFormats, connectorStandards, geoLocationSchema, powerTypes } from '../cdr/ocpi.js';

/**
 * What an operator states about a site and its EVSEs, in the words of OCPI 2.2.1 Location/EVSE/
 * Connector (mod_locations.asciidoc). The domain may not import ocpi/, so the enums and length
 * limits are repeated here; location.test.ts checks they equal ocpi/schemas/locations.ts.
 */

export const parkingTypes = ['ALONG_MOTORWAY', 'PARKING_GARAGE', 'PARKING_LOT', 'ON_DRIVEWAY', 'ON_STREET', 'UNDERGROUND_GARAGE'] as const;
export const facilities = [
  'HOTEL', 'RESTAURANT', 'CAFE', 'MALL', 'SUPERMARKET', 'SPORT', 'RECREATION_AREA', 'NATURE', 'MUSEUM',
  'BIKE_SHARING', 'BUS_STOP', 'TAXI_STAND', 'TRAM_STOP', 'METRO_STATION', 'TRAIN_STATION', 'AIRPORT',
  'PARKING_LOT', 'CARPOOL_PARKING', 'FUEL_STATION', 'WIFI',
] as const;
export const capabilities = [
  'CHARGING_PROFILE_CAPABLE', 'CHARGING_PREFERENCES_CAPABLE', 'CHIP_CARD_SUPPORT', 'CONTACTLESS_CARD_SUPPORT',
  'CREDIT_CARD_PAYABLE', 'DEBIT_CARD_PAYABLE', 'PED_TERMINAL', 'REMOTE_START_STOP_CAPABLE', 'RESERVABLE',
  'RFID_READER', 'START_SESSION_CONNECTOR_REQUIRED', 'TOKEN_GROUP_CAPABLE', 'UNLOCK_CAPABLE',
] as const;
export { connectorFormats, connectorStandards, powerTypes };

/** Same bounds as ocpi/schemas/limits.ts. */
export const evsesPerLocationMax = 1_000;
export const connectorsPerEvseMax = 16;
export const tariffIdsPerConnectorMax = 20;
export const displayTextsMax = 50;
export const regularHoursMax = 7 * 10;
export const exceptionalPeriodsMax = 1_000;

/** OCPI CiString(36) ids; they are URL path segments in OCPI, so no '/', '?', '#' or '%' either. */
const ocpiId = z.string().min(1).max(36).regex(/^[\x21-\x7e]+$/, 'printable ASCII without spaces').regex(/^[^/?#%]+$/, "no '/', '?', '#' or '%'");
const text = (lengthMax: number) => z.string().max(lengthMax);

export function isIanaTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

const displayTexts = z.array(z.object({ language: z.string().regex(/^[a-z]{2}$/, 'ISO 639-1 code'), text: text(512) })).max(displayTextsMax);
const businessDetails = z.object({ name: z.string().min(1).max(100), website: z.url().max(255).optional() });
const timeOfDay = z.string().regex(/^([0-1][0-9]|2[0-3]):[0-5][0-9]$/, 'HH:MM');
const period = z.object({ period_begin: z.iso.datetime({ offset: true }), period_end: z.iso.datetime({ offset: true }) });

/** OCPI Hours, kept in OCPI's own field names: it is passed through to partners as is. */
export const openingTimesSchema = z
  .object({
    twentyfourseven: z.boolean(),
    regular_hours: z
      .array(z.object({ weekday: z.number().int().min(1).max(7), period_begin: timeOfDay, period_end: timeOfDay }))
      .max(regularHoursMax)
      .optional(),
    exceptional_openings: z.array(period).max(exceptionalPeriodsMax).optional(),
    exceptional_closings: z.array(period).max(exceptionalPeriodsMax).optional(),
  })
  .superRefine((hours, ctx) => {
    const regular = hours.regular_hours ?? [];
    // Hours class: regular_hours only without twentyfourseven, and then at least one entry.
    if (hours.twentyfourseven === regular.length > 0) {
      ctx.addIssue({ code: 'custom', message: 'regular_hours is required exactly when twentyfourseven is false', path: ['regular_hours'] });
    }
    for (const [i, entry] of regular.entries()) {
      if (entry.period_end <= entry.period_begin) ctx.addIssue({ code: 'custom', message: 'period_end must be later', path: ['regular_hours', i] });
    }
  });

export const locationFactsSchema = z.object({
  name: text(255).nullable(),
  address: z.string().min(1).max(45),
  city: z.string().min(1).max(45),
  postalCode: text(10).nullable(),
  state: text(20).nullable(),
  /** ISO 3166-1 alpha-3. */
  country: z.string().regex(/^[A-Z]{3}$/, 'ISO 3166-1 alpha-3 country code'),
  coordinates: geoLocationSchema,
  timeZone: z.string().max(255).refine(isIanaTimeZone, 'must be an IANA time zone such as "Europe/Oslo"'),
  parkingType: z.enum(parkingTypes).nullable(),
  facilities: z.array(z.enum(facilities)).max(facilities.length),
  openingTimes: openingTimesSchema.nullable(),
  chargingWhenClosed: z.boolean().nullable(),
  directions: displayTexts,
  operator: businessDetails.nullable(),
  suboperator: businessDetails.nullable(),
  owner: businessDetails.nullable(),
  /** False: the location is not shown to partners (OCPI "publish"). */
  publish: z.boolean(),
});
export type LocationFacts = z.infer<typeof locationFactsSchema>;

export const connectorFactsSchema = z.object({
  /** OCPI Connector.id, unique within its EVSE. */
  connectorId: ocpiId,
  /** The station's connector number (OCPP 2.0.1 connectorId; 1 for OCPP 1.6). */
  stationConnectorId: z.number().int().min(1),
  standard: z.enum(connectorStandards),
  format: z.enum(connectorFormats),
  powerType: z.enum(powerTypes),
  maxVoltage: z.number().int().nonnegative(),
  maxAmperage: z.number().int().nonnegative(),
  maxElectricPowerW: z.number().int().nonnegative().nullable(),
  tariffIds: z.array(ocpiId).max(tariffIdsPerConnectorMax),
});
export type ConnectorFacts = z.infer<typeof connectorFactsSchema>;

export const evseFactsSchema = z
  .object({
    /** OCPI EVSE.uid: unique within the CPO, never reused. */
    evseUid: ocpiId,
    /** eMI3 EVSE id (e.g. NL*CPO*E12345); null when the operator has none. */
    evseId: z.string().min(1).max(48).nullable(),
    stationId: z.string().min(1).max(48),
    /** OCPP 2.0.1 evseId; OCPP 1.6 connectorId (gateways map 1.6 connector n to EVSE n). */
    stationEvseId: z.number().int().min(1),
    capabilities: z.array(z.enum(capabilities)).max(capabilities.length),
    physicalReference: text(16).nullable(),
    floorLevel: text(4).nullable(),
    connectors: z.array(connectorFactsSchema).min(1).max(connectorsPerEvseMax),
  })
  .superRefine((evse, ctx) => {
    const ids = evse.connectors.map((c) => c.connectorId);
    const stationIds = evse.connectors.map((c) => c.stationConnectorId);
    if (new Set(ids).size !== ids.length) ctx.addIssue({ code: 'custom', message: 'connector ids must be unique', path: ['connectors'] });
    if (new Set(stationIds).size !== stationIds.length) ctx.addIssue({ code: 'custom', message: 'station connector ids must be unique', path: ['connectors'] });
  });
export type EvseFacts = z.infer<typeof evseFactsSchema>;

/** OCPI Location.id. */
export const locationIdSchema = ocpiId;
