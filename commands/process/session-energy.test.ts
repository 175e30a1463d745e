import { Decimal } from 'decimal.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { OcpiCdr } from '../../domain/cdr/ocpi.js';
import { fold } from '../../domain/shared/decider.js';
import { perKwh, perKwhParkingAndStartFee } from '../../domain/tariff/fixtures/index.js';
import { parseTariff, priceMeterSamples, type Tariff } from '../../domain/tariff/index.js';
import type { EndTransaction, MeterReadingInput, RecordChargingState, TransactionCommand } from '../../domain/transaction/commands.js';
import type { ChargingState, SampledValue, TransactionEvent, TransactionEventData } from '../../domain/transaction/events.js';
import { chargingStateChangesPerTransactionMax, transactionDecider } from '../../domain/transaction/index.js';
import { energySoFarWh, meterStartOf, type TransactionState } from '../../domain/transaction/state.js';
import { billingConfigDefault } from './billing-config.js';
import { buildCdr } from './cdr-builder.js';
import { meterSamplesOf, type EndedSession } from './session-samples.js';

/**
 * The CDR's energy is what the meter says the session consumed (ARCHITECTURE.md, Billing energy):
 * stop register − start register, whatever order, timestamps or contexts the readings come with,
 * priced or not. Sessions go through the transaction decider, so the events are the real ones.
 */

const base = Date.UTC(2025, 2, 3, 9, 0);
const at = (minute: number) => new Date(base + minute * 60_000).toISOString();
const tariffs = [perKwh, perKwhParkingAndStartFee].map((t) => parseTariff(t));

const registerValue = (wh: string, context: string | null): SampledValue => ({
  value: wh,
  measurand: 'Energy.Active.Import.Register',
  phase: null,
  unit: 'Wh',
  multiplier: null,
  context,
  location: null,
});
const readingInput = (minute: number, wh: string, context: string | null = 'Sample.Periodic'): MeterReadingInput => ({
  sampledAt: at(minute),
  registerWh: new Decimal(wh),
  sampledValues: [registerValue(wh, context)],
});

interface SessionInput {
  readonly meterStartWh: string | null;
  readonly readings: readonly MeterReadingInput[];
  readonly stopData?: readonly MeterReadingInput[];
  readonly meterStopWh: string | null;
  readonly endMinute: number;
  readonly chargingStates?: readonly { minute: number; state: ChargingState }[];
}

/** Runs the session's commands through the transaction decider; readings it refuses are dropped, as a station's would be. */
function endedSession(input: SessionInput): EndedSession & { readonly state: TransactionState; readonly runningStates: readonly TransactionState[] } {
  let history: TransactionEvent[] = [];
  const apply = (command: TransactionCommand) => {
    try {
      history = [...history, ...transactionDecider.decide(command, fold(transactionDecider, history))];
    } catch {
      // Refused (e.g. sampled after the end): nothing recorded, like the gateway's refusal.
    }
  };
  const meterStartWh = input.meterStartWh === null ? null : new Decimal(input.meterStartWh);
  apply({ type: 'StartTransaction', transactionId: 'tx-1', stationId: 'CP-1', evseId: 1, connectorId: 1, idToken: { idToken: 'AA11', type: 'ISO14443' }, meterStartWh, startedAt: at(0) });
  for (const change of input.chargingStates ?? []) apply({ type: 'RecordChargingState', state: change.state, changedAt: at(change.minute) } satisfies RecordChargingState);
  const runningStates: TransactionState[] = [];
  for (const reading of input.readings) {
    apply({ type: 'RecordMeterReading', ...reading });
    runningStates.push(fold(transactionDecider, history));
  }
  const end: EndTransaction = {
    type: 'EndTransaction',
    meterStopWh: input.meterStopWh === null ? null : new Decimal(input.meterStopWh),
    endedAt: at(input.endMinute),
    reason: 'Local',
    transactionData: input.stopData ?? [],
  };
  apply(end);
  const data = <T extends TransactionEvent['type']>(type: T) =>
    history.filter((e) => e.type === type).map((e) => e.data as TransactionEventData<T>);
  return {
    started: data('TransactionStarted')[0]!,
    readings: data('MeterReadingRecorded'),
    chargingStates: data('ChargingStateChanged'),
    ended: data('TransactionEnded')[0]!,
    state: fold(transactionDecider, history),
    runningStates,
  };
}

function cdrOf(session: EndedSession, tariff: Tariff | null): OcpiCdr {
  const price = tariff ? priceMeterSamples(tariff, meterSamplesOf(session), { timeZone: 'Europe/Amsterdam' }) : null;
  return buildCdr({ cdrId: 'tx-1', transactionId: 'tx-1', session, price, tariff, token: null, lastUpdated: at(600), config: billingConfigDefault });
}

const kwh = (wh: Decimal.Value) => new Decimal(wh).div(1000).toFixed(4, Decimal.ROUND_HALF_UP);
const energyOf = (period: OcpiCdr['charging_periods'][number]) => new Decimal(period.dimensions.find((d) => d.type === 'ENERGY')?.volume ?? 0);

describe('CDR energy: regressions from the issue', () => {
  it('a Transaction.Begin reading stamped at the stop time creates no energy: 10000 → 10636 Wh is 0.636 kWh, not 1.272', () => {
    const session = endedSession({
      meterStartWh: '10000',
      readings: [readingInput(20, '10300')],
      stopData: [readingInput(40, '10000', 'Transaction.Begin'), readingInput(40, '10636', 'Transaction.End')],
      meterStopWh: '10636',
      endMinute: 40,
    });
    for (const tariff of [...tariffs, null]) expect(cdrOf(session, tariff).total_energy).toBe('0.6360');
    // Priced as 0.636 kWh too: 0.25 EUR/kWh, step 1 Wh.
    expect(cdrOf(session, tariffs[0]!).total_energy_cost).toEqual({ excl_vat: '0.1590', incl_vat: '0.1749' });
  });

  it('the same start value stamped at the stop time without any context is dropped, not the earlier reading', () => {
    const session = endedSession({ meterStartWh: '10000', readings: [readingInput(20, '10300')], stopData: [readingInput(40, '10000', null)], meterStopWh: '10636', endMinute: 40 });
    const samples = meterSamplesOf(session);
    expect(samples.map((s) => s.energyWh)).toEqual([10000, 10300, 10636]);
    expect(cdrOf(session, tariffs[0]!).total_energy).toBe('0.6360');
  });

  it('without a tariff the CDR still carries the energy, the time and a charging period: 1000 → 12000 Wh is 11 kWh', () => {
    const session = endedSession({ meterStartWh: '1000', readings: [readingInput(30, '6000')], meterStopWh: '12000', endMinute: 60 });
    const cdr = cdrOf(session, null);
    expect(cdr.total_energy).toBe('11.0000');
    expect(cdr.total_time).toBe('1.0000');
    expect(cdr.total_cost).toEqual({ excl_vat: '0.00' });
    expect(cdr.charging_periods).toEqual([{ start_date_time: at(0), dimensions: [{ type: 'ENERGY', volume: '11.0000' }, { type: 'TIME', volume: '1.0000' }] }]);
  });

  it('without a tariff, charging and parking are separate periods with their own energy', () => {
    const session = endedSession({
      meterStartWh: '1000',
      readings: [readingInput(45, '8500')],
      meterStopWh: '8500',
      endMinute: 60,
      chargingStates: [{ minute: 0, state: 'Charging' }, { minute: 45, state: 'SuspendedEV' }],
    });
    const cdr = cdrOf(session, null);
    expect(cdr.charging_periods.map((p) => p.dimensions)).toEqual([
      [{ type: 'ENERGY', volume: '7.5000' }, { type: 'TIME', volume: '0.7500' }],
      [{ type: 'ENERGY', volume: '0.0000' }, { type: 'PARKING_TIME', volume: '0.2500' }],
    ]);
    expect(cdr.total_energy).toBe('7.5000');
  });

  it('a 2.0.1 session without a start register counts from its earliest reading to the Ended register', () => {
    const session = endedSession({ meterStartWh: null, readings: [readingInput(10, '2000'), readingInput(5, '1500')], stopData: [readingInput(50, '4000.5', 'Transaction.End')], meterStopWh: '4000.5', endMinute: 50 });
    expect(cdrOf(session, null).total_energy).toBe('2.5005');
    expect(cdrOf(session, tariffs[0]!).total_energy).toBe('2.5005');
  });

  it('a charging-state change adds a point between the registers around it, once per time, only strictly inside the session', () => {
    const session = endedSession({
      meterStartWh: '1000',
      readings: [readingInput(20, '3000'), readingInput(40, '5000')],
      meterStopWh: '6000',
      endMinute: 60,
      // At the start, at a reading's time, twice at 30 (a retry of another state), between readings.
      chargingStates: [{ minute: 0, state: 'Charging' }, { minute: 20, state: 'SuspendedEV' }, { minute: 30, state: 'Charging' }, { minute: 30, state: 'SuspendedEVSE' }, { minute: 50, state: 'EVConnected' }],
    });
    expect(meterSamplesOf(session).map((s) => [s.timestamp.slice(11, 16), s.energyWh, s.state])).toEqual([
      ['09:00', 1000, 'CHARGING'],
      ['09:20', 3000, 'PARKING'],
      ['09:30', 4000, 'CHARGING'],
      ['09:40', 5000, 'CHARGING'],
      ['09:50', 5500, 'PARKING'],
      ['10:00', 6000, 'PARKING'],
    ]);
  });

  it(`a session beyond the decider's limits is a bug, not a CDR: more than ${chargingStateChangesPerTransactionMax} charging-state changes are refused`, () => {
    const session = endedSession({ meterStartWh: '1000', readings: [], meterStopWh: '2000', endMinute: 60 });
    const changes = Array.from({ length: chargingStateChangesPerTransactionMax + 1 }, (_, i) => ({ state: 'Charging' as const, changedAt: at(i % 60), late: false }));
    expect(() => meterSamplesOf({ ...session, chargingStates: changes })).toThrow(/at most 10000/);
  });
});

/** A meter that only goes up: the register at each minute of a 0..duration session. */
const monotoneMeter = fc.record({
  startWh: fc.integer({ min: 0, max: 5_000_000 }),
  duration: fc.integer({ min: 1, max: 600 }),
  whPerMinute: fc.array(fc.integer({ min: 0, max: 1_000 }), { minLength: 1, maxLength: 20 }),
});
const registerAt = (meter: { startWh: number; whPerMinute: number[] }, minute: number) => {
  let wh = meter.startWh;
  for (let m = 0; m < minute; m++) wh += meter.whPerMinute[m % meter.whPerMinute.length]!;
  return wh;
};

const contexts = fc.constantFrom<string | null>(null, 'Sample.Periodic', 'Sample.Clock', 'Transaction.Begin', 'Transaction.End', 'Trigger');
const chargingStates = fc.array(fc.record({ minute: fc.integer({ min: 0, max: 600 }), state: fc.constantFrom<ChargingState>('Charging', 'SuspendedEV', 'SuspendedEVSE', 'EVConnected') }), { maxLength: 5 });
const tariffOrNone = fc.constantFrom<Tariff | null>(...tariffs, null);

describe('CDR energy: properties', () => {
  it('with consistent readings in any order, timestamps and contexts, total_energy is stop − start exactly', () => {
    fc.assert(
      fc.property(
        monotoneMeter,
        fc.array(fc.record({ minute: fc.integer({ min: 0, max: 600 }), context: contexts, atStop: fc.boolean() }), { maxLength: 30 }),
        fc.boolean(),
        chargingStates,
        tariffOrNone,
        (meter, picks, startKnown, states, tariff) => {
          const endMinute = meter.duration;
          // Readings of the real meter (delivered in the generated order), some in the stop message.
          const inside = picks.map((p) => ({ ...p, minute: p.minute % (endMinute + 1) }));
          const asInput = (p: (typeof inside)[number]) => readingInput(p.minute, String(registerAt(meter, p.minute)), p.context);
          const session = endedSession({
            meterStartWh: startKnown ? String(meter.startWh) : null,
            readings: [...(startKnown ? [] : [readingInput(0, String(meter.startWh))]), ...inside.filter((p) => !p.atStop).map(asInput)],
            stopData: inside.filter((p) => p.atStop).map(asInput),
            meterStopWh: String(registerAt(meter, endMinute)),
            endMinute,
            chargingStates: states,
          });
          const cdr = cdrOf(session, tariff);
          const expected = kwh(registerAt(meter, endMinute) - meter.startWh);
          expect(cdr.total_energy).toBe(expected);
          // The periods share out exactly that energy (rounded cumulatively, ARCHITECTURE.md, Rounding).
          const periodsSum = cdr.charging_periods.reduce((sum, p) => sum.plus(energyOf(p)), new Decimal(0));
          expect(periodsSum.toFixed(4)).toBe(expected);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('with arbitrary readings (any order, timestamp, context, value), energy is never negative and never above stop − start', () => {
    const register = fc.oneof(fc.integer({ min: 0, max: 20_000 }).map(String), fc.integer({ min: 0, max: 2_000_000 }).map((n) => new Decimal(n).div(100).toFixed()));
    fc.assert(
      fc.property(
        fc.option(register, { nil: null }),
        fc.option(register, { nil: null }),
        fc.array(fc.record({ minute: fc.integer({ min: -30, max: 120 }), wh: register, context: contexts, atStop: fc.boolean() }), { maxLength: 30 }),
        fc.integer({ min: 0, max: 120 }),
        chargingStates,
        tariffOrNone,
        (startWh, stopWh, picks, endMinute, states, tariff) => {
          const asInput = (p: (typeof picks)[number]) => readingInput(p.minute, p.wh, p.context);
          const session = endedSession({
            meterStartWh: startWh,
            readings: picks.filter((p) => !p.atStop).map(asInput),
            stopData: picks.filter((p) => p.atStop).map(asInput),
            meterStopWh: stopWh,
            endMinute,
            chargingStates: states,
          });
          // What the transaction domain says the meter consumed: its stop register minus its start register.
          const { state } = session;
          if (state.status !== 'ended') throw new Error('the session did not end');
          const start = meterStartOf(state);
          const consumedWh = start === null ? new Decimal(0) : Decimal.max(0, state.meterStopWh.minus(start));
          const cdr = cdrOf(session, tariff);
          const energy = new Decimal(cdr.total_energy);
          expect(energy.isNegative()).toBe(false);
          expect(energy.lte(kwh(consumedWh))).toBe(true);
          // The engine never prices more energy than the meter says either (registers in whole mWh).
          if (tariff) {
            const priced = priceMeterSamples(tariff, meterSamplesOf(session), { timeZone: 'Europe/Amsterdam' }).total_energy.decimal;
            expect(priced.times(1000).lte(consumedWh.plus('0.001'))).toBe(true);
          }
          for (const period of cdr.charging_periods) expect(energyOf(period).isNegative()).toBe(false);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('with arbitrary readings arriving in station-time order, the running energy never goes down and ends as the CDR total_energy', () => {
    const register = fc.oneof(fc.integer({ min: 9_000, max: 11_000 }).map(String), fc.integer({ min: 900_000, max: 1_100_000 }).map((n) => new Decimal(n).div(100).toFixed()));
    fc.assert(
      fc.property(
        fc.option(register, { nil: null }),
        fc.option(register, { nil: null }),
        fc.array(fc.record({ step: fc.integer({ min: 0, max: 5 }), wh: register, context: contexts }), { maxLength: 10 }),
        fc.array(fc.record({ wh: register, context: contexts }), { maxLength: 2 }),
        (startWh, stopWh, picks, stopPicks) => {
          let minute = 0;
          const readings = picks.map((p) => readingInput((minute += p.step), p.wh, p.context));
          const endMinute = minute + 1;
          const session = endedSession({ meterStartWh: startWh, readings, stopData: stopPicks.map((p) => readingInput(endMinute, p.wh, p.context)), meterStopWh: stopWh, endMinute });
          const running = session.runningStates.map((state) => energySoFarWh(state));
          running.forEach((energy, i) => expect(energy.gte(i === 0 ? 0 : running[i - 1]!)).toBe(true));
          expect(kwh(energySoFarWh(session.state))).toBe(cdrOf(session, null).total_energy);
        },
      ),
      { numRuns: 50 },
    );
  });
});
