import { Decimal } from 'decimal.js';
import type { SampledValue, TransactionEventData } from '../domain/transaction/events.js';

/**
 * Charging periods of `proj_ocpi_sessions` (see ocpi-sessions.ts): what one reading changes in the
 * period it falls in. Current in A and power in kW, as OCPI CdrDimensionType counts them.
 */

/** Periods kept per session; after this the last one is extended (a station flapping between states). */
export const ocpiSessionPeriodsMax = 500;

/** Kysely types of `charging_periods`; numerics are strings (parse with decimal.js), times ISO strings. */
export interface PeriodRow {
  tenant_id: string;
  session_id: string;
  period_index: number;
  start_date_time: string;
  end_at: string;
  charging_state: string | null;
  start_register_wh: string | null;
  end_register_wh: string | null;
  end_register_at: string | null;
  max_current_a: string | null;
  min_current_a: string | null;
  max_power_kw: string | null;
  min_power_kw: string | null;
}

/** A sampled value as a Decimal in the unit given, with the 2.0.1 multiplier applied; null if unreadable. */
function quantityOf(value: SampledValue): Decimal | null {
  try {
    const quantity = new Decimal(value.value);
    if (!quantity.isFinite()) return null;
    return value.multiplier ? quantity.times(new Decimal(10).pow(value.multiplier)) : quantity;
  } catch {
    return null;
  }
}

/**
 * Current per phase counts (the extremes of any phase); power only as the EVSE's total (a value
 * without phase), since one phase's power is not what the EV draws. Power in W unless it says kW.
 */
function measurementsOf(values: readonly SampledValue[]): { currentsA: Decimal[]; powersKw: Decimal[] } {
  const currentsA: Decimal[] = [];
  const powersKw: Decimal[] = [];
  for (const value of values) {
    const measurand = value.measurand ?? 'Energy.Active.Import.Register';
    const quantity = quantityOf(value);
    if (quantity === null) continue;
    if (measurand === 'Current.Import' && value.phase !== 'N') currentsA.push(quantity);
    else if (measurand === 'Power.Active.Import' && value.phase === null) powersKw.push(value.unit === 'kW' ? quantity : quantity.div(1000));
  }
  return { currentsA, powersKw };
}

const extreme = (kind: 'max' | 'min', current: string | null, values: readonly Decimal[]): string | null => {
  if (values.length === 0) return current;
  const all = current === null ? [...values] : [new Decimal(current), ...values];
  return (kind === 'max' ? Decimal.max(...all) : Decimal.min(...all)).toFixed();
};

/**
 * The period after a reading, or null when the reading was sampled before the period began
 * (offline queue): it belongs to a period already closed, which keeps its figures.
 */
export function periodWithReading(period: PeriodRow, reading: TransactionEventData<'MeterReadingRecorded'>): PeriodRow | null {
  const sampledMs = Date.parse(reading.sampledAt);
  if (sampledMs < Date.parse(period.start_date_time)) return null;
  const next: PeriodRow = { ...period, end_at: sampledMs > Date.parse(period.end_at) ? reading.sampledAt : period.end_at };
  if (reading.registerWh !== null) {
    if (next.start_register_wh === null) next.start_register_wh = reading.registerWh;
    if (next.end_register_at === null || sampledMs >= Date.parse(next.end_register_at)) {
      next.end_register_wh = reading.registerWh;
      next.end_register_at = reading.sampledAt;
    }
  }
  const { currentsA, powersKw } = measurementsOf(reading.sampledValues);
  next.max_current_a = extreme('max', next.max_current_a, currentsA);
  next.min_current_a = extreme('min', next.min_current_a, currentsA);
  next.max_power_kw = extreme('max', next.max_power_kw, powersKw);
  next.min_power_kw = extreme('min', next.min_power_kw, powersKw);
  return next;
}
