import type { EventStore } from '../../../adapters/event-store/port.js';
import { streamEventsMax, streamReadPageSizeMax } from '../../../commands/handler.js';
import { upcast } from '../../../domain/events.js';
import { rememberBounded } from '../../../domain/shared/bounded-map.js';
import { streamName } from '../../../domain/shared/event.js';
import { stationAggregateType, type BootStatus, type StationEventData } from '../../../domain/station/events.js';
import { OcppCallError } from '../../errors.js';
import type { Translation } from './context.js';

/**
 * What a station may send before the CSMS accepts it (OCPP 1.6 §4.2, 2.0.1 B02/B03).
 *
 * - 2.0.1 B02: while Pending, a station sends nothing but BootNotification and the messages the CSMS
 *   asks for (TriggerMessage, GetBaseReport/GetReport); anything else the CSMS answers with
 *   CALLERROR SecurityError (B02.FR.09; test case TC_B_30_CSMS). 1.6 §4.2 says the same in prose
 *   (Pending: the Central System "wants to retrieve or set certain information" first).
 * - Rejected: nothing but BootNotification (1.6 §4.2; 2.0.1 B03.FR.07, SecurityError).
 *
 * We cannot tell a triggered message from an untriggered one, so "what the CSMS may ask for" is a
 * fixed set of actions: those TriggerMessage/ExtendedTriggerMessage and GetReport can request, less
 * MeterValues and TransactionEvent: a transaction before acceptance is the station's to keep and
 * deliver once accepted (1.6 §4.2.1, 2.0.1 TxBeforeAcceptedEnabled), never ours to record or bill.
 *
 * An unauthenticated station (admitted 'pending' by the handshake: nobody registered it, it showed
 * no credentials) may send only BootNotification and Heartbeat. Its boot is recorded, once per
 * connection, so operators discover it (vendor, model, serial) and can register it; nothing else it
 * says is recorded, since anyone who knows or guesses a station id could say it.
 * Every refusal here records nothing: no event, no transaction id, no authorization.
 */
export type Standing = 'accepted' | 'pending' | 'rejected' | 'unauthenticated';

/** Heartbeat records nothing (last-seen is `onStationSeen`) and TriggerMessage can ask for it. */
const answeredToAnyBootedStation: ReadonlySet<string> = new Set(['BootNotification', 'Heartbeat']);

/** What the CSMS can ask an authenticated Pending station for while provisioning it (see above). */
const provisioningActions: ReadonlySet<string> = new Set([
  'StatusNotification',
  'NotifyReport',
  'FirmwareStatusNotification',
  'SignedFirmwareStatusNotification',
  'PublishFirmwareStatusNotification',
  'LogStatusNotification',
  'DiagnosticsStatusNotification',
  'SignCertificate',
]);

export function allowedFor(standing: Standing, action: string): boolean {
  switch (standing) {
    case 'accepted':
      return true;
    case 'rejected':
      return action === 'BootNotification';
    case 'unauthenticated':
      return answeredToAnyBootedStation.has(action);
    case 'pending':
      return answeredToAnyBootedStation.has(action) || provisioningActions.has(action);
  }
}

const refusalText: Readonly<Record<Exclude<Standing, 'accepted'>, string>> = {
  rejected: 'station boot was rejected: send BootNotification',
  pending: 'station is Pending: only BootNotification, Heartbeat and what the CSMS asks for until it is accepted',
  unauthenticated: 'station is not registered: only BootNotification and Heartbeat until an operator registers it',
};

/**
 * Stations whose standing this process remembers (least recently used first out). An entry is
 * only valid for the connection it was made on: a station's boot status changes only through its
 * own BootNotification, which arrives on its current connection, so within a connection the entry
 * is exactly the domain's; a new connection (maybe after booting on another node) reads the station
 * stream once, on its first CALL that is not a BootNotification.
 */
export const stationStandingsRememberedMax = 10_000;

interface Remembered {
  readonly connectionId: string;
  /** The last boot's answer; null: never booted. */
  readonly bootStatus: BootStatus | null;
}

export interface AdmissionControl {
  /** Throws CALLERROR SecurityError when the station's standing does not allow the CALL. */
  check(translation: Translation): Promise<void>;
  /** After a BootNotification was answered with `status`. */
  booted(translation: Translation, status: BootStatus): void;
}

export function createAdmissionControl(eventStore: EventStore): AdmissionControl {
  const remembered = new Map<string, Remembered>();
  const keyOf = (translation: Translation) => `${translation.tenantId}\n${translation.stationId}`;

  const remember = (key: string, entry: Remembered) => rememberBounded(remembered, key, entry, stationStandingsRememberedMax);

  async function bootStatusOf(translation: Translation): Promise<BootStatus | null> {
    const key = keyOf(translation);
    const known = remembered.get(key);
    if (known !== undefined && known.connectionId === translation.call.connectionId) {
      remember(key, known);
      return known.bootStatus;
    }
    // Unauthenticated: whatever an earlier connection's boot said, this one has not booted yet.
    const bootStatus = translation.call.admission === 'pending' ? null : await lastBootStatus(eventStore, translation.tenantId, translation.stationId);
    remember(key, { connectionId: translation.call.connectionId, bootStatus });
    return bootStatus;
  }

  return {
    async check(translation) {
      if (translation.action === 'BootNotification') return;
      const standing = standingOf(translation.call.admission, await bootStatusOf(translation));
      if (!allowedFor(standing, translation.action)) throw new OcppCallError('SecurityError', refusalText[standing as Exclude<Standing, 'accepted'>]);
    },
    booted(translation, status) {
      remember(keyOf(translation), { connectionId: translation.call.connectionId, bootStatus: status });
    },
  };
}

/**
 * An authenticated station that never booted (it was accepted before and reconnected without
 * rebooting, e.g. after a network drop or a CSMS move; OCPP asks for a boot only after the station's
 * own reboot) stands as accepted; an unauthenticated one never does.
 */
export function standingOf(admission: 'accepted' | 'pending', bootStatus: BootStatus | null): Standing {
  if (bootStatus === 'Rejected') return 'rejected';
  if (admission === 'pending') return 'unauthenticated';
  return bootStatus === 'Pending' ? 'pending' : 'accepted';
}

/** The status answered to the station's last BootNotification, from its stream (command-side read). */
async function lastBootStatus(eventStore: EventStore, tenantId: string, stationId: string): Promise<BootStatus | null> {
  const stream = streamName(stationAggregateType, tenantId, stationId);
  let status: BootStatus | null = null;
  for (let revision = 0; ; ) {
    const page = await eventStore.readStream(stream, { fromRevision: revision, maxCount: streamReadPageSizeMax });
    for (const event of page) {
      if (event.type !== 'StationBooted') continue;
      status = (upcast(event.type, event.schemaVersion, event.data).data as StationEventData<'StationBooted'>).bootStatus;
    }
    revision += page.length;
    if (revision > streamEventsMax) throw new Error(`${stream} is longer than ${streamEventsMax} events`);
    if (page.length < streamReadPageSizeMax) return status;
  }
}
