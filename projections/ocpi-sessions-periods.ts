import { Decimal } from 'decimal.js';
import { invariant } from '../domain/shared/assert.js';
import type { ChargingState, SampledValue, TransactionEventData } from '../domain/transaction/events.js';

/**
 * Charging periods of `proj_ocpi_sessions` (see ocpi-sessions.ts). Pure: the session's open
 * periods in, the changed periods out. Current in A and power in kW, as OCPI CdrDimensionType
 * counts them.
 *
 * Shape. A period starts at a charging-state change and lasts until the next one (the last until
 * the session's end). Starts strictly increase: a state reported at (or before) the current
 * period's start, such as 2.0.1's chargingState in the Started message, is that period's state,
 * not a new period. A period starting at the end (a state sent with the Ended message) is no
 * period: the end removes it.
 *
 * Energy. `start_register_wh` is the energy register at the period's start, and what the ENERGY
 * of a period is made of: the next start's register minus its own. A register is only known
 * where the meter was read, so a start between two readings gets its register when the reading
 * after it arrives (until then it is null: pending). The rule: the energy between two register
 * readings belongs to the charging time between them (state Charging), spread evenly over that
 * time; when none of that time was charging, to time in no reported state yet (null); when none
 * either, evenly over all of it (the meter did measure energy while parked). So a reading taken
 * after the EV stopped charging does not put the energy of the charging before it into parking,
 * and a flat register gives parking nothing. Shares are rounded to the nearest mWh; the registers
 * at the starts rise with time, so the periods add up to the interval exactly. A register that
 * went down (a meter fault) spreads nothing.
 *
 * Known limit: a reading sampled before the latest one (offline queue) refines nothing already
 * spread; a state change that arrives after a later reading is spread between the period's start
 * and that reading, the only two registers still known.
 */

/** Periods kept per session; after this the last one is extended (a station flapping between states). */
export const ocpiSessionPeriodsMax = 500;

/** Kysely types of `charging_periods`; numerics are strings (parse with decimal.js), times ISO strings. */
export interface PeriodRow {
  tenant_id: string;
  session_id: string;
  period_index: number;
  start_date_time: string;
  /** The latest fact time within the period: the next period's start once there is one, the session's end for the last. */
  end_at: string;
  charging_state: string | null;
  /** The register at the start; null while pending (no reading at or after the start yet). */
  start_register_wh: string | null;
  /** The register at the end: the next period's start register, or the latest reading for the last period. */
  end_register_wh: string | null;
  end_register_at: string | null;
  max_current_a: string | null;
  min_current_a: string | null;
  max_power_kw: string | null;
  min_power_kw: string | null;
}

/** An energy register reading: station time, Wh. */
export interface RegisterPoint {
  readonly at: string;
  readonly wh: string;
}

const ms = (iso: string) => Date.parse(iso);

/** The row itself when nothing changes, so unchanged rows are not written again. */
function patched(row: PeriodRow, patch: Partial<PeriodRow>): PeriodRow {
  for (const [field, value] of Object.entries(patch)) {
    if (row[field as keyof PeriodRow] !== value) return { ...row, ...patch };
  }
  return row;
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

/** Which time the energy of a register interval goes to first: charging, then no state yet, then any. */
function energyClassOf(state: string | null): 2 | 1 | 0 {
  if (state === 'Charging') return 2;
  return state === null ? 1 : 0;
}

/**
 * Fills the pending start registers of the periods starting in (from.at, to.at] by the rule
 * above. `periods` are consecutive, oldest first, and cover `from.at` (or start after it).
 * Without `from` (no register known before) the energy before `to` is unknown: they get `to`.
 */
function spreadRegister(periods: readonly PeriodRow[], from: RegisterPoint | null, to: RegisterPoint): PeriodRow[] {
  const toMs = ms(to.at);
  const fromMs = from === null ? -Infinity : ms(from.at);
  const pending = (row: PeriodRow) => row.start_register_wh === null && ms(row.start_date_time) > fromMs && ms(row.start_date_time) <= toMs;
  if (!periods.some(pending)) return [...periods];
  const rise = from === null ? new Decimal(0) : new Decimal(to.wh).minus(from.wh);
  if (from === null || rise.lte(0)) {
    // Nothing measured to spread (or a meter fault): the register stood still until `to`.
    const wh = from === null ? to.wh : from.wh;
    return periods.map((row) => (pending(row) ? patched(row, { start_register_wh: wh }) : row));
  }
  // Each period's share of [from, to], counted in the best energy class present.
  const lengths = periods.map((row, i) => {
    const next = periods[i + 1];
    const end = Math.min(next === undefined ? Infinity : ms(next.start_date_time), toMs);
    return Math.max(0, end - Math.max(ms(row.start_date_time), fromMs));
  });
  const best = Math.max(...periods.map((row, i) => (lengths[i]! > 0 ? energyClassOf(row.charging_state) : -1)));
  const weights = periods.map((row, i) => (energyClassOf(row.charging_state) === best ? lengths[i]! : 0));
  const total = weights.reduce((sum, weight) => sum + weight, 0);
  let before = 0;
  return periods.map((row, i) => {
    const share = total === 0 ? new Decimal(1) : new Decimal(before).div(total);
    before += weights[i]!;
    if (!pending(row)) return row;
    return patched(row, { start_register_wh: rise.times(share).plus(from.wh).toDecimalPlaces(3, Decimal.ROUND_HALF_UP).toFixed() });
  });
}

/** Each period's end register from the start register after it; the last one's from the latest reading in it. */
function withEndRegisters(periods: readonly PeriodRow[], latest: RegisterPoint | null): PeriodRow[] {
  return periods.map((row, i) => {
    const next = periods[i + 1];
    if (next !== undefined) return patched(row, { end_register_wh: next.start_register_wh, end_register_at: next.start_date_time });
    if (latest === null || ms(latest.at) < ms(row.start_date_time)) return row;
    return patched(row, { end_register_wh: latest.wh, end_register_at: latest.at });
  });
}

/** The open period a time falls in, or -1 when it is before all of them (a closed period). */
function indexAt(periods: readonly PeriodRow[], atMs: number): number {
  for (let i = periods.length - 1; i >= 0; i -= 1) if (ms(periods[i]!.start_date_time) <= atMs) return i;
  return -1;
}

/**
 * After a reading. `open` are the session's open periods (the last period whose start register
 * is known, and the pending ones after it); `previous` is the session's register before this
 * reading (`registerBefore`). `counts`: the session's energy rule counted the reading (it is the
 * session's new highest register, domain/transaction/meter-energy.ts): a start/stop copy, a
 * reading before the start, below the start or below an earlier reading spreads nothing. A
 * counted register sampled at or after `previous` fills the pending starts up to it; the
 * reading's current and power go to the open period it falls in (a closed one keeps its figures).
 */
export function periodsAfterReading(
  open: readonly PeriodRow[],
  previous: RegisterPoint | null,
  reading: TransactionEventData<'MeterReadingRecorded'>,
  sessionEnded: boolean,
  counts: boolean,
): PeriodRow[] {
  let periods = [...open];
  const sampledMs = ms(reading.sampledAt);
  const rising = previous === null || (sampledMs >= ms(previous.at) && new Decimal(reading.registerWh ?? -1).gte(previous.wh));
  // After the end the stop register is the last word (the session's energy ignores later readings too).
  if (!sessionEnded && counts && reading.registerWh !== null && rising) {
    const latest = { at: reading.sampledAt, wh: reading.registerWh };
    periods = withEndRegisters(spreadRegister(periods, previous, latest), latest);
  }
  const index = indexAt(periods, sampledMs);
  if (index < 0) return periods;
  const row = periods[index]!;
  const { currentsA, powersKw } = measurementsOf(reading.sampledValues);
  const last = index === periods.length - 1;
  periods[index] = patched(row, {
    end_at: last && sampledMs > ms(row.end_at) ? reading.sampledAt : row.end_at,
    max_current_a: extreme('max', row.max_current_a, currentsA),
    min_current_a: extreme('min', row.min_current_a, currentsA),
    max_power_kw: extreme('max', row.max_power_kw, powersKw),
    min_power_kw: extreme('min', row.min_power_kw, powersKw),
  });
  return periods;
}

/**
 * After a charging-state change recorded in order (not late). At or before the last period's
 * start it is that period's state; otherwise it starts a new period, unless the session already
 * has `ocpiSessionPeriodsMax` (then the last one is extended). A change at or before the latest
 * register reading (it arrived after that reading) gets its register at once, spread between the
 * last period's start and that reading.
 */
export function periodsAfterStateChange(
  open: readonly PeriodRow[],
  previous: RegisterPoint | null,
  change: { readonly state: ChargingState; readonly changedAt: string },
): PeriodRow[] {
  const last = open.at(-1)!;
  const changedMs = ms(change.changedAt);
  if (changedMs <= ms(last.start_date_time)) return [...open.slice(0, -1), patched(last, { charging_state: change.state })];
  if (last.period_index + 1 >= ocpiSessionPeriodsMax) return [...open.slice(0, -1), patched(last, { end_at: ms(last.end_at) >= changedMs ? last.end_at : change.changedAt })];
  const closed = { ...last, end_at: change.changedAt };
  const next: PeriodRow = {
    ...last,
    period_index: last.period_index + 1,
    start_date_time: change.changedAt,
    end_at: change.changedAt,
    charging_state: change.state,
    start_register_wh: null,
    end_register_wh: null,
    end_register_at: null,
    max_current_a: null,
    min_current_a: null,
    max_power_kw: null,
    min_power_kw: null,
  };
  let periods = [...open.slice(0, -1), closed, next];
  if (previous !== null && changedMs <= ms(previous.at)) {
    const from = last.start_register_wh === null ? null : { at: last.start_date_time, wh: last.start_register_wh };
    periods = spreadRegister(periods, from, previous);
    periods[periods.length - 1] = patched(periods.at(-1)!, { end_at: previous.at });
  }
  return withEndRegisters(periods, previous);
}

/**
 * At the end: the stop register fills the pending starts, the last period ends at `end.at`, and a
 * last period starting at (or after) the end is removed when there is one before it (`beforeOpen`
 * must then be given when `open` holds only that one). Returns the periods that stay and the
 * index of the one removed, if any.
 */
export function periodsAtEnd(
  open: readonly PeriodRow[],
  beforeOpen: PeriodRow | undefined,
  previous: RegisterPoint | null,
  end: RegisterPoint,
): { periods: PeriodRow[]; removedIndex: number | null } {
  const endMs = ms(end.at);
  let periods = previous === null || endMs >= ms(previous.at) ? spreadRegister(open, previous, end) : [...open];
  let removedIndex: number | null = null;
  const last = periods.at(-1)!;
  if (last.period_index > 0 && ms(last.start_date_time) >= endMs) {
    removedIndex = last.period_index;
    const before = periods.length > 1 ? periods.at(-2)! : beforeOpen;
    invariant(before !== undefined, `period ${last.period_index - 1} of session ${last.session_id} is loaded`);
    periods = [...periods.slice(0, -2), before];
  }
  const kept = periods.at(-1)!;
  periods[periods.length - 1] = patched(kept, { end_at: ms(kept.start_date_time) <= endMs ? end.at : kept.end_at });
  return { periods: withEndRegisters(periods, end), removedIndex };
}

/**
 * The session's register before an event: the highest register its counted readings reached
 * (`latest_register_*`, see ocpi-sessions.ts withReading), or the meter start at the session's
 * start when that is higher (readings below the start count for nothing), else none.
 */
export function registerBefore(session: {
  readonly latest_register_at?: unknown;
  readonly latest_register_wh?: unknown;
  readonly start_date_time?: unknown;
  readonly meter_start_wh?: unknown;
}): RegisterPoint | null {
  const latest = session.latest_register_at != null && session.latest_register_wh != null ? { at: String(session.latest_register_at), wh: String(session.latest_register_wh) } : null;
  const start = session.meter_start_wh != null && session.start_date_time != null ? { at: String(session.start_date_time), wh: String(session.meter_start_wh) } : null;
  if (latest === null || start === null) return latest ?? start;
  return new Decimal(latest.wh).gte(start.wh) ? latest : start;
}
