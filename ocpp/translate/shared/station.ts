import type { BootStatus, ConnectorStatus, RegistrationPolicy } from '../../../domain/station/index.js';
import type { StationEventData } from '../../../domain/station/events.js';
import { bootRetryIntervalSecondsDefault, eventData, heartbeatIntervalSecondsDefault, type Translation } from './context.js';

export interface BootFacts {
  readonly vendor: string;
  readonly model: string;
  readonly serialNumber?: string | undefined;
  readonly firmwareVersion?: string | undefined;
  readonly bootReason?: string | undefined;
}

/**
 * A station admitted as 'pending' by the handshake hook is not registered (yet): it gets Pending,
 * so the CSMS can configure it first (1.6 §4.2, 2.0.1 B02), unless the policy rejects it outright.
 */
function effectivePolicy(translation: Translation): RegistrationPolicy {
  const policy = translation.deps.registrationPolicy;
  if (translation.call.admission !== 'pending') return policy;
  return { unknownStation: policy.unknownStation === 'Rejected' ? 'Rejected' : 'Pending', registeredStation: 'Pending' };
}

/**
 * The boot's command id. Per connection: a station that reboots restarts its message ids and may
 * send the very same payload, and that new boot must be recorded, not taken for a retry (a reboot
 * always comes on a new connection). An unauthenticated station gets one boot recorded per
 * connection whatever it sends: anyone can open such a connection, so its stream grows by at most
 * one boot per connection (plus the connection's own facts), never per message.
 */
function bootCommandId(translation: Translation): string {
  const connectionId = translation.call.connectionId;
  if (translation.call.admission === 'pending') return `${translation.stationId}:BootNotification:${connectionId}:unauthenticated-boot`;
  return translation.commandId(`boot:${connectionId}`);
}

/**
 * Records the boot; the answer is the status the domain decided by the policy (on a repeated CALL,
 * the one decided then). `interval`: the heartbeat interval when Accepted, else the least wait
 * before the next BootNotification (1.6 §6.5, 2.0.1 B02.FR.01 / B03.FR.01).
 */
export async function recordBoot(translation: Translation, facts: BootFacts): Promise<{ status: BootStatus; currentTime: string; interval: number }> {
  const now = translation.nowIso();
  const result = await translation.send(
    {
      type: 'RecordBoot',
      vendor: facts.vendor,
      model: facts.model,
      serialNumber: facts.serialNumber ?? null,
      firmwareVersion: facts.firmwareVersion ?? null,
      ocppVersion: translation.domainVersion,
      bootReason: facts.bootReason ?? null,
      // Neither version's BootNotification carries the station's time: ours is the best we have.
      bootedAt: now,
      registrationPolicy: effectivePolicy(translation),
    },
    translation.stationId,
    bootCommandId(translation),
  );
  const booted = eventData<StationEventData<'StationBooted'>>(result, 'StationBooted');
  if (!booted) throw new Error('invariant violated: RecordBoot recorded no StationBooted');
  const deps = translation.deps;
  const interval =
    booted.bootStatus === 'Accepted'
      ? (deps.heartbeatIntervalSeconds ?? heartbeatIntervalSecondsDefault)
      : (deps.bootRetryIntervalSeconds ?? bootRetryIntervalSecondsDefault);
  return { status: booted.bootStatus, currentTime: now, interval };
}

export interface StatusFacts {
  readonly evseId: number;
  readonly connectorId: number;
  readonly status: ConnectorStatus;
  readonly errorCode?: string | undefined;
  readonly info?: string | undefined;
  readonly vendorId?: string | undefined;
  readonly vendorErrorCode?: string | undefined;
  /** Station time; absent in 1.6 when the station has no clock (then ours). */
  readonly statusAt?: string | undefined;
}

export async function recordStatus(translation: Translation, facts: StatusFacts): Promise<void> {
  const statusAt = facts.statusAt ?? translation.nowIso();
  await translation.send(
    {
      type: 'RecordStatus',
      evseId: facts.evseId,
      connectorId: facts.connectorId,
      status: facts.status,
      errorCode: facts.errorCode ?? null,
      info: facts.info ?? null,
      vendorId: facts.vendorId ?? null,
      vendorErrorCode: facts.vendorErrorCode ?? null,
      statusAt,
    },
    translation.stationId,
    translation.commandId('status'),
    statusAt,
  );
}
