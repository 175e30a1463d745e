import { z } from 'zod';
import {
  authMethods,
  cdrDimensionTypes,
  cdrLocationSchema,
  cdrSignedDataSchema,
  cdrTokenSchema,
  chargingPeriodsPerCdrMax,
  dimensionsPerPeriodMax,
  tariffsPerCdrMax,
} from '../../domain/cdr/ocpi.js';
import { tariffSchema } from './tariffs.js';
import { ciIdentifier, ciString, currencySchema, dateTimeSchema, ocpiNumber, ocpiString, priceSchema } from './primitives.js';

/**
 * The CDRs module of OCPI 2.2.1 (mod_cdrs.asciidoc) as it travels on the wire. The enums and the
 * CdrToken, CdrLocation and SignedData classes are domain/cdr/ocpi.ts's own; the CDR itself is
 * composed here because the domain schema holds money and volumes as decimal strings (event
 * data), while OCPI sends JSON numbers.
 */
export { authMethods, cdrDimensionTypes, cdrLocationSchema, cdrSignedDataSchema, cdrTokenSchema };

/** "SignedValue class", read off the domain's SignedData. */
export const signedValueSchema = cdrSignedDataSchema.shape.signed_values.element;

/**
 * "CdrDimension class". Volumes may be negative: ENERGY, CURRENT, MIN_CURRENT, POWER and
 * MIN_POWER are negative when energy flows from the EV to the grid (CdrDimensionType enum).
 */
export const cdrDimensionSchema = z.object({
  type: z.enum(cdrDimensionTypes),
  volume: ocpiNumber(),
});

/** "ChargingPeriod class"; shared by the Session and the CDR. */
export const chargingPeriodSchema = z.object({
  start_date_time: dateTimeSchema,
  dimensions: z.array(cdrDimensionSchema).min(1).max(dimensionsPerPeriodMax),
  tariff_id: ciIdentifier(36).optional(),
});

const cdrShape = z.object({
  country_code: cdrTokenSchema.shape.country_code,
  party_id: cdrTokenSchema.shape.party_id,
  /** 39, not 36: room for a suffix on a Credit CDR id ("CDR Object"). */
  id: ciIdentifier(39),
  start_date_time: dateTimeSchema,
  end_date_time: dateTimeSchema,
  session_id: ciIdentifier(36).optional(),
  cdr_token: cdrTokenSchema,
  auth_method: z.enum(authMethods),
  authorization_reference: ciIdentifier(36).optional(),
  cdr_location: cdrLocationSchema,
  meter_id: ocpiString(255).optional(),
  currency: currencySchema,
  tariffs: z.array(tariffSchema).max(tariffsPerCdrMax).optional(),
  charging_periods: z.array(chargingPeriodSchema).min(1).max(chargingPeriodsPerCdrMax),
  signed_data: cdrSignedDataSchema.optional(),
  total_cost: priceSchema,
  total_fixed_cost: priceSchema.optional(),
  /** kWh. */
  total_energy: ocpiNumber(),
  total_energy_cost: priceSchema.optional(),
  /** Hours. */
  total_time: ocpiNumber(),
  total_time_cost: priceSchema.optional(),
  /** Hours. */
  total_parking_time: ocpiNumber().optional(),
  total_parking_cost: priceSchema.optional(),
  total_reservation_cost: priceSchema.optional(),
  remark: ocpiString(255).optional(),
  invoice_reference_id: ciString(39).optional(),
  credit: z.boolean().optional(),
  credit_reference_id: ciString(39).optional(),
  /** New in 2.2.1. */
  home_charging_compensation: z.boolean().optional(),
  last_updated: dateTimeSchema,
});

/** "CDR Object": a Credit CDR (credit=true) must name the CDR it credits. */
export const cdrSchema = cdrShape.superRefine((cdr, ctx) => {
  if (cdr.credit === true && cdr.credit_reference_id === undefined) {
    ctx.addIssue({ code: 'custom', message: 'credit_reference_id is required on a Credit CDR', path: ['credit_reference_id'] });
  }
});

export type AuthMethod = (typeof authMethods)[number];
export type CdrDimensionType = (typeof cdrDimensionTypes)[number];
export type CdrDimension = z.infer<typeof cdrDimensionSchema>;
export type ChargingPeriod = z.infer<typeof chargingPeriodSchema>;
export type CdrToken = z.infer<typeof cdrTokenSchema>;
export type CdrLocation = z.infer<typeof cdrLocationSchema>;
export type SignedData = z.infer<typeof cdrSignedDataSchema>;
export type SignedValue = z.infer<typeof signedValueSchema>;
export type Cdr = z.infer<typeof cdrSchema>;
