import { comparePositions, type EventStore, type Position, type RecordedEvent } from '../../adapters/event-store/port.js';
import type { SqlDatabase } from '../../adapters/sql/port.js';
import { checkLease } from '../../projections/lease.js';
import { liveSchemaName, readState } from '../../projections/schema.js';
import { loadPartnerConnections, partnerEndpointUrl, type PartnerConnection } from '../client/partners.js';
import type { TokenSealer } from '../credentials/seal.js';
import { parseStreamName } from '../../domain/shared/event.js';
import { enqueuePush, forgetHeld, loadProducerCheckpoint, mergeChange, saveProducerCheckpoint } from './outbox.js';
import type { PushChange, PushModule, PushSource } from './source.js';

/**
 * The outbox producer: reads $all from its own checkpoint and turns the events the push sources
 * look at into pushes, one per trigger per registered partner with a RECEIVER endpoint for the
 * module, moving its checkpoint in the same transaction. One producer across the cluster (lease).
 *
 * An event's triggers wait until every read model its source's `build` reads has passed the
 * event, so a delivery never sends a state older than the event that caused it. Partners are
 * those registered when the event is handled: a partner registered later gets history only
 * through `csms ocpi sync`. A partner that registers (again) holds none of our objects yet
 * (outbox.ts forgetHeld), so its first push of a location or session is the whole object.
 */

export const pushProducerLeaseName = 'process:ocpi_push_producer';
/** Events read per page; most are skipped by type, the rest cost one upsert per partner. */
export const pushProducerBatchSize = 500;

export interface ProducerDeps {
  readonly eventStore: EventStore;
  readonly db: SqlDatabase;
  readonly tenantId: string;
  readonly sealer: TokenSealer;
  readonly sources: readonly PushSource[];
  readonly clock: { now(): Date };
}

/** After these, the partner holds nothing of ours as far as the outbox knows. */
const partnerResetEventTypes: ReadonlySet<string> = new Set(['PartnerRegistered', 'PartnerUnregistered']);

export class ProducerLeaseLostError extends Error {
  override readonly name = 'ProducerLeaseLostError';
}

interface Pending {
  readonly event: RecordedEvent;
  readonly module: PushModule;
  readonly objectKey: string;
  change: PushChange;
}

/** An event's triggers, one per object (a second trigger of the same object merges). */
function triggersOf(sources: readonly PushSource[], event: RecordedEvent): { pushes: Pending[]; projections: Set<string> } {
  const byObject = new Map<string, Pending>();
  const projections = new Set<string>();
  for (const source of sources) {
    if (!source.eventTypes.has(event.type)) continue;
    const triggers = source.triggers(event);
    if (triggers.length > 0) for (const name of source.projections) projections.add(name);
    for (const trigger of triggers) {
      const key = `${trigger.module}\u0000${trigger.objectKey}`;
      const seen = byObject.get(key);
      if (seen === undefined) byObject.set(key, { event, module: trigger.module, objectKey: trigger.objectKey, change: trigger.change });
      else seen.change = mergeChange(seen.change, trigger.change);
    }
  }
  return { pushes: [...byObject.values()], projections };
}

export interface CatchUpResult {
  /** Events the checkpoint moved over. */
  readonly seen: number;
  /** Stopped at an event whose read models have not caught up with it yet. */
  readonly waitingForProjections: boolean;
}

/**
 * Handles every event after the checkpoint up to the head of $all, page by page, or up to the
 * first event a read model has not reached yet. With `owner`, each page commits only while the
 * lease is held.
 */
export async function catchUpProducer(deps: ProducerDeps, owner: string | null, batchSize = pushProducerBatchSize): Promise<CatchUpResult> {
  const types = new Set(deps.sources.flatMap((source) => [...source.eventTypes]));
  let at = await loadProducerCheckpoint(deps.db);
  let seen = 0;
  for (;;) {
    const page = await deps.eventStore.readAll({ after: at ?? undefined, limit: batchSize });
    if (page.length === 0) return { seen, waitingForProjections: false };
    const pushes: Pending[] = [];
    const resetPartners: string[] = [];
    let through: Position | null = null;
    let count = 0;
    let waiting = false;
    const projectionCheckpoints = new Map<string, Position | null>();
    for (const event of page) {
      if (event.metadata.tenantId === deps.tenantId && partnerResetEventTypes.has(event.type)) resetPartners.push(parseStreamName(event.streamId).id);
      if (event.metadata.tenantId === deps.tenantId && types.has(event.type)) {
        const found = triggersOf(deps.sources, event);
        if (!(await projectionsPassed(deps.db, found.projections, event.position, projectionCheckpoints))) {
          waiting = true;
          break;
        }
        pushes.push(...found.pushes);
      }
      through = event.position;
      count += 1;
    }
    if (through !== null) {
      const partners = pushes.length === 0 ? [] : await loadPartnerConnections(deps.db, deps.tenantId, deps.sealer);
      const from = at;
      const to = through;
      await deps.db.transaction(async (tx) => {
        if (owner !== null && (await checkLease(tx, pushProducerLeaseName, owner)) !== 'held') throw new ProducerLeaseLostError('the outbox producer lost its lease');
        for (const partnerId of resetPartners) await forgetHeld(tx, deps.tenantId, partnerId);
        for (const push of pushes) {
          for (const partner of receiversOf(partners, push.module)) {
            await enqueuePush(tx, {
              tenantId: deps.tenantId,
              partnerId: partner.partnerId,
              module: push.module,
              objectKey: push.objectKey,
              change: push.change,
              source: { eventId: push.event.eventId, position: push.event.position },
              now: deps.clock.now(),
            });
          }
        }
        await saveProducerCheckpoint(tx, from, to, count);
      });
      at = to;
      seen += count;
    }
    if (waiting) return { seen, waitingForProjections: true };
  }
}

function receiversOf(partners: readonly PartnerConnection[], module: PushModule): PartnerConnection[] {
  return partners.filter((partner) => partnerEndpointUrl(partner, module, 'RECEIVER') !== null);
}

/** True when every named projection's checkpoint is at or past `position` (checkpoints read once per page). */
async function projectionsPassed(db: SqlDatabase, names: ReadonlySet<string>, position: Position, cache: Map<string, Position | null>): Promise<boolean> {
  for (const name of names) {
    if (!cache.has(name)) cache.set(name, (await readState(db, liveSchemaName(name))).checkpoint);
    const checkpoint = cache.get(name) ?? null;
    if (checkpoint === null || comparePositions(checkpoint, position) < 0) return false;
  }
  return true;
}
