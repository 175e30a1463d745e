import type { FastifyPluginAsync } from 'fastify';
import { withDeadline } from '../../adapters/clock/deadline.js';
import type { EventStore } from '../../adapters/event-store/port.js';
import type { SqlDatabase } from '../../adapters/sql/port.js';
import { projectionStatus } from '../../projections/index.js';
import { loopbackOnlyAccess, observabilityAccessCheck, type ObservabilityAccess } from './observability-access.js';

/**
 * GET /health for load balancers and operators: 200 when the database answers, 503 when it does
 * not (so a balancer takes the node out). Anyone gets `{status}` only; callers allowed by
 * observability-access.ts (token, loopback, metrics listener) also get the database, the event
 * store kind and each projection's lag, so a stuck runner shows.
 */

/** A health check that hangs is worse than one that fails: balancers time out around 5 s. */
export const healthDatabaseTimeoutMs = 2_000;

export interface HealthOptions {
  readonly db: SqlDatabase;
  readonly eventStore: EventStore;
  /** Who sees the details; default: loopback only. */
  readonly access?: ObservabilityAccess;
}

/** What an anonymous caller learns: up or not, nothing about the insides. */
export interface PublicHealthBody {
  status: HealthBody['status'];
}

export interface HealthBody {
  status: 'ok' | 'unavailable';
  database: 'ok' | 'unavailable';
  eventStore: EventStore['kind'];
  projections: { name: string; lagEvents: number | null; checkpoint: string | null }[];
  error?: string;
}

function withTimeout<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  return withDeadline(work, ms, () => new Error(`${what} did not answer within ${ms} ms`));
}

export const healthPlugin: FastifyPluginAsync<HealthOptions> = async (app, options) => {
  const accessOf = observabilityAccessCheck(options.access ?? loopbackOnlyAccess);
  app.get('/health', async (request, reply) => {
    // An anonymous caller costs one SELECT 1, not the projection queries, however often it asks.
    const details = accessOf(request).granted;
    const body: HealthBody = { status: 'ok', database: 'ok', eventStore: options.eventStore.kind, projections: [] };
    let statusCode = 200;
    try {
      await withTimeout(options.db.query('SELECT 1'), healthDatabaseTimeoutMs, 'the database');
      if (details) {
        const statuses = await withTimeout(
          projectionStatus({ db: options.db, eventStore: options.eventStore }),
          healthDatabaseTimeoutMs,
          'projection status',
        );
        body.projections = statuses.map((status) => ({ name: status.name, lagEvents: status.lagEvents, checkpoint: status.checkpoint }));
      }
    } catch (error) {
      request.log.warn({ err: error }, 'health check failed');
      Object.assign(body, { status: 'unavailable', database: 'unavailable', error: (error as Error).message });
      statusCode = 503;
    }
    return reply.code(statusCode).send(details ? body : ({ status: body.status } satisfies PublicHealthBody));
  });
};
