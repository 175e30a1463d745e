import { Decimal } from 'decimal.js';
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

/** Our local bases of an authorization: the decision was ours, from our copy of the token list. */
const localAuthorizationBases: ReadonlySet<string> = new Set(['token', 'unknownTokenPolicy', 'offlineWhitelist']);

/**
 * COMMAND: started remotely (OCPI START_SESSION or an operator, reaching the station as a remote
 * start or a central id token). WHITELIST: decided from our own copy of the token (or our policy
 * for unknown tokens, or the offline whitelist). Any other recorded basis is the eMSP answering a
 * real-time authorization: AUTH_REQUEST.
 */
export function authMethodOf(row: Pick<SessionRow, 'remote_start' | 'auth_basis'>): AuthMethod {
  if (row.remote_start) return 'COMMAND';
  if (row.auth_basis === null || localAuthorizationBases.has(row.auth_basis)) return 'WHITELIST';
  return 'AUTH_REQUEST';
}

/** A JSON number with at most 4 decimals, rounded half up from the exact value. */
export const ocpiNumberOf = (value: Decimal.Value): number => Number(new Decimal(value).toDecimalPlaces(4, Decimal.ROUND_HALF_UP).toFixed());

/** OCPI DateTime: UTC with a Z, seconds precision kept as the station gave it (milliseconds dropped when zero). */
export const ocpiDateTimeOf = (value: Date | string): string => new Date(value).toISOString().replace('.000Z', 'Z');

const msPerHour = 3_600_000;

/**
 * ENERGY in kWh from the registers at the period's start and end; TIME when the EV charges (state
 * Charging, or no state reported yet and energy flowed), else PARKING_TIME, in hours; current (A)
 * and power (kW) extremes when the readings had them.
 */
export function chargingPeriodOf(period: PeriodRow): ChargingPeriod {
  const startWh = period.start_register_wh === null ? null : new Decimal(period.start_register_wh);
  const endWh = period.end_register_wh === null ? startWh : new Decimal(period.end_register_wh);
  const energyWh = startWh === null || endWh === null ? new Decimal(0) : Decimal.max(endWh.minus(startWh), 0);
  const hours = new Decimal(Math.max(0, new Date(period.end_at).getTime() - new Date(period.start_date_time).getTime())).div(msPerHour);
  const charging = period.charging_state === 'Charging' || (period.charging_state === null && energyWh.gt(0));
  const dimensions: CdrDimension[] = [
    { type: 'ENERGY', volume: ocpiNumberOf(energyWh.div(1000)) },
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
}

/**
 * The Session as we send it. The cdr_token names the token's eMSP when the token came from one;
 * a local token (or none: free vend, plug-and-charge without id) is ours. No total_cost: running
 * cost needs the tariff engine over read models, which is not built yet.
 */
export function sessionOf(row: SessionRow, periods: readonly PeriodRow[], placement: SessionPlacement, currency: string, us: OcpiParty): Session {
  const uid = (row.token_uid ?? 'UNKNOWN').slice(0, 36);
  const session: Session = {
    country_code: us.countryCode,
    party_id: us.partyId,
    id: row.session_id,
    start_date_time: ocpiDateTimeOf(row.start_date_time!),
    kwh: ocpiNumberOf(new Decimal(row.energy_wh).div(1000)),
    cdr_token: {
      country_code: row.token_country_code ?? us.countryCode,
      party_id: row.token_party_id ?? us.partyId,
      uid,
      type: (row.token_type ?? 'OTHER') as Session['cdr_token']['type'],
      contract_id: (row.contract_id ?? uid).slice(0, 36),
    },
    auth_method: authMethodOf(row),
    location_id: placement.locationId,
    evse_uid: placement.evseUid,
    connector_id: placement.connectorId,
    currency,
    charging_periods: periods.map(chargingPeriodOf),
    status: row.status as Session['status'],
    last_updated: ocpiDateTimeOf(row.last_updated),
  };
  return row.end_date_time === null ? session : { ...session, end_date_time: ocpiDateTimeOf(row.end_date_time) };
}
