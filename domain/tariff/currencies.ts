/**
 * ISO 4217 currency codes in circulation, with their minor units (fund codes left out, as in
 * domain/cdr/money.ts, so a tariff the engine accepts is one a CDR can be issued in). OCPI 2.2.1 Tariff.currency is "ISO-4217 code of the currency of this tariff";
 * a code outside this list is refused rather than priced in an unknown unit. Precious metals and
 * test codes (XAU, XTS, XXX...) are left out: no charging tariff is priced in them.
 */
const minorUnitsByCurrency: Readonly<Record<string, number>> = Object.freeze({
  ...codes(2, `AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BMD BND BOB BRL BSD BTN
    BWP BYN BZD CAD CDF CHF COP CRC CUP CVE CZK DKK DOP DZD EGP ERN ETB EUR FJD FKP
    GBP GEL GHS GIP GMD GTQ GYD HKD HNL HTG HUF IDR ILS INR IRR JMD KES KGS KHR KPW KYD KZT LAK LBP
    LKR LRD LSL MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD
    PAB PEN PGK PHP PKR PLN QAR RON RSD RUB SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC
    SYP SZL THB TJS TMT TOP TRY TTD TWD TZS UAH USD UYU UZS VES WST XCD YER ZAR ZMW ZWG`),
  ...codes(0, 'BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX VND VUV XAF XOF XPF'),
  ...codes(3, 'BHD IQD JOD KWD LYD OMR TND'),
});

function codes(minorUnits: number, list: string): Record<string, number> {
  return Object.fromEntries(list.split(/\s+/).filter(Boolean).map((code) => [code, minorUnits]));
}

export function isKnownCurrency(code: string): boolean {
  return Object.hasOwn(minorUnitsByCurrency, code);
}

/**
 * Decimals of the currency's minor unit (EUR 2, JPY 0, KWD 3). The engine reports `rounded2`
 * as asked for EUR-style money; a ledger in JPY or KWD should round with this instead.
 */
export function currencyMinorUnits(code: string): number {
  const units = minorUnitsByCurrency[code];
  if (units === undefined) throw new Error(`unknown currency ${code}`);
  return units;
}
