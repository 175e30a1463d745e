import { Decimal } from 'decimal.js';
import { invariant } from '../shared/assert.js';
import { roundHalfUp } from './exact.js';
import type { PricedChargingPeriod } from './pricing.js';

/** The OCPI volumes of one charging period, 4 decimals (types "number"). */
export interface PeriodVolumes {
  /** kWh; null for a RESERVATION period (no energy while reserved). */
  readonly energy: string | null;
  /** Hours: TIME, PARKING_TIME or RESERVATION_TIME by the period's state. */
  readonly duration: string;
}

const ocpiDecimals = 4;
const mWhPerKwh = 1_000_000n;
const msPerHour = 3_600_000n;

/**
 * The periods' volumes, so that they add up exactly to the totals a CDR states (ARCHITECTURE.md,
 * Rounding): ENERGY to `totalEnergyKwh` (the metered total_energy, 4 decimals), TIME + PARKING_TIME
 * to the periods' time rounded (total_time), PARKING_TIME to the parking time rounded
 * (total_parking_time), RESERVATION_TIME to the reserved time rounded. Each dimension is rounded
 * cumulatively, as the OCPI Session periods are (ocpi/sessions/objects.ts): a period's volume is
 * the rounded quantity so far at its end minus that at its start, so each stays within about
 * 0.0001 of its own quantity and no rounding adds up over the periods. The CDR builder asserts
 * the sums (commands/process/cdr-builder.ts).
 */
export function periodVolumesOf(periods: readonly PeriodQuantities[], totalEnergyKwh: string): PeriodVolumes[] {
  const ms = (p: PeriodQuantities) => BigInt(p.endMs - p.startMs);
  const inState = (state: PeriodQuantities['state']) => periods.filter((p) => p.state === state);
  const session = periods.filter((p) => p.state !== 'RESERVATION');
  const totalTime = roundedSum(session.map(ms), msPerHour);
  const parkingTime = roundedSum(inState('PARKING').map(ms), msPerHour);
  const energy = new CumulativeShares(session.map((p) => BigInt(p.energyMWh)), mWhPerKwh, new Decimal(totalEnergyKwh));
  const time = {
    // TIME takes what the rounded total_time leaves after the rounded parking time.
    CHARGING: new CumulativeShares(inState('CHARGING').map(ms), msPerHour, totalTime.minus(parkingTime)),
    PARKING: new CumulativeShares(inState('PARKING').map(ms), msPerHour, parkingTime),
    RESERVATION: new CumulativeShares(inState('RESERVATION').map(ms), msPerHour, roundedSum(inState('RESERVATION').map(ms), msPerHour)),
  };
  return periods.map((p) => ({ energy: p.state === 'RESERVATION' ? null : energy.next(), duration: time[p.state].next() }));
}

/** What the volumes of a period are made of: its state, its time (ms) and its energy (mWh). */
export type PeriodQuantities = Pick<PricedChargingPeriod, 'state' | 'startMs' | 'endMs' | 'energyMWh'>;

function rounded(numerator: bigint, denominator: bigint): Decimal {
  return new Decimal(roundHalfUp(numerator, denominator, ocpiDecimals));
}

function roundedSum(parts: readonly bigint[], denominator: bigint): Decimal {
  return rounded(
    parts.reduce((sum, part) => sum + part, 0n),
    denominator,
  );
}

/**
 * Volumes of consecutive non-negative parts (over `denominator`), taken in order with `next`, that
 * add up to `target` exactly: each bound is the rounded cumulative quantity, kept between the
 * bound before it and the target, and the last bound is the target. The target may differ from
 * the rounded sum of the parts by a step (total_energy is the exact metered energy, the parts
 * whole mWh); the clamp keeps every volume non-negative then.
 */
class CumulativeShares {
  private taken = 0;
  private cumulative = 0n;
  private before = new Decimal(0);
  constructor(
    private readonly parts: readonly bigint[],
    private readonly denominator: bigint,
    private readonly target: Decimal,
  ) {
    invariant(target.decimalPlaces() <= ocpiDecimals && !target.isNegative(), `period volumes add up to a non-negative total of at most ${ocpiDecimals} decimals, not ${target.toFixed()}`);
    invariant(parts.length > 0 || target.isZero(), `no period to carry ${target.toFixed()}`);
  }
  next(): string {
    invariant(this.taken < this.parts.length, 'a volume per part');
    this.cumulative += this.parts[this.taken]!;
    this.taken += 1;
    const last = this.taken === this.parts.length;
    const bound = last ? this.target : Decimal.min(Decimal.max(rounded(this.cumulative, this.denominator), this.before), this.target);
    const volume = bound.minus(this.before);
    this.before = bound;
    return volume.toFixed(ocpiDecimals);
  }
}
