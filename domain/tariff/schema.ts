import { z } from 'zod';
import {
  energyMixEntriesMax,
  priceComponentsPerElementMax,
  stepSizeMax,
  tariffAltTextMax,
  tariffElementsMax,
} from './limits.js';
import { checkTariff } from './tariff-checks.js';

/**
 * Zod schemas of the OCPI 2.2.1 Tariffs module (mod_tariffs.asciidoc, "Object description" and
 * "Data types"). Field lengths and enums follow the spec tables; checks that span fields
 * (min < max, ordering, shadowed elements) live in tariff-checks.ts.
 * Unknown fields are stripped, not refused: OCPI receivers must ignore fields they do not know
 * (transport_and_format, "Unknown fields").
 */

/** CiString/string: printable ASCII only (types.asciidoc, "CiString", "string" is UTF-8 though). */
const ciString = (max: number) => z.string().max(max).regex(/^[\x20-\x7E]*$/, 'must be printable ASCII');

/**
 * types.asciidoc "DateTime": RFC 3339 in UTC, string(25); a missing zone designator means UTC.
 * Offsets other than Z are refused because the spec says all timestamps SHALL be UTC.
 */
export const dateTimeSchema = z
  .string()
  .max(25)
  .regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z?$/, 'must be an RFC 3339 UTC timestamp like 2015-06-29T20:39:09Z')
  .refine((s) => !Number.isNaN(Date.parse(s.endsWith('Z') ? s : `${s}Z`)), 'is not a valid date and time');

export const displayTextSchema = z.object({
  language: z.string().length(2),
  text: z.string().max(512),
});

/** types.asciidoc "Price": excl_vat required, incl_vat optional. */
export const priceSchema = z.object({
  excl_vat: z.number().nonnegative().finite(),
  incl_vat: z.number().nonnegative().finite().optional(),
});

export const tariffDimensionTypes = ['ENERGY', 'FLAT', 'PARKING_TIME', 'TIME'] as const;
export type TariffDimensionType = (typeof tariffDimensionTypes)[number];

export const priceComponentSchema = z.object({
  type: z.enum(tariffDimensionTypes),
  /** Always excl. VAT (mod_tariffs "PriceComponent class"). */
  price: z.number().nonnegative('price may not be negative').finite(),
  /** Omitted means "no VAT applicable", which is not the same as 0.0 (PriceComponent class). */
  vat: z.number().nonnegative('vat may not be negative').finite().optional(),
  /** Wh for ENERGY, seconds for TIME/PARKING_TIME, ignored for FLAT. */
  step_size: z.int().nonnegative().max(stepSizeMax),
});

export const daysOfWeek = ['MONDAY', 'TUESDAY', 'WEDNESDAY', 'THURSDAY', 'FRIDAY', 'SATURDAY', 'SUNDAY'] as const;
export type DayOfWeek = (typeof daysOfWeek)[number];
export const reservationRestrictionTypes = ['RESERVATION', 'RESERVATION_EXPIRES'] as const;

/** HH:MM, 24 h, leading zeros: the regex the spec gives for start_time/end_time. */
const timeOfDay = z.string().regex(/^([0-1][0-9]|2[0-3]):[0-5][0-9]$/, 'must be a time of day HH:MM (00:00-23:59)');
const localDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date YYYY-MM-DD');
const nonNegative = z.number().nonnegative().finite();

export const tariffRestrictionsSchema = z.object({
  start_time: timeOfDay.optional(),
  end_time: timeOfDay.optional(),
  start_date: localDate.optional(),
  end_date: localDate.optional(),
  min_kwh: nonNegative.optional(),
  max_kwh: nonNegative.optional(),
  min_current: nonNegative.optional(),
  max_current: nonNegative.optional(),
  min_power: nonNegative.optional(),
  max_power: nonNegative.optional(),
  min_duration: z.int().nonnegative().optional(),
  max_duration: z.int().nonnegative().optional(),
  day_of_week: z.array(z.enum(daysOfWeek)).min(1).max(7).optional(),
  reservation: z.enum(reservationRestrictionTypes).optional(),
});

export const tariffElementSchema = z.object({
  price_components: z.array(priceComponentSchema).min(1).max(priceComponentsPerElementMax),
  restrictions: tariffRestrictionsSchema.optional(),
});

export const tariffTypes = ['AD_HOC_PAYMENT', 'PROFILE_CHEAP', 'PROFILE_FAST', 'PROFILE_GREEN', 'REGULAR'] as const;

/** mod_locations "EnergyMix class". */
export const energyMixSchema = z.object({
  is_green_energy: z.boolean(),
  energy_sources: z
    .array(
      z.object({
        source: z.enum(['NUCLEAR', 'GENERAL_FOSSIL', 'COAL', 'GAS', 'GENERAL_GREEN', 'SOLAR', 'WIND', 'WATER']),
        percentage: z.number().min(0).max(100),
      }),
    )
    .max(energyMixEntriesMax)
    .optional(),
  environ_impact: z
    .array(z.object({ category: z.enum(['NUCLEAR_WASTE', 'CARBON_DIOXIDE']), amount: z.number().nonnegative() }))
    .max(energyMixEntriesMax)
    .optional(),
  supplier_name: z.string().max(64).optional(),
  energy_product_name: z.string().max(64).optional(),
});

const tariffShape = z.object({
  country_code: ciString(2).length(2),
  party_id: ciString(3).length(3),
  id: ciString(36).min(1),
  currency: z.string().length(3),
  type: z.enum(tariffTypes).optional(),
  tariff_alt_text: z.array(displayTextSchema).max(tariffAltTextMax).optional(),
  tariff_alt_url: z.url().max(255).optional(),
  min_price: priceSchema.optional(),
  max_price: priceSchema.optional(),
  elements: z.array(tariffElementSchema).min(1).max(tariffElementsMax),
  start_date_time: dateTimeSchema.optional(),
  end_date_time: dateTimeSchema.optional(),
  energy_mix: energyMixSchema.optional(),
  last_updated: dateTimeSchema,
});

/** The Tariff object with every cross-field check; use `parseTariff` for a thrown, readable error. */
export const tariffSchema = tariffShape.superRefine((tariff, ctx) => {
  for (const issue of checkTariff(tariff)) {
    ctx.addIssue({ code: 'custom', message: issue.message, path: issue.path.split('.').filter(Boolean) });
  }
});

export type Tariff = z.infer<typeof tariffShape>;
export type TariffElement = z.infer<typeof tariffElementSchema>;
export type PriceComponent = z.infer<typeof priceComponentSchema>;
export type TariffRestrictions = z.infer<typeof tariffRestrictionsSchema>;
export type Price = z.infer<typeof priceSchema>;
