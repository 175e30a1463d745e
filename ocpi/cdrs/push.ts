import type { RecordedEvent } from '../../adapters/event-store/port.js';
import type { PushSource, PushTrigger } from '../push/source.js';
import { cdrKeys, findCdr, partyKey } from './read.js';
import { sendableCdr } from './wire.js';

/**
 * CDRs pushed to the eMSP of their token (mod_cdrs "Receiver interface"): POSTed once to the
 * Receiver endpoint itself; the eMSP answers with the Location of its copy, which the outbox
 * keeps. A CDR never changes: a correction is a credit CDR plus a new CDR, each POSTed in turn.
 *
 * Only CdrIssued triggers. The credit CDR and the corrected CDR are issued on their own streams
 * with a CdrIssued of their own; triggering on CdrCredited/CdrReissued as well would enqueue a
 * second push of the same CDR id, and the outbox never merges CDR pushes (ocpi/push/outbox.ts), so
 * the eMSP could get the same CDR POSTed twice.
 */

/** Keys per listKeys call at most, whatever the caller asks: a sync pages with afterKey. */
export const cdrKeysPerCallMax = 1_000;

export const cdrsPushSource: PushSource = {
  module: 'cdrs',
  projections: ['cdrs'],
  eventTypes: new Set(['CdrIssued']),
  triggers(event: RecordedEvent): readonly PushTrigger[] {
    if (event.type !== 'CdrIssued') return [];
    const cdrId = (event.data as { cdr?: { id?: unknown } }).cdr?.id;
    return typeof cdrId === 'string' && cdrId.length > 0 ? [{ module: 'cdrs', objectKey: cdrId, change: 'object' }] : [];
  },
  async build(context, objectKey, change) {
    // CDRs are never patched nor deleted (mod_cdrs: the Receiver has only POST and GET).
    if (change !== 'object') return null;
    const row = await findCdr(context.db, context.tenantId, objectKey);
    if (row === null) return null;
    const forPartner = context.partner.parties.some((party) => partyKey(party) === row.emsp.toUpperCase());
    if (!forPartner) return null;
    return { method: 'POST', path: '', body: sendableCdr(row.cdr_id, row.cdr_json) };
  },
  listKeys(context, afterKey, limit) {
    return cdrKeys(context.db, context.tenantId, afterKey, Math.min(limit, cdrKeysPerCallMax));
  },
};
