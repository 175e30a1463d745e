import type { RecordedEvent } from '../../adapters/event-store/port.js';
import type { SqlExecutor } from '../../adapters/sql/port.js';
import type { OcpiParty } from '../transport/headers.js';

/**
 * The contract between a Sender module (locations, sessions, cdrs, tariffs) and the push outbox
 * (ocpi/push/outbox*.ts). A module says which events change which of its objects (`triggers`)
 * and, when the outbox delivers, builds the request from the read models as they are then
 * (`build`). Pushes are state transfers: several changes to one object while a partner is down
 * become one delivery of its newest state, always in order per object.
 */

export type PushModule = 'locations' | 'sessions' | 'cdrs' | 'tariffs';

/** What changed; the module maps it to PUT, PATCH, POST or DELETE in `build`. */
export type PushChange =
  /** The whole object is new or changed: PUT it (CDRs: POST). */
  | 'object'
  /** Only its status (and maybe a few fields): PATCH when the partner has the object. */
  | 'status'
  /** Gone: tariffs DELETE; locations never delete (status REMOVED is an 'object' change). */
  | 'delete';

export interface PushTrigger {
  readonly module: PushModule;
  /**
   * The object's key within the module, as the module's `build` understands it, e.g.
   * `LOC1`, `LOC1/EVSE-1` (an EVSE), a session id, a cdr id, a tariff id. At most 200 chars.
   */
  readonly objectKey: string;
  readonly change: PushChange;
}

export interface PushRequest {
  readonly method: 'PUT' | 'PATCH' | 'POST' | 'DELETE';
  /**
   * Appended to the partner's Receiver endpoint URL for the module, e.g. `/NL/CSM/LOC1/EVSE-1`
   * (locations), `/NL/CSM/SESSION-ID` (sessions), `` (cdrs POST to the endpoint itself).
   */
  readonly path: string;
  readonly body?: unknown;
  /**
   * The object (of this module) the partner holds whole once it accepted this request, e.g. a
   * Location's id for its PUT. Recorded per partner; `holds` answers from it.
   */
  readonly establishes?: string;
  /**
   * The object (of this module) this whole request is the last word on: no part of it is expected
   * any more (a finished Session), so its hold is dropped once the push ends (accepted or refused)
   * instead of recorded: the table then keeps only objects that still change. Should a part come
   * after all, `holds` says no and the whole is sent again.
   */
  readonly releases?: string;
  /**
   * The object (of this module) this request is a part of, which the partner must hold to place
   * it: an EVSE's PATCH or PUT (its Location), a Session PATCH (the Session). When the partner
   * answers 2003 (unknown object) it does not hold it after all: the hold is forgotten and the
   * next attempt, due at once, sends the whole (ocpi/push/deliver.ts).
   */
  readonly partOf?: string;
}

export interface PushBuildContext {
  readonly db: SqlExecutor;
  readonly tenantId: string;
  /** Our CPO party (country code and party id in the URLs). */
  readonly us: OcpiParty;
  /** The partner receiving the push (its eMSP party), so a module may skip objects not meant for it. */
  readonly partner: { readonly partnerId: string; readonly parties: readonly OcpiParty[] };
  /** When the request is built (an active session's last charging period runs until then); absent: the latest fact known. */
  readonly now?: Date;
  /**
   * Whether the partner holds the object (of this module) whole: a request that `establishes` it
   * was accepted since the partner registered, and none `releases` it or was answered 2003 since.
   * A part of an object the partner does not hold must not be sent (it could not place it): build
   * the whole instead. Absent: assume it does.
   */
  readonly holds?: (objectId: string) => Promise<boolean>;
}

export interface PushSource {
  readonly module: PushModule;
  /**
   * Read models `build` reads: the outbox enqueues an event's triggers only after these
   * projections' checkpoints have passed the event, so `build` never sees a state older than it.
   */
  readonly projections: readonly string[];
  /** Event types `triggers` looks at (the outbox reads only these). */
  readonly eventTypes: ReadonlySet<string>;
  /** Pure: which objects of this module an event changes. */
  triggers(event: RecordedEvent): readonly PushTrigger[];
  /**
   * The request delivering the object's current state to one partner, or null when there is
   * nothing to send to it (not its object, or it no longer exists). Every body must pass the
   * OCPI 2.2.1 schema of ocpi/schemas.
   */
  build(context: PushBuildContext, objectKey: string, change: PushChange): Promise<PushRequest | null>;
  /** Every object key of the module, oldest first, for `csms ocpi sync` (bounded by `limit`). */
  listKeys(context: Omit<PushBuildContext, 'partner'>, afterKey: string | null, limit: number): Promise<readonly string[]>;
}
