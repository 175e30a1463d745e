import { createHash } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { quoteIdentifier, type SqlExecutor } from '../../adapters/sql/port.js';
import { liveSchemaName } from '../../projections/schema.js';
import { ocpiRequest } from '../client/client.js';
import { loadPartnerConnection, routingTo } from '../client/partners.js';
import type { OcpiModuleContext } from '../plugin.js';

/**
 * What the commands and chargingprofiles Receivers share: both answer at once and deliver the
 * station's answer later, as a POST to the eMSP's response_url (spec mod_commands "asynchronous").
 * So both need a bounded set of work in flight, deterministic operation ids (a retried POST runs
 * the station command once) and a way to find the station of a session.
 */

/** Station commands in flight per module; beyond, a command is REJECTED at once. */
export const asyncCommandsInFlightMax = 1_000;
/** How long closing the server waits for commands in flight before it leaves them. */
export const asyncCommandsCloseWaitMs = 5_000;

/**
 * How long a station gets to answer. The eMSP is told `timeout` = this plus the time we may need
 * to deliver the result: ocpi/client's 4 attempts of 10 s with backoff come to about 45 s.
 * Mutable only so tests (and later `csms serve` configuration) can shorten it; it is read per command.
 */
export const ocpiCommandTimeouts = { stationAnswerMs: 30_000, resultDeliveryMs: 45_000 };

export function responseTimeoutSeconds(): number {
  return Math.ceil((ocpiCommandTimeouts.stationAnswerMs + ocpiCommandTimeouts.resultDeliveryMs) / 1000);
}

/**
 * Deterministic per partner and X-Request-ID: the OCPI transport retries a POST with the same
 * request id, and the station operation then refuses to run twice. Hashed to keep the ids short
 * (command ids are at most 200 characters; X-Request-ID may be 255).
 */
export function operationIdFor(module: string, partnerId: string, requestId: string): string {
  return `ocpi-${module}-${createHash('sha256').update(`${partnerId}\n${requestId}`).digest('hex').slice(0, 32)}`;
}

/** A positive 31-bit integer from a string (OCPP wants integer reservation ids and remoteStartIds). */
export function integerIdFor(value: string): number {
  const id = createHash('sha256').update(value).digest().readUInt32BE(0) & 0x7fffffff;
  return id === 0 ? 1 : id;
}

export const displayText = (text: string) => [{ language: 'en', text: text.slice(0, 512) }];

export interface AsyncCommandRunner {
  /** Starts `work` unless the bound is reached or the server closes; false then. */
  start(work: () => Promise<void>): boolean;
  inFlight(): number;
}

/** `closeWaitMs`: the production bound unless a test shortens it (so it need not wait 5 s). */
export function createAsyncCommandRunner(app: FastifyInstance, module: string, closeWaitMs = asyncCommandsCloseWaitMs): AsyncCommandRunner {
  const running = new Set<Promise<void>>();
  let closing = false;
  app.addHook('onClose', async () => {
    closing = true;
    // Every job is bounded by its station timeout and partner-call timeouts; still, a close never waits longer than this.
    let timer: NodeJS.Timeout | undefined;
    const waited = new Promise<void>((resolve) => (timer = setTimeout(resolve, closeWaitMs)));
    await Promise.race([Promise.allSettled([...running]), waited]);
    clearTimeout(timer);
  });
  return {
    start(work) {
      if (closing || running.size >= asyncCommandsInFlightMax) return false;
      const job: Promise<void> = work()
        .catch((error: unknown) => app.log.warn({ err: error, module }, 'ocpi asynchronous command failed'))
        .finally(() => running.delete(job));
      running.add(job);
      return true;
    },
    inFlight: () => running.size,
  };
}

/** POSTs a result to the partner's response_url with our token for them, checked against its schema first. */
export async function postResult<T extends z.ZodType>(
  context: OcpiModuleContext,
  request: { readonly partnerId: string; readonly url: string; readonly correlationId: string; readonly schema: T; readonly body: z.infer<T> },
): Promise<void> {
  const body = request.schema.parse(request.body);
  const connection = await loadPartnerConnection(context.db, context.tenantId, context.sealer, request.partnerId);
  if (connection === null) {
    context.app.log.warn({ partnerId: request.partnerId }, 'ocpi command result not delivered: the partner is no longer registered');
    return;
  }
  const routing = routingTo(connection, context.us, 'EMSP');
  await ocpiRequest(request.url, { method: 'POST', body, data: z.unknown() }, {
    ...context.client,
    token: connection.token,
    correlationId: request.correlationId,
    ...(routing ? { routing } : {}),
  });
}

export interface ActiveSession {
  readonly transactionId: string;
  readonly stationId: string;
  readonly evseId: number;
}

/** OCPI session id = our transaction id; only a running one can take commands. */
export async function findActiveSession(db: SqlExecutor, tenantId: string, sessionId: string): Promise<ActiveSession | null> {
  const { rows } = await db.query<{ station_id: string; evse_id: number }>(
    `SELECT station_id, evse_id FROM ${quoteIdentifier(liveSchemaName('sessions'))}.transactions
      WHERE tenant_id = $1 AND transaction_id = $2 AND status = 'active'`,
    [tenantId, sessionId],
  );
  const row = rows[0];
  return row === undefined ? null : { transactionId: sessionId, stationId: row.station_id, evseId: Number(row.evse_id) };
}

/** False only when the read model knows the station is offline (null, never heard: try it). */
export async function stationOnline(db: SqlExecutor, tenantId: string, stationId: string): Promise<boolean> {
  const { rows } = await db.query<{ online: boolean | null }>(
    `SELECT online FROM ${quoteIdentifier(liveSchemaName('locations'))}.station_links WHERE tenant_id = $1 AND station_id = $2`,
    [tenantId, stationId],
  );
  return rows[0]?.online !== false;
}
