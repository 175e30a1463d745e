import type { OcpiStationCommands } from '../ocpi/ports.js';

/**
 * OCPI remote commands on the OCPP gateway's station operations (ocpp/operations). The OCPI
 * commands and chargingprofiles modules call this port; it translates to version-neutral
 * station operations, which record Requested/Answered/Failed events.
 */
export interface OcpiStationCommandsDeps {
  readonly placeholder?: never;
}

export function createOcpiStationCommands(_deps: OcpiStationCommandsDeps): OcpiStationCommands | null {
  return null;
}
