import { Decimal } from 'decimal.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { OcpiCdr } from '../../domain/cdr/ocpi.js';
import { fold } from '../../domain/shared/decider.js';
import { perKwhParkingAndStartFee } from '../../domain/tariff/fixtures/index.js';
import { element, energy, parkingTime, tariff as tariffOf } from '../../domain/tariff/fixtures/builders.js';
import { parseTariff, priceMeterSamples, type Tariff } from '../../domain/tariff/index.js';
import type { TransactionCommand } from '../../domain/transaction/commands.js';
import type { ChargingState, TransactionEvent, TransactionEventData } from '../../domain/transaction/events.js';
import { transactionDecider } from '../../domain/transaction/index.js';
import { billingConfigDefault } from './billing-config.js';
import { buildCdr } from './cdr-builder.js';
import { meterSamplesOf, type EndedSession } from './session-samples.js';

/**
 * A CDR's charging periods add up to its totals exactly (ARCHITECTURE.md, Rounding): ENERGY to
 * total_energy, TIME + PARKING_TIME to total_time, PARKING_TIME to total_parking_time. Each period
 * is rounded cumulatively (round(cumulative end) − round(cumulative start)), never on its own.
 * And a minimum price charged on an empty session keeps the minimum's VAT.
 */

const base = Date.UTC(2025, 2, 3, 9, 0);
const at = (second: number) => new Date(base + second * 1000).toISOString();

interface SessionInput {
  /** Register readings (Wh, decimals as a 2.0.1 station sends them) by second. */
  readonly registers: readonly { readonly second: number; readonly wh: string }[];
  readonly states?: readonly { readonly second: number; readonly state: ChargingState }[];
  readonly endSecond: number;
}

/** The session through the transaction decider: start at the first register, stop at the last. */
function endedSession(input: SessionInput): EndedSession {
  let history: TransactionEvent[] = [];
  const apply = (command: TransactionCommand) => {
    history = [...history, ...transactionDecider.decide(command, fold(transactionDecider, history))];
  };
  const [first, ...rest] = input.registers;
  const last = rest.at(-1) ?? first!;
  apply({ type: 'StartTransaction', transactionId: 'tx-1', stationId: 'CP-1', evseId: 1, connectorId: 1, idToken: { idToken: 'AA11', type: 'ISO14443' }, meterStartWh: new Decimal(first!.wh), startedAt: at(first!.second) });
  for (const change of input.states ?? []) apply({ type: 'RecordChargingState', state: change.state, changedAt: at(change.second) });
  for (const r of rest.slice(0, -1)) apply({ type: 'RecordMeterReading', sampledAt: at(r.second), registerWh: new Decimal(r.wh), sampledValues: [] });
  apply({ type: 'EndTransaction', meterStopWh: new Decimal(last.wh), endedAt: at(input.endSecond), reason: 'Local', transactionData: [] });
  const data = <T extends TransactionEvent['type']>(type: T) => history.filter((e) => e.type === type).map((e) => e.data as TransactionEventData<T>);
  return { started: data('TransactionStarted')[0]!, readings: data('MeterReadingRecorded'), chargingStates: data('ChargingStateChanged'), ended: data('TransactionEnded')[0]! };
}

function cdrOf(session: EndedSession, tariff: Tariff | null): OcpiCdr {
  const price = tariff ? priceMeterSamples(tariff, meterSamplesOf(session), { timeZone: 'Europe/Amsterdam' }) : null;
  return buildCdr({ cdrId: 'tx-1', transactionId: 'tx-1', session, price, tariff, token: null, lastUpdated: at(3600), config: billingConfigDefault });
}

const volumes = (cdr: OcpiCdr, type: string) => cdr.charging_periods.flatMap((p) => p.dimensions.filter((d) => d.type === type).map((d) => d.volume));
const sum = (values: readonly string[]) => values.reduce((total, v) => total.plus(v), new Decimal(0));

/** The three sums a reader of the CDR checks, as decimal strings. */
function sums(cdr: OcpiCdr) {
  return {
    energy: sum(volumes(cdr, 'ENERGY')).toFixed(4),
    time: sum([...volumes(cdr, 'TIME'), ...volumes(cdr, 'PARKING_TIME')]).toFixed(4),
    parking: sum(volumes(cdr, 'PARKING_TIME')).toFixed(4),
  };
}

const pricedTariff = parseTariff(perKwhParkingAndStartFee);

/** 0.15 Wh over charging, parking, charging: a minute each, 0.05 Wh each. */
const tinySession = endedSession({
  registers: [
    { second: 0, wh: '1000' },
    { second: 60, wh: '1000.05' },
    { second: 120, wh: '1000.1' },
    { second: 180, wh: '1000.15' },
  ],
  states: [
    { second: 0, state: 'Charging' },
    { second: 60, state: 'SuspendedEV' },
    { second: 120, state: 'Charging' },
  ],
  endSecond: 180,
});

describe('CDR charging periods add up to the CDR totals', () => {
  it('0.15 Wh over three periods: ENERGY 0.0001 + 0.0000 + 0.0001 = total_energy 0.0002 (not 0.0003), priced and unpriced', () => {
    for (const tariff of [pricedTariff, null]) {
      const cdr = cdrOf(tinySession, tariff);
      expect(cdr.charging_periods).toHaveLength(3);
      expect(cdr.total_energy).toBe('0.0002');
      expect(volumes(cdr, 'ENERGY')).toEqual(['0.0001', '0.0000', '0.0001']);
      expect(sums(cdr).energy).toBe(cdr.total_energy);
    }
  });

  it('three one-minute periods: TIME + PARKING_TIME = total_time 0.0500 (not 0.0501), PARKING_TIME = total_parking_time', () => {
    const priced = cdrOf(tinySession, pricedTariff);
    expect(priced.total_time).toBe('0.0500');
    expect(priced.total_parking_time).toBe('0.0167');
    expect(volumes(priced, 'TIME')).toEqual(['0.0167', '0.0166']);
    expect(sums(priced)).toEqual({ energy: '0.0002', time: '0.0500', parking: '0.0167' });
    const unpriced = cdrOf(tinySession, null);
    expect(sums(unpriced).time).toBe(unpriced.total_time);
  });

  it('registers finer than a mWh: the periods still add up to the metered total_energy', () => {
    // 0.0004 → 0.0499 Wh: 0.0495 Wh metered (0.0000 kWh), but 0 → 50 mWh in the engine's whole-mWh registers (0.0001).
    const session = endedSession({ registers: [{ second: 0, wh: '0.0004' }, { second: 30, wh: '0.0254' }, { second: 60, wh: '0.0499' }], states: [{ second: 30, state: 'SuspendedEV' }], endSecond: 60 });
    for (const tariff of [pricedTariff, null]) {
      const cdr = cdrOf(session, tariff);
      expect(cdr.total_energy).toBe('0.0000');
      expect(volumes(cdr, 'ENERGY')).toEqual(['0.0000', '0.0000']);
    }
  });

  it('property: any session, priced or not, has periods adding up to total_energy, total_time and total_parking_time', () => {
    const sessionInput = fc
      .record({
        startWh: fc.integer({ min: 0, max: 1_000_000_000 }),
        steps: fc.array(fc.record({ seconds: fc.integer({ min: 1, max: 900 }), mwh: fc.integer({ min: 0, max: 400_000 }) }), { minLength: 1, maxLength: 12 }),
        states: fc.array(fc.record({ second: fc.integer({ min: 0, max: 10_800 }), state: fc.constantFrom<ChargingState>('Charging', 'SuspendedEV', 'SuspendedEVSE', 'EVConnected') }), { maxLength: 6 }),
      })
      .map(({ startWh, steps, states }) => {
        let second = 0;
        let mwh = BigInt(startWh) * 1000n + 7n;
        const registers = [{ second, wh: new Decimal(mwh.toString()).div(1000).toFixed() }];
        for (const step of steps) {
          second += step.seconds;
          mwh += BigInt(step.mwh);
          registers.push({ second, wh: new Decimal(mwh.toString()).div(1000).toFixed() });
        }
        return { registers, states: [...states].sort((a, b) => a.second - b.second).filter((s) => s.second < second), endSecond: second };
      });
    const tariffs = [pricedTariff, parseTariff(tariffOf('STEP', [element([energy(0.3, 21, 100), parkingTime(2, 9, 300)])])), null];
    fc.assert(
      fc.property(sessionInput, fc.constantFrom(...tariffs), (input, tariff) => {
        const cdr = cdrOf(endedSession(input), tariff);
        const s = sums(cdr);
        expect(s.energy).toBe(cdr.total_energy);
        expect(s.time).toBe(cdr.total_time);
        if (cdr.total_parking_time !== undefined) expect(s.parking).toBe(cdr.total_parking_time);
        for (const type of ['ENERGY', 'TIME', 'PARKING_TIME']) for (const v of volumes(cdr, type)) expect(new Decimal(v).isNegative()).toBe(false);
      }),
      { numRuns: 100 },
    );
  });
});

describe('CDR of a minimum price on an empty session', () => {
  it('charges the minimum with its VAT: 0 kWh, 5 min, ENERGY 21 % and PARKING_TIME 9 %, min_price 1.00 / 1.21', () => {
    const tariff = parseTariff(tariffOf('MIN', [element([energy(0.3, 21, 1), parkingTime(2, 9, 60)])], { min_price: { excl_vat: 1, incl_vat: 1.21 } }));
    const session = endedSession({ registers: [{ second: 0, wh: '5000' }, { second: 300, wh: '5000' }], endSecond: 300 });
    const cdr = cdrOf(session, tariff);
    expect(cdr.total_cost).toEqual({ excl_vat: '1.00', incl_vat: '1.21' });
    // The parts are what the components priced: nothing.
    expect(cdr.total_energy_cost).toEqual({ excl_vat: '0.0000' });
  });
});
