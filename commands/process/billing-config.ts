import type { OcpiCdr } from '../../domain/cdr/ocpi.js';

/**
 * What billing needs to know that no aggregate holds yet. Locations do not exist as an aggregate
 * yet, so a CDR's location fields and the time zone that tariff restrictions are read in come
 * from here. When the location aggregate lands, the issuer reads the station's location instead;
 * until then one site per tenant is assumed (documented in the report and ARCHITECTURE.md).
 */
/** An OCPI party: country code and party id, upper case. */
export interface OcpiPartyId {
  readonly countryCode: string;
  readonly partyId: string;
}

/**
 * Our CPO party when OCPI_COUNTRY_CODE / OCPI_PARTY_ID are unset (api/config.ts): one default, so
 * credentials, locations, sessions, tariffs and CDRs name one party.
 */
export const cpoPartyDefault: OcpiPartyId = { countryCode: 'NL', partyId: 'CSM' };

export interface BillingConfig {
  /**
   * Our OCPI identity as a CPO: CDR country_code / party_id, the cdr_token of our own tokens and
   * evse_id placeholders. Always the OCPI CPO role (billingConfigFor), never a setting of its own.
   */
  readonly cpo: OcpiPartyId;
  /** IANA zone in which tariff restrictions (time of day, day of week) are evaluated. */
  readonly timeZone: string;
  /** Currency of a CDR when no tariff applies (a free session). */
  readonly currencyWhenFree: string;
  /**
   * VAT rate (percent, decimal string) the ledger posts a CDR's VAT at when its tariff snapshot
   * names no rate and its figures state none exactly (domain/ledger/vat.ts); null: such a CDR's
   * entry is refused, recorded as an issuer failure and counted (csms_cdr_issuer_refusals_total).
   */
  readonly vatRateFallbackPercent: string | null;
  /** Location fields of a CDR whose station is in no location (the locations read model). */
  readonly location: Omit<OcpiCdr['cdr_location'], 'evse_uid' | 'evse_id' | 'connector_id'>;
}

/**
 * Where a session charged, as the CDR names it: the location and EVSE the operator assigned the
 * station's EVSE to (the locations read model), and the zone its tariff restrictions are read in.
 */
export interface CdrSite {
  readonly location: OcpiCdr['cdr_location'];
  readonly timeZone: string;
}

/** Looks up the site of a station's EVSE and connector; null when it is in no location (placeholders apply). */
export type CdrSiteLookup = (tenantId: string, stationId: string, evseId: number, connectorId: number) => Promise<CdrSite | null>;

export const billingConfigDefault: BillingConfig = {
  cpo: cpoPartyDefault,
  timeZone: 'Europe/Amsterdam',
  currencyWhenFree: 'EUR',
  vatRateFallbackPercent: null,
  location: {
    id: 'LOC-DEFAULT',
    name: 'Default location',
    address: 'Unknown',
    city: 'Unknown',
    country: 'NLD',
    coordinates: { latitude: '52.37403', longitude: '4.88969' },
    connector_standard: 'IEC_62196_T2',
    connector_format: 'SOCKET',
    connector_power_type: 'AC_3_PHASE',
  },
};

/** The billing config of our CPO party (the first CPO role of the OCPI settings, ocpi/plugin.ts ourParty). */
export function billingConfigFor(cpo: OcpiPartyId, base: BillingConfig = billingConfigDefault): BillingConfig {
  return { ...base, cpo: { countryCode: cpo.countryCode.toUpperCase(), partyId: cpo.partyId.toUpperCase() } };
}

/**
 * What `csms serve` and `csms cdr credit` bill with: our CPO party and the operator's fallback VAT
 * rate (BILLING_VAT_RATE_FALLBACK, api/config.ts), so both post a CDR's VAT the same way.
 */
export function billingConfigOf(cpo: OcpiPartyId, settings: { readonly vatRateFallbackPercent: string | null }): BillingConfig {
  return { ...billingConfigFor(cpo), vatRateFallbackPercent: settings.vatRateFallbackPercent };
}
