import type { Clock } from '../adapters/clock/clock.js';
import type { EventStore } from '../adapters/event-store/port.js';
import { IllegalStateError, InvalidCommandError } from '../domain/shared/errors.js';
import type { OcpiStationCommands, StationCommandOptions, StationCommandOutcome } from '../ocpi/ports.js';
import { createStationOperations, stationOperationTimeoutMsMax, type StationOperation, type StationOperationCommandSender } from '../ocpp/operations/index.js';
import type { StationCaller } from '../ocpp/types.js';

/**
 * OCPI remote commands on the OCPP gateway's station operations (ocpp/operations). The OCPI
 * commands and chargingprofiles modules call this port; it translates to version-neutral
 * station operations, which record Requested/Answered/Failed events.
 */
export interface OcpiStationCommandsDeps {
  readonly bus: StationOperationCommandSender;
  /** The gateway, read when a command runs: it is decorated once registerOcpp has run. */
  readonly stations: () => StationCaller | undefined;
  readonly clock: Clock;
  readonly tenantId: string;
  readonly eventStore: EventStore;
}

/**
 * OCPI ChargingProfiles carry no id or stack level; ours get a fixed id and the top stack level
 * the OCPI spec's intent needs (the eMSP's profile for this session wins over the CPO's
 * defaults), so a second PUT replaces the first on the station instead of piling up.
 */
export const ocpiChargingProfileId = 1_000_001;
export const ocpiChargingProfileStackLevel = 9;

export function createOcpiStationCommands(deps: OcpiStationCommandsDeps): OcpiStationCommands {
  async function run(stationId: string, operation: StationOperation, options: StationCommandOptions): Promise<StationCommandOutcome> {
    const caller = deps.stations();
    if (caller === undefined) return { outcome: 'failed', reason: 'not-connected', message: 'no OCPP gateway runs on this server' };
    const operations = createStationOperations({ bus: deps.bus, caller, clock: deps.clock, tenantId: deps.tenantId, eventStore: deps.eventStore });
    try {
      const result = await operations.run(stationId, operation, {
        actor: options.actor,
        correlationId: options.correlationId,
        operationId: options.operationId,
        timeoutMs: Math.max(1, Math.min(Math.round(options.timeoutMs), stationOperationTimeoutMsMax)),
      });
      if (result.outcome === 'answered') return { outcome: 'answered', status: result.status, answer: result.answer };
      const reason = result.reason;
      switch (reason.kind) {
        case 'not-connected':
        case 'disconnected':
          return { outcome: 'failed', reason: 'not-connected', message: `station ${stationId} is not connected` };
        case 'timeout':
          return { outcome: 'failed', reason: 'timeout', message: `station ${stationId} did not answer in time` };
        case 'call-error':
          return { outcome: 'failed', reason: 'rejected-call', message: `station answered ${reason.code}: ${reason.description}` };
        default:
          return { outcome: 'failed', reason: 'other', message: `station operation failed: ${reason.kind}` };
      }
    } catch (error) {
      if (error instanceof InvalidCommandError) return { outcome: 'failed', reason: 'invalid', message: error.message };
      // Run before under this operation id (a retried OCPI POST) or the transaction has ended.
      if (error instanceof IllegalStateError) return { outcome: 'failed', reason: 'other', message: error.message };
      throw error;
    }
  }

  return {
    startSession: (stationId, request, options) =>
      run(
        stationId,
        // remoteStartId: the operation layer derives it from the operation id (mapping.ts requestIdFor).
        {
          name: 'startCharging',
          ...(request.evseId === null ? {} : { evseId: request.evseId }),
          idToken: { idToken: request.idToken, type: request.idTokenType },
          ...(request.authorizationReference === undefined ? {} : { authorizationReference: request.authorizationReference }),
          ...(request.authorizingParty === undefined ? {} : { authorizingParty: request.authorizingParty }),
        },
        options,
      ),
    stopSession: (stationId, request, options) => run(stationId, { name: 'stopCharging', transactionId: request.transactionId }, options),
    reserveNow: (stationId, request, options) =>
      run(
        stationId,
        {
          name: 'reserveNow',
          reservationId: request.reservationId,
          ...(request.evseId === null ? {} : { evseId: request.evseId }),
          expiresAt: request.expiryDate,
          idToken: { idToken: request.idToken, type: request.idTokenType },
          ...(request.authorizationReference === undefined ? {} : { authorizationReference: request.authorizationReference }),
        },
        options,
      ),
    cancelReservation: (stationId, request, options) => run(stationId, { name: 'cancelReservation', reservationId: request.reservationId }, options),
    unlockConnector: (stationId, request, options) => run(stationId, { name: 'unlockConnector', evseId: request.evseId, connectorId: request.connectorId }, options),
    setChargingProfile: (stationId, request, options) =>
      run(stationId, { name: 'setChargingProfile', evseId: request.evseId, chargingProfile: chargingProfileOf(request.profile, request.transactionId) }, options),
    clearChargingProfile: (stationId, request, options) =>
      run(stationId, { name: 'clearChargingProfile', profileId: ocpiChargingProfileId, evseId: request.evseId }, options),
    getCompositeSchedule: (stationId, request, options) =>
      run(stationId, { name: 'getCompositeSchedule', evseId: request.evseId, durationS: request.durationSeconds }, options),
  };
}

/**
 * The port carries the OCPI ChargingProfile object (charging_rate_unit, start_date_time,
 * duration, min_charging_rate, charging_profile_period); OCPP wants a TxProfile on the
 * transaction. Absolute when OCPI gives a start time, else Relative to the transaction's start.
 */
function chargingProfileOf(profile: Record<string, unknown>, transactionId: string) {
  const periods = (profile.charging_profile_period as { start_period: number; limit: number }[] | undefined) ?? [];
  const startDateTime = profile.start_date_time as string | undefined;
  return {
    id: ocpiChargingProfileId,
    stackLevel: ocpiChargingProfileStackLevel,
    purpose: 'tx' as const,
    kind: startDateTime === undefined ? ('Relative' as const) : ('Absolute' as const),
    transactionId,
    schedule: {
      ...(startDateTime === undefined ? {} : { startSchedule: startDateTime }),
      ...(profile.duration === undefined ? {} : { durationS: profile.duration as number }),
      rateUnit: profile.charging_rate_unit as 'W' | 'A',
      ...(profile.min_charging_rate === undefined ? {} : { minChargingRate: profile.min_charging_rate as number }),
      periods: periods.map((period) => ({ startPeriodS: period.start_period, limit: period.limit })),
    },
  };
}
