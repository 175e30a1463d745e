import { describe, expect, it } from 'vitest';
import { element, energy, flat, perKwh, samples, tariff, time } from './fixtures/index.js';
import { InvalidTariffError, parseTariff, priceMeterSamples, tariffLimits } from './index.js';
import type { Tariff, TariffRestrictions } from './schema.js';

function issuesOf(input: unknown): string[] {
  try {
    parseTariff(input);
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidTariffError);
    return (error as InvalidTariffError).issues.map((i) => `${i.path}: ${i.message}`);
  }
  throw new Error('expected the tariff to be refused');
}
const restricted = (r: TariffRestrictions): Tariff => tariff('x', [element([time(1, 20, 60)], r), element([time(2, 20, 60)])]);

describe('parseTariff refuses bad tariffs with the field and the reason', () => {
  it.each([
    ['negative price', tariff('x', [element([energy(-0.25, 10, 1)])]), 'elements.0.price_components.0.price'],
    ['unknown currency', { ...perKwh, currency: 'XYZ' }, 'currency: XYZ is not an ISO 4217'],
    ['min_kwh above max_kwh', restricted({ min_kwh: 20, max_kwh: 10 }), 'elements.0.restrictions.min_kwh'],
    ['min_power equal to max_power', restricted({ min_power: 11, max_power: 11 }), 'never matches'],
    ['hour 25', restricted({ start_time: '25:00' }), 'elements.0.restrictions.start_time'],
    ['time without leading zero', restricted({ end_time: '9:00' }), 'HH:MM'],
    ['start_time equal to end_time', restricted({ start_time: '10:00', end_time: '10:00' }), 'ambiguous'],
    ['30 February', restricted({ start_date: '2024-02-30' }), 'not a calendar date'],
    ['end_date before start_date', restricted({ start_date: '2024-05-01', end_date: '2024-04-01' }), 'end_date is exclusive'],
    ['day listed twice', restricted({ day_of_week: ['MONDAY', 'MONDAY'] }), 'lists a day twice'],
    ['two ENERGY components in one element', tariff('x', [element([energy(0.2, 10, 1), energy(0.3, 10, 1)])]), 'ambiguous'],
    ['element shadowed by an unrestricted one', tariff('x', [element([energy(0.2, 10, 1)]), element([energy(0.3, 10, 1)], { max_power: 11 })]), 'elements.1: is never used'],
    ['min_price above max_price', { ...perKwh, min_price: { excl_vat: 5 }, max_price: { excl_vat: 4 } }, 'min_price.excl_vat'],
    ['VAT above 100 %', tariff('x', [element([energy(0.2, 120, 1)])]), 'above 100'],
    ['price with 9 decimals', tariff('x', [element([energy(0.123456789, 10, 1)])]), 'more than 8 decimals'],
    ['no elements', { ...perKwh, elements: [] }, 'elements'],
    ['end_date_time before start_date_time', { ...perKwh, start_date_time: '2024-02-01T00:00:00Z', end_date_time: '2024-01-01T00:00:00Z' }, 'end_date_time'],
    ['timestamp with an offset', { ...perKwh, last_updated: '2024-01-01T00:00:00+02:00' }, 'last_updated'],
    ['party_id of 2 characters', { ...perKwh, party_id: 'AB' }, 'party_id'],
  ])('%s', (_name, input, expected) => {
    expect(issuesOf(input).join('\n')).toContain(expected);
  });

  it(`refuses more than tariffElementsMax (${tariffLimits.tariffElementsMax}) elements`, () => {
    const elements = Array.from({ length: tariffLimits.tariffElementsMax + 1 }, (_, i) => element([energy(0.2, 10, 1)], { min_kwh: i }));
    expect(issuesOf(tariff('x', elements)).join()).toContain('elements');
  });

  it('lists every issue at once', () => {
    expect(issuesOf({ ...tariff('x', [element([energy(-1, 10, 1), flat(1), flat(2)])]), currency: 'EURO' }).length).toBeGreaterThanOrEqual(3);
  });

  it('accepts a tariff with every restriction', () => {
    const r: TariffRestrictions = {
      start_time: '22:00', end_time: '06:00', start_date: '2024-01-01', end_date: '2025-01-01', min_kwh: 0, max_kwh: 50,
      min_current: 6, max_current: 32, min_power: 0, max_power: 22, min_duration: 0, max_duration: 7200, day_of_week: ['FRIDAY'],
    };
    expect(() => parseTariff(restricted(r))).not.toThrow();
  });
});

describe('pricing input limits', () => {
  const zone = 'Europe/Amsterdam';
  it('refuses an unknown time zone', () => {
    expect(() => priceMeterSamples(perKwh, samples('2024-05-14T10:00', zone, [{ minutes: 10, kwh: 1 }]), { timeZone: 'Mars/Olympus' })).toThrow(/IANA/);
  });
  it('refuses samples that go back in time', () => {
    const s = samples('2024-05-14T10:00', zone, [{ minutes: 10, kwh: 1 }]);
    expect(() => priceMeterSamples(perKwh, [s[1]!, s[0]!], { timeZone: zone })).toThrow(/earlier/);
  });
  it(`refuses more than meterSamplesMax (${tariffLimits.meterSamplesMax}) samples`, () => {
    const many = Array.from({ length: tariffLimits.meterSamplesMax + 1 }, (_, i) => ({ timestamp: new Date(1.7e12 + i * 1000).toISOString(), energyWh: i, state: 'CHARGING' as const }));
    expect(() => priceMeterSamples(perKwh, many, { timeZone: zone })).toThrow(/samples/);
  });
  it('prices a falling energy register as no energy, with a warning', () => {
    const s = samples('2024-05-14T10:00', zone, [{ minutes: 10, kwh: 2 }, { minutes: 10, kwh: -1 }]);
    const result = priceMeterSamples(perKwh, s, { timeZone: zone });
    expect(result.total_cost.excl_vat.fixed4).toBe('0.5000');
    expect(result.warnings[0]).toMatch(/goes down/);
  });
});
