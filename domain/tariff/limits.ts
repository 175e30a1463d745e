/**
 * Named limits of the tariff engine (docs/style.md: "a limit on everything"). Each one bounds memory or
 * time for input that comes from partners (OCPI PUT tariff) or from stations (meter samples).
 */

/** OCPI puts no bound on `elements`; 100 is far above any real tariff (the spec's largest has 6). */
export const tariffElementsMax = 100;
/** One component per TariffDimensionType at most (duplicates are refused as ambiguous), so 4. */
export const priceComponentsPerElementMax = 4;
/** DisplayText entries in `tariff_alt_text`: one per language is plenty. */
export const tariffAltTextMax = 50;
/** EnergyMix lists (sources, environmental impact). */
export const energyMixEntriesMax = 50;
/** Meter samples per session: one sample per second for 24 h is 86,400. */
export const meterSamplesMax = 100_000;
/** Charging periods given as input (OCPI CDR `charging_periods`). */
export const chargingPeriodsMax = 10_000;
/** Slices after cutting at every restriction boundary; bounds the pricing loop. */
export const pricingSlicesMax = 200_000;
/** A session longer than this (incl. reservation and parking) is refused: 31 days in ms. */
export const sessionDurationMaxMs = 31 * 24 * 3600 * 1000;
/**
 * Prices are held exactly as integers of 1e-8 currency units; more decimals than this are refused
 * rather than silently rounded (OCPI numbers use 4 decimals, types.asciidoc "number").
 */
export const priceDecimalsMax = 8;
/** VAT percentages are held as integers of 1e-4 percent. */
export const vatDecimalsMax = 4;
/** A VAT rate above 100 % is a typo, not a rate. */
export const vatPercentMax = 100;
/** step_size is an int (Wh or seconds); more than a day of seconds or a MWh is a data error. */
export const stepSizeMax = 1_000_000;
/** Hours cached per time zone for UTC offsets before the cache is dropped (~11 years). */
export const zoneOffsetCacheHoursMax = 100_000;
