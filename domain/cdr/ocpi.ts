import { z } from 'zod';
import { currencyCode, decimalString } from './money.js';

/**
 * The OCPI 2.2.1 CDR object (module CDRs, §10.3.1) as event data. Field names stay OCPI's
 * snake_case so a stored CDR is the CDR we send and receive, with no mapping to get wrong. Money
 * and quantities are decimal strings (OCPI sends JSON numbers; gateways convert without floats).
 */

/** OCPI DateTime (§16.2): ISO-8601, UTC; we also accept an explicit offset. */
export const ocpiDateTime = z.iso.datetime({ offset: true });

/** OCPI CiString(n) / string(n): bounded lengths from the spec. */
const text = (lengthMax: number) => z.string().min(1).max(lengthMax);

export const cdrTokenTypes = ['AD_HOC_USER', 'APP_USER', 'OTHER', 'RFID'] as const;
export const authMethods = ['AUTH_REQUEST', 'COMMAND', 'WHITELIST'] as const;
export const connectorFormats = ['SOCKET', 'CABLE'] as const;
export const powerTypes = ['AC_1_PHASE', 'AC_2_PHASE', 'AC_2_PHASE_SPLIT', 'AC_3_PHASE', 'DC'] as const;

/** OCPI 2.2.1 ConnectorType (§8.4.7). */
export const connectorStandards = [
  'CHADEMO', 'CHAOJI', 'DOMESTIC_A', 'DOMESTIC_B', 'DOMESTIC_C', 'DOMESTIC_D', 'DOMESTIC_E',
  'DOMESTIC_F', 'DOMESTIC_G', 'DOMESTIC_H', 'DOMESTIC_I', 'DOMESTIC_J', 'DOMESTIC_K', 'DOMESTIC_L',
  'DOMESTIC_M', 'DOMESTIC_N', 'DOMESTIC_O', 'GBT_AC', 'GBT_DC', 'IEC_60309_2_single_16',
  'IEC_60309_2_three_16', 'IEC_60309_2_three_32', 'IEC_60309_2_three_64', 'IEC_62196_T1',
  'IEC_62196_T1_COMBO', 'IEC_62196_T2', 'IEC_62196_T2_COMBO', 'IEC_62196_T3A', 'IEC_62196_T3C',
  'NEMA_5_20', 'NEMA_6_30', 'NEMA_6_50', 'NEMA_10_30', 'NEMA_10_50', 'NEMA_14_30', 'NEMA_14_50',
  'PANTOGRAPH_BOTTOM_UP', 'PANTOGRAPH_TOP_DOWN', 'TESLA_R', 'TESLA_S',
] as const;

/** OCPI CdrDimensionType (§10.4.2). */
export const cdrDimensionTypes = [
  'CURRENT', 'ENERGY', 'ENERGY_EXPORT', 'ENERGY_IMPORT', 'MAX_CURRENT', 'MIN_CURRENT', 'MAX_POWER',
  'MIN_POWER', 'PARKING_TIME', 'POWER', 'RESERVATION_TIME', 'STATE_OF_CHARGE', 'TIME',
] as const;

/** Bounds so one CDR stays a reasonable event (docs/style.md: a limit on everything). */
export const chargingPeriodsPerCdrMax = 2_000;
export const dimensionsPerPeriodMax = cdrDimensionTypes.length;
export const tariffsPerCdrMax = 10;
export const signedValuesPerCdrMax = 1_000;

export const cdrTokenSchema = z.object({
  country_code: z.string().length(2),
  party_id: z.string().length(3),
  uid: text(36),
  type: z.enum(cdrTokenTypes),
  contract_id: text(36),
});

export const geoLocationSchema = z.object({
  latitude: z.string().regex(/^-?[0-9]{1,2}\.[0-9]{5,7}$/, 'OCPI latitude'),
  longitude: z.string().regex(/^-?[0-9]{1,3}\.[0-9]{5,7}$/, 'OCPI longitude'),
});

export const cdrLocationSchema = z.object({
  id: text(36),
  name: z.string().max(255).optional(),
  address: z.string().max(45),
  city: z.string().max(45),
  postal_code: z.string().max(10).optional(),
  state: z.string().max(20).optional(),
  /** ISO 3166-1 alpha-3. */
  country: z.string().regex(/^[A-Z]{3}$/),
  coordinates: geoLocationSchema,
  evse_uid: text(36),
  evse_id: text(48),
  connector_id: text(36),
  connector_standard: z.enum(connectorStandards),
  connector_format: z.enum(connectorFormats),
  connector_power_type: z.enum(powerTypes),
});

export const priceSchema = z.object({ excl_vat: decimalString, incl_vat: decimalString.optional() });
export type Price = z.infer<typeof priceSchema>;

export const cdrDimensionSchema = z.object({ type: z.enum(cdrDimensionTypes), volume: decimalString });

export const chargingPeriodSchema = z.object({
  start_date_time: ocpiDateTime,
  dimensions: z.array(cdrDimensionSchema).min(1).max(dimensionsPerPeriodMax),
  tariff_id: text(36).optional(),
});

/**
 * Signed meter data (OCPI SignedData, §10.4.8). Kept verbatim from the meter values: a byte
 * changed would break the signature a driver can check with the transparency software.
 */
export const cdrSignedDataSchema = z.object({
  encoding_method: text(36),
  encoding_method_version: z.number().int().optional(),
  public_key: z.string().max(512).optional(),
  signed_values: z
    .array(z.object({ nature: text(32), plain_data: z.string().max(512), signed_data: z.string().max(5000) }))
    .min(1)
    .max(signedValuesPerCdrMax),
  url: z.string().max(512).optional(),
});

/**
 * A tariff as it was applied, kept as given (OCPI Tariff object of the version in force at the
 * session's start): the CDR must still explain its price after the tariff changes.
 */
export const tariffSnapshotSchema = z.looseObject({ id: text(36) });

export const ocpiCdrSchema = z.object({
  country_code: z.string().length(2),
  party_id: z.string().length(3),
  id: text(39),
  start_date_time: ocpiDateTime,
  end_date_time: ocpiDateTime,
  session_id: text(36).optional(),
  cdr_token: cdrTokenSchema,
  auth_method: z.enum(authMethods),
  authorization_reference: text(36).optional(),
  cdr_location: cdrLocationSchema,
  meter_id: z.string().max(255).optional(),
  currency: currencyCode,
  tariffs: z.array(tariffSnapshotSchema).max(tariffsPerCdrMax).optional(),
  charging_periods: z.array(chargingPeriodSchema).min(1).max(chargingPeriodsPerCdrMax),
  signed_data: cdrSignedDataSchema.optional(),
  total_cost: priceSchema,
  total_fixed_cost: priceSchema.optional(),
  /** kWh. */
  total_energy: decimalString,
  total_energy_cost: priceSchema.optional(),
  /** Hours. */
  total_time: decimalString,
  total_time_cost: priceSchema.optional(),
  /** Hours. */
  total_parking_time: decimalString.optional(),
  total_parking_cost: priceSchema.optional(),
  total_reservation_cost: priceSchema.optional(),
  remark: z.string().max(255).optional(),
  invoice_reference_id: z.string().max(39).optional(),
  credit: z.boolean().optional(),
  credit_reference_id: z.string().max(39).optional(),
  home_charging_compensation: z.boolean().optional(),
  last_updated: ocpiDateTime,
});
export type OcpiCdr = z.infer<typeof ocpiCdrSchema>;

/** The cost fields of a CDR, in the order OCPI lists them. */
export const cdrCostFields = [
  'total_cost',
  'total_fixed_cost',
  'total_energy_cost',
  'total_time_cost',
  'total_parking_cost',
  'total_reservation_cost',
] as const satisfies readonly (keyof OcpiCdr)[];
export type CdrCostField = (typeof cdrCostFields)[number];

/** The quantity fields of a CDR. */
export const cdrQuantityFields = ['total_energy', 'total_time', 'total_parking_time'] as const satisfies readonly (keyof OcpiCdr)[];
