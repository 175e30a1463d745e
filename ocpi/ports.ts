import type { EventStore, RecordedEvent } from '../adapters/event-store/port.js';
import type { OcpiTokenType } from '../domain/shared/token-type.js';

/**
 * What the OCPI modules need from the rest of the system that ocpi/ may not import directly
 * (imports flow domain <- commands <- (ocpp, ocpi, api); ocpi never imports ocpp). api/ wires
 * these to the OCPP gateway's station operations (api/ocpi-station-commands.ts).
 */

/** How a station answered a CSMS→station call made for an OCPI command. */
export type StationCommandOutcome =
  | { readonly outcome: 'answered'; readonly status: string | null; readonly answer: Record<string, unknown> }
  | { readonly outcome: 'failed'; readonly reason: 'not-connected' | 'timeout' | 'rejected-call' | 'invalid' | 'other'; readonly message: string };

export interface StationCommandOptions {
  /** `partner:<partnerId>`. */
  readonly actor: string;
  /** The OCPI request's X-Correlation-ID. */
  readonly correlationId: string;
  /** Idempotency: the same id twice runs once. */
  readonly operationId: string;
  readonly timeoutMs: number;
}

/**
 * Remote commands to a station, version-neutral (OCPP 1.6 and 2.0.1 both). EVSE ids are the
 * station's own (2.0.1 evseId; 1.6 connectorId where 1.6 has no EVSE).
 */
export interface OcpiStationCommands {
  /**
   * `authorizationReference`: START_SESSION's authorization_reference, for the Session and CDR of
   * the transaction it starts; `authorizingParty`: the party of its Token, who pays for that session,
   * with the Token's contract_id and OCPI type (for the Session and CDR of a token we do not hold).
   */
  startSession(
    stationId: string,
    request: {
      evseId: number | null;
      idToken: string;
      idTokenType: string;
      remoteStartId: number;
      authorizationReference?: string;
      authorizingParty?: { readonly countryCode: string; readonly partyId: string; readonly contractId?: string; readonly tokenType?: OcpiTokenType };
    },
    options: StationCommandOptions,
  ): Promise<StationCommandOutcome>;
  stopSession(stationId: string, request: { transactionId: string }, options: StationCommandOptions): Promise<StationCommandOutcome>;
  /** `authorizationReference`: RESERVE_NOW's, for the Session and CDR of the transaction that uses the reservation. */
  reserveNow(
    stationId: string,
    request: { reservationId: number; evseId: number | null; idToken: string; idTokenType: string; expiryDate: string; authorizationReference?: string },
    options: StationCommandOptions,
  ): Promise<StationCommandOutcome>;
  cancelReservation(stationId: string, request: { reservationId: number }, options: StationCommandOptions): Promise<StationCommandOutcome>;
  unlockConnector(stationId: string, request: { evseId: number; connectorId: number }, options: StationCommandOptions): Promise<StationCommandOutcome>;
  /** A charging profile for a running transaction (OCPI chargingprofiles PUT). */
  setChargingProfile(stationId: string, request: { evseId: number; transactionId: string; profile: Record<string, unknown> }, options: StationCommandOptions): Promise<StationCommandOutcome>;
  clearChargingProfile(stationId: string, request: { evseId: number; transactionId: string }, options: StationCommandOptions): Promise<StationCommandOutcome>;
  getCompositeSchedule(stationId: string, request: { evseId: number; durationSeconds: number }, options: StationCommandOptions): Promise<StationCommandOutcome>;
}

/**
 * Read access to streams for command-side lookups (never for read models), and to where $all
 * ends, to wait for a read model to catch up with what another process wrote (credentials/caught-up.ts).
 */
export type OcpiEventReader = Pick<EventStore, 'readStream' | 'headPosition' | 'kind'>;
export type { RecordedEvent };
