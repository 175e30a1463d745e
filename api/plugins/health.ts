import type { FastifyPluginAsync } from 'fastify';
import type { EventStore } from '../../adapters/event-store/port.js';
import type { SqlDatabase } from '../../adapters/sql/port.js';
import { projectionStatus } from '../../projections/index.js';

/**
 * GET /health for load balancers and operators: 200 when the database answers, 503 when it does
 * not (so a balancer takes the node out), with each projection's lag so a stuck runner shows.
 */

/** A health check that hangs is worse than one that fails: balancers time out around 5 s. */
export const healthDatabaseTimeoutMs = 2_000;

export interface HealthOptions {
  readonly db: SqlDatabase;
  readonly eventStore: EventStore;
}

export interface HealthBody {
  status: 'ok' | 'unavailable';
  database: 'ok' | 'unavailable';
  eventStore: EventStore['kind'];
  projections: { name: string; lagEvents: number | null; checkpoint: string | null }[];
  error?: string;
}

function withTimeout<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

export const healthPlugin: FastifyPluginAsync<HealthOptions> = async (app, options) => {
  app.get('/health', async (request, reply) => {
    const body: HealthBody = { status: 'ok', database: 'ok', eventStore: options.eventStore.kind, projections: [] };
    try {
      await withTimeout(options.db.query('SELECT 1'), healthDatabaseTimeoutMs, 'the database');
      const statuses = await withTimeout(
        projectionStatus({ db: options.db, eventStore: options.eventStore }),
        healthDatabaseTimeoutMs,
        'projection status',
      );
      body.projections = statuses.map((status) => ({ name: status.name, lagEvents: status.lagEvents, checkpoint: status.checkpoint }));
      return body;
    } catch (error) {
      request.log.warn({ err: error }, 'health check failed');
      return reply.code(503).send({ ...body, status: 'unavailable', database: 'unavailable', error: (error as Error).message });
    }
  });
};
