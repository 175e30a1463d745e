import type { FastifyPluginAsync } from 'fastify';
import { Counter, Gauge, Registry } from 'prom-client';
import type { Clock } from '../../adapters/clock/clock.js';
import type { SqlExecutor } from '../../adapters/sql/port.js';
import { pushMetricsRegistry } from '../../ocpi/push/metrics.js';
import { pendingGauges } from '../../ocpi/push/report.js';
import { ocpiAuthDenials } from '../../ocpi/transport/route.js';

/**
 * GET /metrics in the Prometheus text format: the OCPI push outbox (pending per partner and
 * module and the oldest one's age, read from the outbox table at scrape time; delivered, retried
 * and rejected counts and attempt durations kept by this process's worker) and OCPI auth
 * denials. Unprotected like /health: counts and partner ids only, no tokens or payloads.
 */

/** A scrape that hangs on the database is worse than one missing the outbox gauges. */
export const metricsDatabaseTimeoutMs = 2_000;

export interface MetricsOptions {
  readonly db: SqlExecutor;
  readonly clock: Clock;
}

async function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the database did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

export const metricsPlugin: FastifyPluginAsync<MetricsOptions> = async (app, options) => {
  const scraped = new Registry();
  // One read per scrape, before the registry collects, feeds both gauges.
  let latest: Awaited<ReturnType<typeof pendingGauges>> = [];
  const readOutbox = async () => {
    try {
      latest = await withTimeout(pendingGauges(options.db, options.clock.now()), metricsDatabaseTimeoutMs);
    } catch (error) {
      // No outbox yet (push never started on this database), or the database is down: /health says which.
      latest = [];
      app.log.debug({ err: error }, 'metrics: outbox gauges unavailable');
    }
  };
  new Gauge({
    name: 'ocpi_push_pending',
    help: 'OCPI pushes waiting for delivery (including those waiting for a retry), by partner and module',
    labelNames: ['partner', 'module'],
    registers: [scraped],
    collect() {
      this.reset();
      for (const row of latest) this.set({ partner: row.partnerId, module: row.module }, row.pending);
    },
  });
  new Gauge({
    name: 'ocpi_push_oldest_pending_age_seconds',
    help: 'Age of the oldest pending OCPI push, by partner and module',
    labelNames: ['partner', 'module'],
    registers: [scraped],
    collect() {
      this.reset();
      for (const row of latest) this.set({ partner: row.partnerId, module: row.module }, row.oldestAgeSeconds);
    },
  });
  new Counter({
    name: 'ocpi_auth_denials_total',
    help: 'OCPI requests refused by authentication (this process), by reason',
    labelNames: ['reason'],
    registers: [scraped],
    collect() {
      this.reset();
      for (const [reason, count] of Object.entries(ocpiAuthDenials)) this.inc({ reason }, count);
    },
  });
  const registry = Registry.merge([scraped, pushMetricsRegistry]);
  app.get('/metrics', async (_request, reply) => {
    await readOutbox();
    const text = await registry.metrics();
    return reply.header('content-type', registry.contentType).send(text);
  });
};
