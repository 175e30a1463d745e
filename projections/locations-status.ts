import type { Row } from './rows.js';

/**
 * OCPI EvseStatus of an EVSE from what its station said (locations projection).
 *
 * OCPP connector status → OCPI: Available → AVAILABLE; Preparing, Charging, SuspendedEV,
 * SuspendedEVSE, Finishing, Occupied → CHARGING (a vehicle is plugged in: the EVSE is not free);
 * Reserved → RESERVED; Unavailable → INOPERATIVE; Faulted → OUTOFORDER; nothing known → UNKNOWN.
 *
 * Precedence, first that holds: removed → REMOVED (for good); station offline → UNKNOWN (OCPI
 * EvseStatus: "No status information available (also used when offline)"; the last report may be
 * stale, and the station answers no remote start); station Faulted (1.6 connector 0) →
 * OUTOFORDER; station or EVSE set Inoperative, or station Unavailable → INOPERATIVE; else the
 * EVSE's latest connector status. A station of which no connection event was seen yet is taken
 * at its word (its statuses stand).
 */
const connectorStatusToOcpi: Readonly<Record<string, string>> = {
  Available: 'AVAILABLE',
  Preparing: 'CHARGING',
  Charging: 'CHARGING',
  SuspendedEV: 'CHARGING',
  SuspendedEVSE: 'CHARGING',
  Finishing: 'CHARGING',
  Occupied: 'CHARGING',
  Reserved: 'RESERVED',
  Unavailable: 'INOPERATIVE',
  Faulted: 'OUTOFORDER',
};

export function ocpiStatusOfConnector(ocppStatus: string | null | undefined): string {
  return (ocppStatus !== null && ocppStatus !== undefined && connectorStatusToOcpi[ocppStatus]) || 'UNKNOWN';
}

/** `station`: station_links row; `evse`: station_evse_status row (either may not exist yet). */
export function ocpiEvseStatus(removed: boolean, station: Row | undefined, evse: Row | undefined): string {
  if (removed) return 'REMOVED';
  if (station?.online === false) return 'UNKNOWN';
  if (station?.station_status === 'Faulted') return 'OUTOFORDER';
  if (station?.inoperative === true || evse?.inoperative === true || station?.station_status === 'Unavailable') return 'INOPERATIVE';
  return ocpiStatusOfConnector(evse?.ocpp_status as string | null | undefined);
}
