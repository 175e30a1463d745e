import { describe, expect, it } from 'vitest';
import { perKwh } from './fixtures/index.js';
import { type MeterSample, parseTariff, priceMeterSamples } from './index.js';

/** The engine's energy from meter samples: only what the register rose above its highest value so far. */
const zone = 'Europe/Amsterdam';
const tariff = parseTariff(perKwh);
const samplesOf = (registers: readonly number[]): MeterSample[] =>
  registers.map((energyWh, i) => ({ timestamp: new Date(Date.UTC(2025, 2, 3, 9, i * 10)).toISOString(), energyWh, state: 'CHARGING' }));

describe('segments from meter samples', () => {
  it('a register that drops and climbs back bills the climb once: 10000 → 10636 → 10000 → 10636 Wh is 0.636 kWh', () => {
    const price = priceMeterSamples(tariff, samplesOf([10000, 10636, 10000, 10636]), { timeZone: zone });
    expect(price.total_energy.fixed4).toBe('0.6360');
    expect(price.warnings).toEqual(['meter_samples.2.energyWh goes down by 636 Wh; priced as 0']);
  });

  it('a climb back above the highest register bills only the part above it', () => {
    const price = priceMeterSamples(tariff, samplesOf([10000, 10636, 10000, 10700]), { timeZone: zone });
    expect(price.total_energy.fixed4).toBe('0.7000');
  });

  it('registers are rounded to whole mWh one by one, so the intervals add up to last − first', () => {
    // 0.4 mWh per interval: rounding each difference would make every interval, and the session, 0.
    const price = priceMeterSamples(tariff, samplesOf([1000.0004, 1000.0008, 1000.0012, 1000.0016, 1000.002]), { timeZone: zone });
    expect(price.total_energy.decimal.times(1_000_000).toNumber()).toBe(2);
  });
});
