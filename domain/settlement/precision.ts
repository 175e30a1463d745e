import { Money, toDecimalString } from '../cdr/money.js';
import type { CdrSummary } from './events.js';
import type { ReconciliationTolerance } from './reconcile.js';

/**
 * A partner's statement may state a figure more coarsely than we do: time in hours to 2 decimals
 * (1.25 for our 1.2483), energy to 2 decimals. Such a figure is only known to within half a unit of
 * its last decimal, so a tolerance finer than that would call the rounding itself a dispute. The
 * tolerance of energy and time is widened to that half unit when it is coarser, and the result says
 * so.
 *
 * Money is not widened: both sides state totals in the currency's minor unit (OCPI CDR totals are
 * rounded to it), and an amount written with fewer decimals (7 for 7.00, as JSON serializers write
 * it) has dropped zeros, not rounded to whole units.
 */

/** The fields whose tolerance follows the statement's precision. */
export const precisionFollowingFields = ['energyKwh', 'timeHours'] as const;
export type PrecisionFollowingField = (typeof precisionFollowingFields)[number];

/** A field whose tolerance was widened: the decimals the statement states it to and the tolerance used (kWh; seconds for time). */
export interface Widened {
  readonly decimals: number;
  readonly tolerance: string;
}

export type WidenedTolerance = Readonly<Record<PrecisionFollowingField, Widened | null>>;

const secondsPerHour = 3600;

/** Decimals a plain decimal string states: "1.25" → 2, "20" → 0 (trailing zeros count: "20.00" → 2). */
export function statedDecimals(value: string): number {
  const point = value.indexOf('.');
  return point === -1 ? 0 : value.length - point - 1;
}

/**
 * The statement's precision of a field: the most decimals any row states it to (null: no row states
 * it). One row's decimals can understate it (20 beside 20.35 is 20.00 with its zeros dropped); the
 * finest row shows how the statement rounds.
 */
function statementDecimals(theirs: readonly CdrSummary[], field: PrecisionFollowingField): number | null {
  let decimals: number | null = null;
  for (const summary of theirs) {
    const value = summary[field];
    if (value !== null) decimals = Math.max(decimals ?? 0, statedDecimals(value));
  }
  return decimals;
}

/** Half a unit of the last of `decimals` decimals, in the tolerance's unit (seconds for time). */
function halfUnit(field: PrecisionFollowingField, decimals: number): Money {
  const half = new Money(10).pow(-decimals).div(2);
  return field === 'timeHours' ? half.times(secondsPerHour) : half;
}

/** The tolerance to reconcile a statement with: the configured one, each field widened to the statement's precision where coarser. */
export function toleranceForStatement(
  theirs: readonly CdrSummary[],
  configured: ReconciliationTolerance,
): { readonly tolerance: ReconciliationTolerance; readonly widened: WidenedTolerance } {
  const widen = (field: PrecisionFollowingField, configuredValue: string): Widened | null => {
    const decimals = statementDecimals(theirs, field);
    if (decimals === null) return null;
    const half = halfUnit(field, decimals);
    return half.gt(configuredValue) ? { decimals, tolerance: toDecimalString(half) } : null;
  };
  const widened = { energyKwh: widen('energyKwh', configured.energyKwh), timeHours: widen('timeHours', configured.timeSeconds) };
  return {
    tolerance: {
      amount: configured.amount,
      energyKwh: widened.energyKwh?.tolerance ?? configured.energyKwh,
      timeSeconds: widened.timeHours?.tolerance ?? configured.timeSeconds,
    },
    widened,
  };
}
