import { describe, expect, it } from 'vitest';
import { element, samples, tariff, time } from './fixtures/index.js';
import { parseTariff, priceMeterSamples } from './index.js';

/**
 * Restrictions are local to the Location (TariffRestrictions class): a night window 22:00-06:00
 * crosses midnight, and on DST nights the real length of the window is 7 h or 9 h.
 */
const zone = 'Europe/Amsterdam';
const night = parseTariff(tariff('night', [element([time(1, 21, 1)], { start_time: '22:00', end_time: '06:00' }), element([time(3, 21, 1)])]));
const charge = (startLocal: string, hours: number) => priceMeterSamples(night, samples(startLocal, zone, [{ minutes: hours * 60, kwh: 30 }]), { timeZone: zone });

describe('night tariff in Europe/Amsterdam', () => {
  it('crosses midnight: 21:00-07:00 is 1 h day, 8 h night, 1 h day', () => {
    const result = charge('2024-05-14T21:00', 10);
    expect(result.total_cost.excl_vat.fixed4).toBe('14.0000');
    expect(result.charging_periods.map((p) => [p.tariff_element_index.TIME, p.duration.fixed4])).toEqual([
      [1, '1.0000'],
      [0, '8.0000'],
      [1, '1.0000'],
    ]);
  });

  it('spring forward (31 March 2024): the night has 7 real hours', () => {
    const result = charge('2024-03-30T21:00', 9); // 21:00 CET to 07:00 CEST is 9 real hours
    expect(result.charging_periods.at(-1)!.end_date_time).toBe('2024-03-31T05:00:00.000Z');
    expect(result.total_cost.excl_vat.fixed4).toBe('13.0000'); // 1×3 + 7×1 + 1×3
  });

  it('fall back (27 October 2024): the night has 9 real hours', () => {
    const result = charge('2024-10-26T21:00', 11); // 21:00 CEST to 07:00 CET is 11 real hours
    expect(result.charging_periods.at(-1)!.end_date_time).toBe('2024-10-27T06:00:00.000Z');
    expect(result.total_cost.excl_vat.fixed4).toBe('15.0000'); // 1×3 + 9×1 + 1×3
  });

  const peak = parseTariff(tariff('peak', [element([time(10, 21, 1)], { start_time: '02:30', end_time: '03:30' }), element([time(0, 21, 1)])]));
  it('a window starting at 02:30 on the spring-forward night only has 03:00-03:30', () => {
    const result = priceMeterSamples(peak, samples('2024-03-31T00:00', zone, [{ minutes: 240, kwh: 10 }]), { timeZone: zone });
    expect(result.total_cost.excl_vat.fixed4).toBe('5.0000');
  });
  it('a window 02:30-03:30 on the fall-back night lasts 90 real minutes (02:30-03:00 happens twice)', () => {
    const result = priceMeterSamples(peak, samples('2024-10-27T00:00', zone, [{ minutes: 360, kwh: 10 }]), { timeZone: zone });
    expect(result.total_cost.excl_vat.fixed4).toBe('15.0000');
  });

  it('day_of_week is the local day: a Friday-night window does not continue into Saturday 00:00-06:00', () => {
    const friday = parseTariff(tariff('fri', [element([time(1, 21, 1)], { start_time: '22:00', end_time: '06:00', day_of_week: ['FRIDAY'] }), element([time(3, 21, 1)])]));
    const result = priceMeterSamples(friday, samples('2024-05-17T22:00', zone, [{ minutes: 240, kwh: 10 }]), { timeZone: zone });
    expect(result.total_cost.excl_vat.fixed4).toBe('8.0000'); // 2 h Friday at 1.00 + 2 h Saturday at 3.00
  });
});
