import { Decimal } from 'decimal.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fold } from '../shared/decider.js';
import type { MeterReadingInput, TransactionCommand } from './commands.js';
import type { SampledValue, TransactionEvent } from './events.js';
import { transactionDecider } from './index.js';
import { consistentReadings, isStartOrStopCopy, meterReadingsPerTransactionMax, type RegisterSample } from './meter-energy.js';
import { energySoFarWh, meterStartOf, type TransactionState } from './state.js';

/**
 * One rule for which register readings count (meter-energy.ts), seen from the running session:
 * energy so far never goes down as readings arrive, a start/stop copy stamped late never moves it,
 * and it is what the consistent readings showed.
 */

const base = Date.UTC(2025, 2, 3, 9, 0);
const at = (minute: number) => new Date(base + minute * 60_000).toISOString();
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
const sample = (minute: number, wh: string, startOrStopCopy = false): RegisterSample => ({ atMs: base + minute * 60_000, wh: new Decimal(wh), startOrStopCopy });

/** The decider's states after each command; a refused command records nothing, as a station's would. */
function statesAfter(commands: readonly TransactionCommand[]): TransactionState[] {
  let history: TransactionEvent[] = [];
  const states: TransactionState[] = [];
  for (const command of commands) {
    try {
      history = [...history, ...transactionDecider.decide(command, fold(transactionDecider, history))];
    } catch {
      // refused: nothing recorded
    }
    states.push(fold(transactionDecider, history));
  }
  return states;
}
const start = (meterStartWh: string | null): TransactionCommand => ({
  type: 'StartTransaction', transactionId: 'tx-1', stationId: 'CP-1', evseId: 1, connectorId: 1, idToken: null,
  meterStartWh: meterStartWh === null ? null : new Decimal(meterStartWh), startedAt: at(0),
});
const record = (input: MeterReadingInput): TransactionCommand => ({ type: 'RecordMeterReading', stationId: 'CP-1', ...input });

describe('which readings count', () => {
  it('a Transaction.Begin/End register is a copy of the start/stop; other contexts and no context are readings', () => {
    expect(isStartOrStopCopy([registerValue('10000', 'Transaction.Begin')])).toBe(true);
    expect(isStartOrStopCopy([registerValue('10636', 'Transaction.End')])).toBe(true);
    for (const context of ['Sample.Periodic', 'Sample.Clock', 'Trigger', null]) expect(isStartOrStopCopy([registerValue('10000', context)])).toBe(false);
  });

  it('leaves out copies, readings outside the session or its registers, and keeps the longest run that never goes down', () => {
    const window = { startMs: base, startWh: new Decimal(1000), end: { atMs: base + 60 * 60_000, stopWh: new Decimal(2000) } };
    const kept = consistentReadings(
      [sample(10, '1100'), sample(50, '1000', true), sample(-1, '1050'), sample(61, '1900'), sample(20, '999'), sample(30, '2001'), sample(40, '1500'), sample(35, '1200')],
      window,
    );
    expect(kept.map((s) => s.wh.toFixed())).toEqual(['1100', '1200', '1500']);
  });

  it('on a tie, a reading that falls back below an earlier one is dropped, not the earlier one', () => {
    const window = { startMs: base, startWh: new Decimal(10000) };
    expect(consistentReadings([sample(20, '10300'), sample(40, '10000')], window).map((s) => s.wh.toFixed())).toEqual(['10300']);
  });
});

describe('limits', () => {
  it(`more than ${meterReadingsPerTransactionMax} readings are a bug (the decider records no more), not a CDR`, () => {
    const samples = Array.from({ length: meterReadingsPerTransactionMax + 1 }, (_, i) => sample(i, '1000'));
    expect(() => consistentReadings(samples, { startMs: base, startWh: new Decimal(1000) })).toThrow(/at most 20000/);
  });
});

describe('energy so far of a running session', () => {
  it('a 1.6 Transaction.Begin reading stamped late neither dips nor jumps it: it stays at the latest consistent register − start', () => {
    const states = statesAfter([
      start('10000'),
      record(readingInput(10, '10100')),
      record(readingInput(20, '10300')),
      // The station repeats its meterStart as a Transaction.Begin reading, stamped with the current time.
      record(readingInput(30, '10000', 'Transaction.Begin')),
      record(readingInput(40, '10450')),
    ]);
    expect(states.map((s) => energySoFarWh(s).toFixed())).toEqual(['0', '100', '300', '300', '450']);
  });

  it('a reading below the start (a meter reset) creates no energy', () => {
    const states = statesAfter([start('10000'), record(readingInput(10, '10200')), record(readingInput(20, '50'))]);
    expect(energySoFarWh(states.at(-1)!).toFixed()).toBe('200');
  });

  /** Arbitrary readings (values going up and down, any context) delivered in station-time order. */
  const registers = fc.oneof(fc.integer({ min: 900, max: 1_300 }).map(String), fc.integer({ min: 90_000, max: 130_000 }).map((n) => new Decimal(n).div(100).toFixed()));
  const contexts = fc.constantFrom<string | null>(null, 'Sample.Periodic', 'Sample.Periodic', 'Transaction.Begin', 'Transaction.End');
  const readings = fc.array(fc.record({ step: fc.integer({ min: 0, max: 3 }), wh: registers, context: contexts }), { maxLength: 12 });

  it('property: as readings arrive in order it never decreases, and it is the highest last-consistent-register − start shown so far', () => {
    fc.assert(
      fc.property(fc.option(registers, { nil: null }), readings, (meterStartWh, picks) => {
        let minute = 0;
        const inputs = picks.map((p) => readingInput((minute += p.step), p.wh, p.context));
        const states = statesAfter([start(meterStartWh), ...inputs.map(record)]);
        const samples = inputs.map((r) => ({ atMs: Date.parse(r.sampledAt), wh: r.registerWh!, startOrStopCopy: isStartOrStopCopy(r.sampledValues ?? []) }));
        states.forEach((state, i) => {
          const energy = energySoFarWh(state);
          if (i > 0) expect(energy.gte(energySoFarWh(states[i - 1]!))).toBe(true);
          // The same figure from the shared rule: the last consistent register − start, at its highest so far.
          const startWh = state.status === 'none' ? null : meterStartOf(state);
          let shown = new Decimal(0);
          for (let k = 1; startWh !== null && k <= i; k++) {
            const last = consistentReadings(samples.slice(0, k), { startMs: base, startWh }).at(-1);
            if (last !== undefined) shown = Decimal.max(shown, last.wh.minus(startWh));
          }
          expect(energy.toFixed()).toBe(shown.toFixed());
        });
      }),
      { numRuns: 50 },
    );
  });
});
