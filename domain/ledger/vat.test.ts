import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { creditCdrFrom } from '../cdr/credit.js';
import { InvalidCommandError } from '../shared/errors.js';
import { sampleIssued, sampleTariff } from '../cdr/fixtures.js';
import { Money } from '../cdr/money.js';
import { currencyMinorUnits } from '../tariff/currencies.js';
import { linesForCdr } from './entries.js';
import { vatSharesOf } from './vat.js';

/** Energy and time at 21 %, parking at 9 %: the money-day tariff's two rates. */
const twoRateTariff = {
  ...sampleTariff,
  elements: [
    { price_components: [{ type: 'ENERGY', price: 0.3, vat: 21 }, { type: 'TIME', price: 1.2, vat: 21 }] },
    { price_components: [{ type: 'PARKING_TIME', price: 2.5, vat: 9 }] },
  ],
};

const shareRows = (shares: ReturnType<typeof vatSharesOf>) => shares.map((share) => [share.ratePercent, share.amount.toFixed()]);

describe('vatSharesOf with several rates', () => {
  it('splits the charged VAT in whole cents, by largest remainder, though the parts VAT is not whole cents', () => {
    // 4-decimal OCPI parts: energy VAT 1.2859 (21 %), parking VAT 0.0789 (9 %): 1.3648 together; charged 1.36.
    // In cents: 136 × 1.2859 / 1.3648 = 128.14 and 136 × 0.0789 / 1.3648 = 7.86; the cent left goes to 9 %.
    const issued = sampleIssued({
      tariffs: [twoRateTariff],
      total_fixed_cost: undefined,
      total_energy_cost: { excl_vat: '6.1234', incl_vat: '7.4093' },
      total_parking_cost: { excl_vat: '0.8766', incl_vat: '0.9555' },
      total_cost: { excl_vat: '7.00', incl_vat: '8.36' },
    });
    expect(shareRows(vatSharesOf(issued))).toEqual([
      ['9', '0.08'],
      ['21', '1.28'],
    ]);
    expect(linesForCdr(issued).lines.map((line) => [line.account, line.side, line.amount])).toEqual([
      ['receivable:emsp:DE-EMP', 'debit', '8.36'],
      ['revenue:charging', 'credit', '7'],
      ['vat-payable:9', 'credit', '0.08'],
      ['vat-payable:21', 'credit', '1.28'],
    ]);
    const credit = creditCdrFrom(issued, 'CDR-1-C', '2025-03-05T09:00:00Z');
    expect(shareRows(vatSharesOf(credit))).toEqual([
      ['9', '-0.08'],
      ['21', '-1.28'],
    ]);
  });

  it('breaks a tie of remainders towards the higher rate', () => {
    // Parts VAT 0.005 at each rate, charged 0.01: half a cent each, the cent goes to 21 %.
    const issued = sampleIssued({
      tariffs: [twoRateTariff],
      total_fixed_cost: undefined,
      total_energy_cost: { excl_vat: '0.0238', incl_vat: '0.0288' },
      total_parking_cost: { excl_vat: '0.0556', incl_vat: '0.0606' },
      total_cost: { excl_vat: '0.08', incl_vat: '0.09' },
    });
    expect(shareRows(vatSharesOf(issued))).toEqual([['21', '0.01']]);
  });

  it('counts reservation VAT at the rate of the reservation elements (TIME and FLAT with a reservation restriction)', () => {
    // Reserved time and the reservation fee at 9 %, the session's energy and time at 21 %: the two
    // TIME components are told apart by the reservation restriction, not taken as one ambiguous rate.
    const reservationTariff = {
      ...sampleTariff,
      elements: [
        { price_components: [{ type: 'TIME', price: 1.2, vat: 9 }, { type: 'FLAT', price: 2, vat: 9 }], restrictions: { reservation: 'RESERVATION' } },
        { price_components: [{ type: 'ENERGY', price: 0.3, vat: 21 }, { type: 'TIME', price: 1.2, vat: 21 }] },
      ],
    };
    // VAT of the parts: 21 % 1.26 + 0.252 = 1.512, 9 % 0.234; charged 1.75 = 175 cents:
    // 175 × 1.512 / 1.746 = 151.55 and 175 × 0.234 / 1.746 = 23.45; the cent left goes to 21 %.
    const issued = sampleIssued({
      tariffs: [reservationTariff],
      total_fixed_cost: undefined,
      total_energy_cost: { excl_vat: '6.0000', incl_vat: '7.2600' },
      total_time_cost: { excl_vat: '1.2000', incl_vat: '1.4520' },
      total_reservation_cost: { excl_vat: '2.6000', incl_vat: '2.8340' },
      total_cost: { excl_vat: '9.80', incl_vat: '11.55' },
    });
    expect(shareRows(vatSharesOf(issued))).toEqual([
      ['9', '0.23'],
      ['21', '1.52'],
    ]);
    // A reservation that is all the CDR charged: its VAT all at 9 %, though 21 % is the session's rate too.
    const onlyReserved = sampleIssued({
      tariffs: [reservationTariff],
      total_fixed_cost: undefined,
      total_energy_cost: { excl_vat: '0.0000', incl_vat: '0.0000' },
      total_reservation_cost: { excl_vat: '2.0000', incl_vat: '2.1800' },
      total_cost: { excl_vat: '2.00', incl_vat: '2.18' },
    });
    expect(shareRows(vatSharesOf(onlyReserved))).toEqual([['9', '0.18']]);
  });

  it('refuses reservation VAT whose reservation elements disagree on the rate, naming the total', () => {
    const tariff = {
      ...sampleTariff,
      elements: [
        { price_components: [{ type: 'TIME', price: 1.2, vat: 9 }, { type: 'FLAT', price: 2, vat: 21 }], restrictions: { reservation: 'RESERVATION_EXPIRES' } },
        { price_components: [{ type: 'ENERGY', price: 0.3, vat: 21 }] },
      ],
    };
    const issued = sampleIssued({
      tariffs: [tariff],
      total_fixed_cost: undefined,
      total_energy_cost: { excl_vat: '6.0000', incl_vat: '7.2600' },
      total_reservation_cost: { excl_vat: '2.6000', incl_vat: '3.0740' },
      total_cost: { excl_vat: '8.60', incl_vat: '10.33' },
    });
    expect(() => vatSharesOf(issued)).toThrow(/total_reservation_cost has VAT but its rate in the tariff snapshot is ambiguous/);
  });

  it('property: every line is whole minor units of its currency (JPY, EUR, KWD) and the lines sum to the charged totals exactly', () => {
    const partExcl = fc.integer({ min: 0, max: 10_000_000 }).map((n) => new Money(n).dividedBy(10_000));
    const rate = fc.integer({ min: 0, max: 250_000 }).map((n) => new Money(n).dividedBy(10_000));
    const nudgeQuanta = fc.integer({ min: -3, max: 3 });
    fc.assert(
      fc.property(
        fc.constantFrom('JPY', 'EUR', 'KWD'),
        fc.tuple(partExcl, partExcl, partExcl),
        fc.tuple(rate, rate),
        nudgeQuanta,
        (currency, [energy, time, parking], [highRate, lowRate], nudge) => {
          fc.pre(!highRate.eq(lowRate));
          const places = currencyMinorUnits(currency);
          const quantum = new Money(10).pow(-places);
          const part = (excl: Money, ratePercent: Money) => ({ excl_vat: excl.toFixed(4), incl_vat: excl.times(ratePercent.dividedBy(100).plus(1)).toFixed(4) });
          const parts = { total_energy_cost: part(energy, highRate), total_time_cost: part(time, highRate), total_parking_cost: part(parking, lowRate) };
          const exclCharged = energy.plus(time).plus(parking).toDecimalPlaces(places);
          // The charged total: the parts' incl. VAT rounded, off by a few minor units as a min/max price or the rounding of each total may leave it.
          const partsIncl = Object.values(parts).reduce((sum, price) => sum.plus(price.incl_vat), new Money(0));
          const inclCharged = Money.max(exclCharged, partsIncl.toDecimalPlaces(places).plus(quantum.times(nudge)));
          const tariff = {
            ...sampleTariff,
            currency,
            elements: [
              { price_components: [{ type: 'ENERGY', price: 0.3, vat: highRate.toNumber() }, { type: 'TIME', price: 1, vat: highRate.toNumber() }] },
              { price_components: [{ type: 'PARKING_TIME', price: 2, vat: lowRate.toNumber() }] },
            ],
          };
          const issued = sampleIssued({
            currency,
            tariffs: [tariff],
            total_fixed_cost: undefined,
            ...parts,
            total_cost: { excl_vat: exclCharged.toFixed(places), incl_vat: inclCharged.toFixed(places) },
          });
          for (const cdr of [issued, creditCdrFrom(issued, 'C', '2025-03-05T09:00:00Z')]) {
            const sign = cdr.cdr.credit === true ? -1 : 1;
            let shares: ReturnType<typeof vatSharesOf>;
            try {
              shares = vatSharesOf(cdr);
            } catch (error) {
              // Charged VAT with no part carrying any (all parts free of VAT at these rates) has nothing to split by.
              expect(String(error)).toMatch(/no cost total carries VAT/);
              return;
            }
            const vatCharged = inclCharged.minus(exclCharged).times(sign);
            expect(shares.reduce((sum, share) => sum.plus(share.amount), new Money(0)).toFixed()).toBe(vatCharged.toFixed());
            expect(shares.every((share) => share.amount.decimalPlaces() <= places && share.amount.isNegative() === vatCharged.isNegative())).toBe(true);
            const { lines } = linesForCdr(cdr);
            expect(lines.every((line) => new Money(line.amount).decimalPlaces() <= places)).toBe(true);
            const credited = (prefix: string) =>
              lines.filter((l) => l.account.startsWith(prefix)).reduce((sum, l) => (l.side === 'credit' ? sum.plus(l.amount) : sum.minus(l.amount)), new Money(0));
            expect(credited('revenue:').toFixed()).toBe(exclCharged.times(sign).toFixed());
            expect(credited('vat-payable:').toFixed()).toBe(vatCharged.toFixed());
            expect(credited('receivable:').negated().toFixed()).toBe(inclCharged.times(sign).toFixed());
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('vatSharesOf when the tariff snapshot names no VAT rate', () => {
  // The sample CDR: fixed 1.00 + 0.21, energy 6.00 + 1.26, total 7.00 + 1.47: 21 % on every figure.
  it('derives the rate from the CDR when its totals state it exactly and every part agrees', () => {
    const issued = sampleIssued({ tariffs: [] });
    expect(shareRows(vatSharesOf(issued))).toEqual([['21', '1.47']]);
    expect(shareRows(vatSharesOf(creditCdrFrom(issued, 'CDR-1-C', '2025-03-05T09:00:00Z')))).toEqual([['21', '-1.47']]);
    // 4-decimal parts, each within its own rounding of 5.5 %: 0.3333 × 1.055 = 0.35163, shown 0.3516.
    const parts = sampleIssued({
      tariffs: [],
      total_fixed_cost: { excl_vat: '9.6667', incl_vat: '10.1984' },
      total_energy_cost: { excl_vat: '0.3333', incl_vat: '0.3516' },
      total_cost: { excl_vat: '10.00', incl_vat: '10.55' },
    });
    expect(shareRows(vatSharesOf(parts))).toEqual([['5.5', '0.55']]);
  });

  it('does not read a rate into rounded figures: the fallback rate, else a refusal naming the CDR', () => {
    const notDeterminable = [
      // 0.05 / 0.04 is exactly 25 %, but the parts were charged at 21 %: the cent is rounding.
      sampleIssued({ tariffs: [], total_fixed_cost: undefined, total_energy_cost: { excl_vat: '0.0400', incl_vat: '0.0484' }, total_cost: { excl_vat: '0.04', incl_vat: '0.05' } }),
      // 1.48 / 7.00 is no rate of 4 decimals.
      sampleIssued({ tariffs: [], total_cost: { excl_vat: '7.00', incl_vat: '8.48' } }),
      // No part states its VAT: nothing confirms what the rounded total says.
      sampleIssued({ tariffs: [], total_fixed_cost: undefined, total_energy_cost: undefined }),
      // Two rates (fixed at 9 %): no one rate for the whole VAT.
      sampleIssued({ tariffs: [], total_fixed_cost: { excl_vat: '1.00', incl_vat: '1.09' }, total_cost: { excl_vat: '7.00', incl_vat: '8.35' } }),
    ];
    for (const issued of notDeterminable) {
      expect(() => vatSharesOf(issued)).toThrow(InvalidCommandError);
      expect(() => vatSharesOf(issued)).toThrow(/CDR CDR-1: its tariff snapshot has no VAT rate, its figures state none exactly, and no fallback rate was given/);
      expect(vatSharesOf(issued, '21')[0]!.ratePercent).toBe('21');
    }
    expect(() => vatSharesOf(notDeterminable[0]!, '-1')).toThrow(/fallback VAT rate -1 is not a non-negative decimal/);
  });
});

describe('vatSharesOf when total_cost is a min_price or max_price of the tariff snapshot', () => {
  const minPriced = (overrides: Record<string, unknown>) => ({ ...twoRateTariff, min_price: { excl_vat: 1, incl_vat: 1.21 }, ...overrides });
  // What the tariff engine writes for 0 kWh and no parking: the parts priced nothing and carry no VAT.
  const emptySession = { total_fixed_cost: undefined, total_energy_cost: { excl_vat: '0.0000' }, total_cost: { excl_vat: '1.00', incl_vat: '1.21' } };

  it('a 0 kWh session under a two-rate tariff charged its minimum 1.00 / 1.21: all VAT at the minimum\'s 21 %', () => {
    const issued = sampleIssued({ tariffs: [minPriced({})], ...emptySession });
    expect(shareRows(vatSharesOf(issued))).toEqual([['21', '0.21']]);
    expect(linesForCdr(issued).lines.map((line) => [line.account, line.side, line.amount])).toEqual([
      ['receivable:emsp:DE-EMP', 'debit', '1.21'],
      ['revenue:charging', 'credit', '1'],
      ['vat-payable:21', 'credit', '0.21'],
    ]);
    expect(shareRows(vatSharesOf(creditCdrFrom(issued, 'CDR-1-C', '2025-03-05T09:00:00Z')))).toEqual([['21', '-0.21']]);
    // A maximum likewise, in whichever tariff of the snapshot states it; 9 % (the other rate) exactly.
    const capped = sampleIssued({ tariffs: [sampleTariff, { ...twoRateTariff, max_price: { excl_vat: 1, incl_vat: 1.09 } }], ...emptySession, total_cost: { excl_vat: '1.00', incl_vat: '1.09' } });
    expect(shareRows(vatSharesOf(capped))).toEqual([['9', '0.09']]);
  });

  it('a tariff whose components state no VAT but whose bound has incl_vat: the bound\'s rate, before the fallback', () => {
    const noVat = { ...sampleTariff, elements: [{ price_components: [{ type: 'ENERGY', price: 0.3 }] }], min_price: { excl_vat: 2.5, incl_vat: 2.6375 } };
    const issued = sampleIssued({ tariffs: [noVat], ...emptySession, total_cost: { excl_vat: '2.50', incl_vat: '2.64' } });
    // 2.64 is not 2.6375: total_cost is not the bound, so nothing states the rate exactly.
    expect(() => vatSharesOf(issued)).toThrow(/its tariff snapshot has no VAT rate, its figures state none exactly/);
    const exact = sampleIssued({ tariffs: [{ ...noVat, min_price: { excl_vat: 2, incl_vat: 2.11 } }], ...emptySession, total_cost: { excl_vat: '2.00', incl_vat: '2.11' } });
    expect(shareRows(vatSharesOf(exact))).toEqual([['5.5', '0.11']]);
    expect(shareRows(vatSharesOf(exact, '21'))).toEqual([['5.5', '0.11']]);
  });

  it('a bound whose rate is not one of the snapshot\'s rates, or not exact to 4 decimals, or that is total_cost on one side only, is not taken', () => {
    const notTaken = [
      // 25 %: exact, but the tariff's components charge 21 % and 9 %.
      sampleIssued({ tariffs: [minPriced({ min_price: { excl_vat: 1, incl_vat: 1.25 } })], ...emptySession, total_cost: { excl_vat: '1.00', incl_vat: '1.25' } }),
      // 0.64 / 3.00 = 21.3333… %: no rate of 4 decimals.
      sampleIssued({ tariffs: [minPriced({ min_price: { excl_vat: 3, incl_vat: 3.64 } })], ...emptySession, total_cost: { excl_vat: '3.00', incl_vat: '3.64' } }),
      // The excl. VAT side is not the bound's.
      sampleIssued({ tariffs: [minPriced({})], ...emptySession, total_cost: { excl_vat: '1.01', incl_vat: '1.21' } }),
      // A bound without incl_vat states no rate.
      sampleIssued({ tariffs: [minPriced({ min_price: { excl_vat: 1 } })], ...emptySession }),
    ];
    for (const issued of notTaken) {
      expect(() => vatSharesOf(issued)).toThrow(/CDR CDR-1: its VAT cannot be split per rate: no cost total carries VAT/);
    }
  });

  it('a bound above parts that carry VAT at both rates: the bound\'s exact rate takes the whole VAT; otherwise the split by the parts', () => {
    // Parts VAT: energy 0.0630 at 21 %, parking 0.0150 at 9 %; split by them the 0.21 charged would be 0.17 + 0.04.
    const parts = {
      total_fixed_cost: undefined,
      total_energy_cost: { excl_vat: '0.3000', incl_vat: '0.3630' },
      total_parking_cost: { excl_vat: '0.1667', incl_vat: '0.1817' },
      total_cost: { excl_vat: '1.00', incl_vat: '1.21' },
    };
    expect(shareRows(vatSharesOf(sampleIssued({ tariffs: [minPriced({})], ...parts })))).toEqual([['21', '0.21']]);
    // Without the bound in the snapshot (or with one that is not total_cost) the charged VAT is split by the parts.
    expect(shareRows(vatSharesOf(sampleIssued({ tariffs: [twoRateTariff], ...parts })))).toEqual([
      ['9', '0.04'],
      ['21', '0.17'],
    ]);
    // A maximum below parts that carry VAT: 10.00 / 12.10 is 21 %.
    const capped = sampleIssued({
      tariffs: [{ ...twoRateTariff, max_price: { excl_vat: 10, incl_vat: 12.1 } }],
      total_fixed_cost: undefined,
      total_energy_cost: { excl_vat: '9.0000', incl_vat: '10.8900' },
      total_parking_cost: { excl_vat: '5.0000', incl_vat: '5.4500' },
      total_cost: { excl_vat: '10.00', incl_vat: '12.10' },
    });
    expect(shareRows(vatSharesOf(capped))).toEqual([['21', '2.1']]);
  });
});
