import { describe, expect, it } from 'vitest';
import { type PeriodQuantities, periodVolumesOf } from './period-volumes.js';

/** Consecutive periods of `seconds` and `mwh` each, from 0. */
function periods(...list: [PeriodQuantities['state'], number, number][]): PeriodQuantities[] {
  let startMs = 0;
  return list.map(([state, seconds, mwh]) => {
    const period = { state, startMs, endMs: startMs + seconds * 1000, energyMWh: mwh };
    startMs = period.endMs;
    return period;
  });
}

describe('charging period volumes: cumulative rounding to the totals', () => {
  it('0.05 Wh in each of three periods: 0.0001, 0.0000, 0.0001 (= 0.0002, the total), not 0.0001 three times', () => {
    const volumes = periodVolumesOf(periods(['CHARGING', 60, 50], ['PARKING', 60, 50], ['CHARGING', 60, 50]), '0.0002');
    expect(volumes.map((v) => v.energy)).toEqual(['0.0001', '0.0000', '0.0001']);
    // TIME 0.0167 + 0.0166, PARKING_TIME 0.0167: 0.0500 together, the 3 minutes rounded once.
    expect(volumes.map((v) => v.duration)).toEqual(['0.0167', '0.0167', '0.0166']);
  });

  it('a metered total a step below the whole-mWh periods: the bounds are kept at the total, no volume goes negative', () => {
    const volumes = periodVolumesOf(periods(['CHARGING', 30, 25], ['PARKING', 30, 25], ['PARKING', 0, 0]), '0.0000');
    expect(volumes.map((v) => v.energy)).toEqual(['0.0000', '0.0000', '0.0000']);
  });

  it('reservation periods carry no ENERGY and their RESERVATION_TIME rounds on its own', () => {
    const volumes = periodVolumesOf(periods(['RESERVATION', 20, 0], ['RESERVATION', 20, 0], ['CHARGING', 3600, 11_000_000]), '11.0000');
    expect(volumes).toEqual([
      { energy: null, duration: '0.0056' },
      { energy: null, duration: '0.0055' },
      { energy: '11.0000', duration: '1.0000' },
    ]);
  });

  it('a total with no period to carry it is a bug', () => {
    expect(() => periodVolumesOf(periods(['RESERVATION', 60, 0]), '0.0010')).toThrow(/no period to carry 0.001/);
  });
});
