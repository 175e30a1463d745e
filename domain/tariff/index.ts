/** The tariff engine: OCPI 2.2.1 tariff model and pricing (pure: no I/O, no clock). */
export { type CdrDimension, type CdrDimensionType, type ChargingPeriod, cdrDimensionSchema, cdrPricingSchema, chargingPeriodSchema } from './cdr-schema.js';
export { currencyMinorUnits, isKnownCurrency } from './currencies.js';
export { InvalidTariffError, type TariffIssue } from './errors.js';
export { Exact, roundHalfUp } from './exact.js';
export * as tariffLimits from './limits.js';
export { parseTariff, isTariffInForce } from './parse.js';
export { type CostPair, type PricingOptions, type SessionPrice, PricedChargingPeriod, priceChargingPeriods, priceMeterSamples } from './pricing.js';
export {
  type DayOfWeek,
  type Price,
  type PriceComponent,
  type Tariff,
  type TariffDimensionType,
  type TariffElement,
  type TariffRestrictions,
  priceComponentSchema,
  priceSchema,
  tariffElementSchema,
  tariffRestrictionsSchema,
  tariffSchema,
} from './schema.js';
export type { MeterSample, UsageState } from './segments.js';
