/**
 * The Tariffs module of OCPI 2.2.1 (mod_tariffs.asciidoc). The schemas are the tariff engine's own
 * (domain/tariff/schema.ts), re-exported so that every OCPI object is reachable from one place and
 * a Tariff we send is checked by the same rules that price it.
 */
export {
  type DayOfWeek,
  type PriceComponent,
  type Tariff,
  type TariffDimensionType,
  type TariffElement,
  type TariffRestrictions,
  daysOfWeek,
  priceComponentSchema,
  reservationRestrictionTypes,
  tariffDimensionTypes,
  tariffElementSchema,
  tariffRestrictionsSchema,
  tariffSchema,
  tariffTypes,
} from '../../domain/tariff/schema.js';
export { priceSchema as tariffPriceSchema } from '../../domain/tariff/schema.js';

import type { tariffTypes, reservationRestrictionTypes } from '../../domain/tariff/schema.js';
export type TariffType = (typeof tariffTypes)[number];
export type ReservationRestrictionType = (typeof reservationRestrictionTypes)[number];
