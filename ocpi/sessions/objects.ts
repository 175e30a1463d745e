import { Decimal } from 'decimal.js';
import type { AuthorizationBasis } from '../../domain/transaction/events.js';
import { kwhOf } from '../../domain/transaction/meter-energy.js';
import { sessionAuthMethodOf } from '../../domain/transaction/session-authorization.js';
import type { OcpiChargingPeriodsTable, OcpiSessionsTable } from '../../projections/index.js';
import type { AuthMethod, CdrDimension, ChargingPeriod, Session } from '../schemas/index.js';
import type { OcpiParty } from '../transport/headers.js';

/**
 * The `ocpi_sessions` read model as OCPI 2.2.1 Session objects. Pure: the rows and the EVSE's
 * OCPI ids in, the object out. Quantities stay decimal.js until the edge, where they become JSON
 * numbers with the 4 decimals OCPI allows (types.asciidoc "number").
 */

export type SessionRow = Omit<OcpiSessionsTable, 'start_date_time' | 'end_date_time' | 'last_updated' | 'meter_start_at' | 'latest_register_at'> & {
  start_date_time: Date | string | null;
  end_date_time: Date | string | null;
  last_updated: Date | string;
};
export type PeriodRow = Omit<OcpiChargingPeriodsTable, 'start_date_time' | 'end_at'> & { start_date_time: Date | string; end_at: Date | string };

/** Where the session's EVSE is in our OCPI locations. */
export interface SessionPlacement {
  readonly locationId: string;
  readonly evseUid: string;
  readonly connectorId: string;
}

/**
 * COMMAND: started remotely (OCPI START_SESSION or an operator). AUTH_REQUEST: the eMSP answered a
 * real-time authorization. WHITELIST: decided from our own copy of the token (or our policy for
 * unknown tokens, or the offline whitelist). The rules are the domain's, shared with the CDR
 * (domain/transaction/session-authorization.ts).
 */
export function authMethodOf(row: Pick<SessionRow, 'remote_start' | 'auth_basis'>): AuthMethod {
  return sessionAuthMethodOf({ remoteStart: row.remote_start, basis: row.auth_basis as AuthorizationBasis | null });
}

/** A JSON number with at most 4 decimals, rounded half up from the exact value. */
export const ocpiNumberOf = (value: Decimal.Value): number => Number(new Decimal(value).toDecimalPlaces(4, Decimal.ROUND_HALF_UP).toFixed());

/** OCPI DateTime: UTC with a Z, seconds precision kept as the station gave it (milliseconds dropped when zero). */
export const ocpiDateTimeOf = (value: Date | string): string => new Date(value).toISOString().replace('.000Z', 'Z');

const msPerHour = 3_600_000;

const timeMs = (value: Date | string) => new Date(value).getTime();

/**
 * The periods in force: ordered by start, one per start time (a later row at the same start
 * wins), none starting at or after the end of an ended session (the first always stays). The
 * projection already keeps them so; this holds whatever the rows say.
 */
function periodsInForce(row: Pick<SessionRow, 'end_date_time'>, periods: readonly PeriodRow[]): PeriodRow[] {
  const sorted = [...periods].sort((a, b) => timeMs(a.start_date_time) - timeMs(b.start_date_time) || a.period_index - b.period_index);
  const kept: PeriodRow[] = [];
  for (const period of sorted) {
    const previous = kept.at(-1);
    if (previous !== undefined && timeMs(previous.start_date_time) === timeMs(period.start_date_time)) kept[kept.length - 1] = { ...period, start_register_wh: previous.start_register_wh };
    else kept.push(period);
  }
  const endMs = row.end_date_time === null ? Infinity : timeMs(row.end_date_time);
  return kept.filter((period, i) => i === 0 || timeMs(period.start_date_time) < endMs);
}

/**
 * The session's energy so far (Wh) at each period start and at the end, relative to the meter
 * start: 0 first, the session's energy last, rising in between (a register below an earlier one,
 * a meter fault, adds nothing; one not known yet, a start after the latest reading, is all the
 * energy so far). So the periods' ENERGY adds up to the session's kwh whatever the registers say.
 */
function energyAtBounds(row: Pick<SessionRow, 'meter_start_wh' | 'energy_wh'>, periods: readonly PeriodRow[]): Decimal[] {
  const total = new Decimal(row.energy_wh);
  const baseline = row.meter_start_wh === null ? null : new Decimal(row.meter_start_wh);
  const bounds = [new Decimal(0)];
  for (const period of periods.slice(1)) {
    const raw = baseline === null || period.start_register_wh === null ? total : new Decimal(period.start_register_wh).minus(baseline);
    bounds.push(Decimal.min(Decimal.max(raw, bounds.at(-1)!), total));
  }
  bounds.push(total);
  return bounds;
}

/**
 * The session's OCPI charging periods. They partition [start, end]: each lasts until the next
 * one's start, the last until the session's end (active: until `now`, or until the latest fact
 * known when no `now` is given). TIME when the EV charges (state Charging, or no state reported
 * yet and energy flowed), else PARKING_TIME, in hours rounded per period. ENERGY in kWh: the
 * differences of the energy so far at the period bounds, each bound rounded to 4 decimals, so the
 * volumes add up to the session's kwh exactly (each within 0.0001 of the period's own energy).
 * Current (A) and power (kW) extremes when the readings had them.
 */
export function chargingPeriodsOf(row: Pick<SessionRow, 'end_date_time' | 'meter_start_wh' | 'energy_wh'>, periods: readonly PeriodRow[], now?: Date): ChargingPeriod[] {
  const inForce = periodsInForce(row, periods);
  if (inForce.length === 0) return [];
  const last = inForce.at(-1)!;
  const endMs = row.end_date_time !== null ? timeMs(row.end_date_time) : Math.max(timeMs(last.end_at), now?.getTime() ?? -Infinity);
  const energyWh = energyAtBounds(row, inForce);
  return inForce.map((period, i) => {
    const untilMs = i + 1 < inForce.length ? timeMs(inForce[i + 1]!.start_date_time) : endMs;
    const hours = new Decimal(Math.max(0, untilMs - timeMs(period.start_date_time))).div(msPerHour);
    const energyKwh = kwhOf(energyWh[i + 1]!).minus(kwhOf(energyWh[i]!));
    const charging = period.charging_state === 'Charging' || (period.charging_state === null && energyWh[i + 1]!.gt(energyWh[i]!));
    const dimensions: CdrDimension[] = [
      { type: 'ENERGY', volume: ocpiNumberOf(energyKwh) },
      { type: charging ? 'TIME' : 'PARKING_TIME', volume: ocpiNumberOf(hours) },
    ];
    const extremes = [
      ['MAX_CURRENT', period.max_current_a],
      ['MIN_CURRENT', period.min_current_a],
      ['MAX_POWER', period.max_power_kw],
      ['MIN_POWER', period.min_power_kw],
    ] as const;
    for (const [type, value] of extremes) if (value !== null) dimensions.push({ type, volume: ocpiNumberOf(value) });
    return { start_date_time: ocpiDateTimeOf(period.start_date_time), dimensions };
  });
}

/**
 * The Session as we send it. The cdr_token names the eMSP that authorized the session (real time,
 * START_SESSION), else the token's eMSP when the token came from one; a local token (or none: free
 * vend, plug-and-charge without id) is ours (projections/ocpi-sessions.ts, the CDR's rule too). No total_cost: running
 * cost needs the tariff engine over read models, which is not built yet. `now` closes an active
 * session's last period (chargingPeriodsOf).
 */
export function sessionOf(row: SessionRow, periods: readonly PeriodRow[], placement: SessionPlacement, currency: string, us: OcpiParty, now?: Date): Session {
  const uid = (row.token_uid ?? 'UNKNOWN').slice(0, 36);
  const session: Session = {
    country_code: us.countryCode,
    party_id: us.partyId,
    id: row.session_id,
    start_date_time: ocpiDateTimeOf(row.start_date_time!),
    // The energy rule's figure (domain/transaction/meter-energy.ts), rounded as the CDR's total_energy: equal once ended.
    kwh: ocpiNumberOf(kwhOf(row.energy_wh)),
    cdr_token: {
      country_code: row.token_country_code ?? us.countryCode,
      party_id: row.token_party_id ?? us.partyId,
      uid,
      type: (row.token_type ?? 'OTHER') as Session['cdr_token']['type'],
      contract_id: (row.contract_id ?? uid).slice(0, 36),
    },
    auth_method: authMethodOf(row),
    ...(row.authorization_reference == null ? {} : { authorization_reference: row.authorization_reference }),
    location_id: placement.locationId,
    evse_uid: placement.evseUid,
    connector_id: placement.connectorId,
    currency,
    charging_periods: chargingPeriodsOf(row, periods, now),
    status: row.status as Session['status'],
    last_updated: ocpiDateTimeOf(row.last_updated),
  };
  return row.end_date_time === null ? session : { ...session, end_date_time: ocpiDateTimeOf(row.end_date_time) };
}
