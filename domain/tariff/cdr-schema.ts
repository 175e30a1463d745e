import { z } from 'zod';
import { chargingPeriodsMax } from './limits.js';
import { dateTimeSchema, priceSchema, tariffSchema } from './schema.js';

/**
 * The parts of the OCPI 2.2.1 CDR that pricing reads (mod_cdrs "ChargingPeriod class",
 * "CdrDimension class", "CdrDimensionType enum"). The full CDR object belongs to the CDR module;
 * `cdrPricingSchema` checks only the fields the tariff engine relies on and lets the rest pass.
 */
export const cdrDimensionTypes = [
  'CURRENT',
  'ENERGY',
  'ENERGY_EXPORT',
  'ENERGY_IMPORT',
  'MAX_CURRENT',
  'MIN_CURRENT',
  'MAX_POWER',
  'MIN_POWER',
  'PARKING_TIME',
  'POWER',
  'RESERVATION_TIME',
  'STATE_OF_CHARGE',
  'TIME',
] as const;
export type CdrDimensionType = (typeof cdrDimensionTypes)[number];

export const cdrDimensionSchema = z.object({
  type: z.enum(cdrDimensionTypes),
  /** kWh for energy, hours for time, A for current, kW for power, % for state of charge. */
  volume: z.number().nonnegative().finite(),
});

export const chargingPeriodSchema = z.object({
  start_date_time: dateTimeSchema,
  dimensions: z.array(cdrDimensionSchema).min(1).max(cdrDimensionTypes.length),
  tariff_id: z.string().max(36).optional(),
});

export const cdrPricingSchema = z.looseObject({
  start_date_time: dateTimeSchema,
  end_date_time: dateTimeSchema,
  currency: z.string().length(3),
  tariffs: z.array(tariffSchema).optional(),
  charging_periods: z.array(chargingPeriodSchema).min(1).max(chargingPeriodsMax),
  total_cost: priceSchema,
  total_fixed_cost: priceSchema.optional(),
  total_energy: z.number().nonnegative(),
  total_energy_cost: priceSchema.optional(),
  total_time: z.number().nonnegative(),
  total_time_cost: priceSchema.optional(),
  total_parking_time: z.number().nonnegative().optional(),
  total_parking_cost: priceSchema.optional(),
  total_reservation_cost: priceSchema.optional(),
  last_updated: dateTimeSchema,
});

export type CdrDimension = z.infer<typeof cdrDimensionSchema>;
export type ChargingPeriod = z.infer<typeof chargingPeriodSchema>;
export type CdrPricingPart = z.infer<typeof cdrPricingSchema>;
