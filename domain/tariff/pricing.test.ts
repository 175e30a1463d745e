import { describe, expect, it } from 'vitest';
import { element, energy, parkingTime, samples, tariff } from './fixtures/builders.js';
import { parseTariff, priceMeterSamples, type SessionPrice, type Tariff } from './index.js';

/**
 * min_price / max_price and VAT (mod_tariffs "Tariff Object" and its notes): the tariff gives each
 * bound excl. and incl. VAT, and both apply. When a bound with an incl_vat replaces the incl. VAT
 * total, that total is the bound's incl_vat and VAT applies to it, whether or not a component
 * priced anything (a 0 kWh session under a minimum price still owes the minimum's VAT).
 */

const zone = 'Europe/Amsterdam';
const price = (t: Tariff, kwh: number, minutes = 5): SessionPrice =>
  priceMeterSamples(parseTariff(t), samples('2025-03-03T10:00', zone, [{ minutes, kwh }]), { timeZone: zone });
const shown = (p: SessionPrice) => ({ excl: p.total_cost.excl_vat.rounded2, incl: p.total_cost.incl_vat.rounded2, vat: p.total_cost.vat_applicable });

/** ENERGY at 21 % VAT, PARKING_TIME at 9 %, a minimum of 1.00 / 1.21. */
const minPriced = tariff('MIN', [element([energy(0.3, 21, 1), parkingTime(2, 9, 60)])], { min_price: { excl_vat: 1, incl_vat: 1.21 } });

describe('min_price / max_price with VAT', () => {
  it('a 0 kWh session under a minimum price is charged the minimum with its VAT: 1.00 / 1.21', () => {
    const p = price(minPriced, 0);
    expect(shown(p)).toEqual({ excl: '1.00', incl: '1.21', vat: true });
    expect(p.price_limit_applied).toEqual({ excl_vat: 'MIN_PRICE', incl_vat: 'MIN_PRICE' });
    // The parts say what was priced: nothing, and no VAT.
    expect(p.total_energy_cost.vat_applicable).toBe(false);
  });

  it('a session above the minimum keeps its own totals', () => {
    expect(shown(price(minPriced, 10, 60))).toEqual({ excl: '3.00', incl: '3.63', vat: true });
  });

  it('a maximum price with incl_vat on a tariff whose components state no VAT makes the capped total VAT-applicable', () => {
    const capped = tariff('MAX', [element([energy(0.5, undefined, 1)])], { max_price: { excl_vat: 10, incl_vat: 12.1 } });
    expect(shown(price(capped, 50, 60))).toEqual({ excl: '10.00', incl: '12.10', vat: true });
    // Below the cap the components rule: no VAT stated.
    expect(shown(price(capped, 10, 60))).toEqual({ excl: '5.00', incl: '5.00', vat: false });
  });

  it('a bound without incl_vat leaves VAT as the components state it', () => {
    const noIncl = tariff('MIN-EXCL', [element([energy(0.3, undefined, 1)])], { min_price: { excl_vat: 1 } });
    expect(shown(price(noIncl, 0))).toMatchObject({ excl: '1.00', vat: false });
  });
});
