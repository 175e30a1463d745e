/**
 * The currencies the engine accepts, with their minor units: the one list for tariffs, CDRs, the
 * ledger and settlement (domain/cdr/money.ts derives `currencyCodes` and `currencyCode` from it), so
 * a currency a tariff may be priced in is one a CDR can be issued and posted in, and every one has
 * a minor unit to round and post to. ISO 4217 codes in circulation (list of 2024); OCPI 2.2.1
 * Tariff.currency is "ISO-4217 code of the currency of this tariff". A code outside this list is
 * refused rather than priced in an unknown unit: a typo here would split a ledger into two
 * currencies. Fund codes (BOV, CLF, MXV...), precious metals and test codes (XAU, XTS, XXX...) are
 * left out: no charging tariff is priced in them.
 */
const minorUnitsByCurrency: ReadonlyMap<string, number> = new Map([
  ...codes(2, `AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BMD BND BOB BRL BSD BTN
    BWP BYN BZD CAD CDF CHF CNY COP CRC CUP CVE CZK DKK DOP DZD EGP ERN ETB EUR FJD FKP
    GBP GEL GHS GIP GMD GTQ GYD HKD HNL HTG HUF IDR ILS INR IRR JMD KES KGS KHR KPW KYD KZT LAK LBP
    LKR LRD LSL MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD
    PAB PEN PGK PHP PKR PLN QAR RON RSD RUB SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC
    SYP SZL THB TJS TMT TOP TRY TTD TWD TZS UAH USD UYU UZS VED VES WST XCD YER ZAR ZMW ZWG`),
  ...codes(0, 'BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX VND VUV XAF XOF XPF'),
  ...codes(3, 'BHD IQD JOD KWD LYD OMR TND'),
]);

function codes(minorUnits: number, list: string): [string, number][] {
  return list.split(/\s+/).filter(Boolean).map((code) => [code, minorUnits]);
}

/** Every accepted code, in alphabetical order. */
export const knownCurrencies: readonly string[] = Object.freeze([...minorUnitsByCurrency.keys()].sort());

export function isKnownCurrency(code: string): boolean {
  return minorUnitsByCurrency.has(code);
}

/**
 * Decimals of the currency's minor unit (EUR 2, JPY 0, KWD 3). The engine reports `rounded2`
 * as asked for EUR-style money; a ledger in JPY or KWD should round with this instead.
 */
export function currencyMinorUnits(code: string): number {
  const units = minorUnitsByCurrency.get(code);
  if (units === undefined) throw new Error(`unknown currency ${code}`);
  return units;
}
