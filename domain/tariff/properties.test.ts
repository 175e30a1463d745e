import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { byMaxDuration, byMaxPower, complex, perKwhParkingAndStartFee, perKwhStartFeeMaxPrice, perKwhWithMinPrice, reservationFeeAndPerHour, stepSizes } from './fixtures/index.js';
import { type MeterSample, parseTariff, priceMeterSamples, type SessionPrice, type Tariff } from './index.js';

/**
 * Properties over random sessions. Energies are whole Wh per minute and powers are given, so
 * adding energy never changes which power/current element applies (that is a tariff choice, not
 * a pricing property).
 */
const zone = 'Europe/Amsterdam';
const tariffs = [complex, stepSizes, byMaxPower, byMaxDuration, perKwhParkingAndStartFee, perKwhStartFeeMaxPrice, perKwhWithMinPrice, reservationFeeAndPerHour].map((t) => parseTariff(t));

interface Stretch {
  minutes: number;
  whPerMinute: number;
  state: MeterSample['state'];
  currentA: number;
  powerKw: number;
}
const stretch = fc.record({
  minutes: fc.integer({ min: 0, max: 180 }),
  whPerMinute: fc.integer({ min: 0, max: 1000 }),
  state: fc.constantFrom<MeterSample['state']>('CHARGING', 'CHARGING', 'PARKING'),
  currentA: fc.integer({ min: 6, max: 64 }),
  powerKw: fc.integer({ min: 1, max: 150 }),
});
const session = fc.record({
  tariff: fc.constantFrom(...tariffs),
  startMs: fc.integer({ min: Date.UTC(2024, 0, 1), max: Date.UTC(2025, 0, 1) }).map((ms) => Math.floor(ms / 60_000) * 60_000),
  stretches: fc.array(stretch, { minLength: 1, maxLength: 20 }),
});

function toSamples(startMs: number, stretches: readonly Stretch[]): MeterSample[] {
  let t = startMs;
  let wh = 0;
  const out: MeterSample[] = [];
  for (const s of stretches) {
    out.push({ timestamp: new Date(t).toISOString(), energyWh: wh, state: s.state, currentA: s.currentA, powerW: s.powerKw * 1000 });
    t += s.minutes * 60_000;
    wh += s.whPerMinute * s.minutes;
  }
  out.push({ timestamp: new Date(t).toISOString(), energyWh: wh, state: 'PARKING' });
  return out;
}
const price = (tariff: Tariff, startMs: number, stretches: readonly Stretch[]): SessionPrice => priceMeterSamples(tariff, toSamples(startMs, stretches), { timeZone: zone });
const excl = (p: SessionPrice) => p.total_cost.excl_vat.decimal;
const withoutStepSizes = (tariff: Tariff): Tariff => ({
  ...tariff,
  elements: tariff.elements.map((element) => ({ ...element, price_components: element.price_components.map((component) => ({ ...component, step_size: 1 })) })),
});
const incl = (p: SessionPrice) => p.total_cost.incl_vat.decimal;

describe('pricing properties', () => {
  it('cost is never negative', () => {
    fc.assert(
      fc.property(session, ({ tariff, startMs, stretches }) => {
        const p = price(tariff, startMs, stretches);
        expect(excl(p).isNegative()).toBe(false);
        expect(incl(p).gte(excl(p))).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('more energy in any stretch never lowers the cost', () => {
    fc.assert(
      fc.property(session, fc.nat(), fc.integer({ min: 1, max: 500 }), ({ tariff, startMs, stretches }, pick, extraWh) => {
        const i = pick % stretches.length;
        const more = stretches.map((s, j) => (j === i ? { ...s, whPerMinute: s.whPerMinute + extraWh } : s));
        expect(excl(price(tariff, startMs, more)).gte(excl(price(tariff, startMs, stretches)))).toBe(true);
        expect(incl(price(tariff, startMs, more)).gte(incl(price(tariff, startMs, stretches)))).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  // Without step sizes: OCPI rounds a dimension up to its step only in the last period that prices
  // it (mod_cdrs, step_size), so a session that goes on into another element (e.g. past midnight
  // into the weekend price) loses an earlier element's round-up and may cost a little less
  // (seed 336147757: 11.00 -> 10.9625 two minutes later). That is the spec, not a fault.
  it('a longer last stretch (the session goes on) never lowers the cost, step sizes aside', () => {
    fc.assert(
      fc.property(session, fc.integer({ min: 1, max: 240 }), ({ tariff: stepped, startMs, stretches }, extraMinutes) => {
        const tariff = withoutStepSizes(stepped);
        const last = stretches.length - 1;
        const longer = stretches.map((s, j) => (j === last ? { ...s, minutes: s.minutes + extraMinutes } : s));
        expect(excl(price(tariff, startMs, longer)).gte(excl(price(tariff, startMs, stretches)))).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('splitting a stretch in two with the same values never changes the total', () => {
    fc.assert(
      fc.property(session, fc.nat(), fc.nat(), ({ tariff, startMs, stretches }, pick, at) => {
        const i = pick % stretches.length;
        const s = stretches[i]!;
        const first = at % (s.minutes + 1);
        const split = [...stretches.slice(0, i), { ...s, minutes: first }, { ...s, minutes: s.minutes - first }, ...stretches.slice(i + 1)];
        const a = price(tariff, startMs, stretches);
        const b = price(tariff, startMs, split);
        expect(excl(b).eq(excl(a))).toBe(true);
        expect(incl(b).eq(incl(a))).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('known exception, by the mod_cdrs step_size rule: the first parked minute can lower the running cost', () => {
    // 35 min charging is billed 45 min (TIME rounded); once parking follows, charging is billed
    // as measured and only parking is rounded (ARCHITECTURE.md, Rounding, "TIME followed by PARKING_TIME").
    const start = Date.UTC(2024, 4, 14, 14, 35); // 16:35 in Amsterdam
    const charging: Stretch = { minutes: 35, whPerMinute: 100, state: 'CHARGING', currentA: 16, powerKw: 11 };
    const before = price(tariffs[1]!, start, [charging]);
    const after = price(tariffs[1]!, start, [charging, { ...charging, minutes: 1, whPerMinute: 0, state: 'PARKING' }]);
    expect(before.total_cost.excl_vat.fixed4).toBe('1.3000');
    expect(after.total_cost.excl_vat.fixed4).toBe('1.1500');
  });
});
