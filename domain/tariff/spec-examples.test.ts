import { Decimal } from 'decimal.js';
import { describe, expect, it } from 'vitest';
import { specScenarios } from './fixtures/index.js';
import type { Scenario } from './fixtures/builders.js';
import { parseTariff, priceChargingPeriods, priceMeterSamples, type SessionPrice } from './index.js';

function price(s: Scenario): SessionPrice {
  const tariff = parseTariff(s.tariff);
  const options = { timeZone: s.timeZone, reservationExpired: s.reservationExpired ?? false };
  return 'meterSamples' in s.usage
    ? priceMeterSamples(tariff, s.usage.meterSamples, options)
    : priceChargingPeriods(tariff, s.usage.chargingPeriods, { ...options, endDateTime: s.usage.endDateTime });
}

describe('OCPI 2.2.1 worked tariff examples', () => {
  it.each(specScenarios.map((s) => [s.name, s] as const))('%s', (_name, s) => {
    const result = price(s);
    const { excl_vat, incl_vat } = result.total_cost;
    if (s.expected.compare === 'exact') {
      expect(excl_vat.decimal.eq(s.expected.excl_vat), `excl ${excl_vat.fixed4} (${s.source})`).toBe(true);
      expect(incl_vat.decimal.eq(s.expected.incl_vat), `incl ${incl_vat.fixed4} (${s.source})`).toBe(true);
    } else {
      expect(excl_vat.rounded2).toBe(s.expected.excl_vat);
      expect(incl_vat.rounded2).toBe(s.expected.incl_vat);
    }
    for (const [part, value] of Object.entries(s.parts ?? {})) {
      const actual = result[part as keyof NonNullable<Scenario['parts']>].excl_vat;
      expect(actual.decimal.eq(new Decimal(value)), `${part} ${actual.fixed4}`).toBe(true);
    }
  });
});
