import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import type { EventToAppend } from './port.js';

// canonicalize ships CommonJS with an ESM-style .d.ts; load it as what it is.
const canonicalize = createRequire(import.meta.url)('canonicalize') as (input: unknown) => string | undefined;

/**
 * The hash chain that lets `csms audit verify` prove no event was altered or removed: each event's
 * hash covers its own content (RFC 8785 canonical JSON, so key order in jsonb does not matter) and
 * the hash of its stream predecessor.
 */
export function eventHash(
  event: EventToAppend & { readonly streamId: string; readonly revision: number },
  previousHash: string | null,
): string {
  const content = canonicalize({
    streamId: event.streamId,
    revision: event.revision,
    eventId: event.eventId,
    type: event.type,
    schemaVersion: event.schemaVersion,
    data: event.data,
    metadata: event.metadata,
    previousHash,
  });
  if (content === undefined) throw new Error(`event ${event.eventId} cannot be canonicalized`);
  return createHash('sha256').update(content).digest('hex');
}
