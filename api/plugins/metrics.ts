import type { FastifyPluginAsync } from 'fastify';
import { Counter, Gauge, Registry } from 'prom-client';
import type { Clock } from '../../adapters/clock/clock.js';
import { withDeadline } from '../../adapters/clock/deadline.js';
import type { SqlExecutor } from '../../adapters/sql/port.js';
import { observabilityRegistry } from '../../adapters/observability/unexpected-errors.js';
import { cdrIssuerMetricsRegistry } from '../../commands/process/cdr-issuer.js';
import { pushMetricsRegistry } from '../../ocpi/push/metrics.js';
import { pendingGauges } from '../../ocpi/push/report.js';
import { ocpiAuthDenials } from '../../ocpi/transport/route.js';
import type { StationAuthenticator } from '../station-auth.js';
import { loopbackOnlyAccess, observabilityAccessCheck, type ObservabilityAccess } from './observability-access.js';

/**
 * GET /metrics in the Prometheus text format: the OCPI push outbox (pending per partner and
 * module and the oldest one's age, read from the outbox table at scrape time; delivered, retried
 * and rejected counts and attempt durations kept by this process's worker), OCPI auth denials,
 * station authentication (denials by reason, throttled handshakes, scrypt runs), unexpected
 * errors (adapters/observability) and the CDR issuer's refusals (commands/process/cdr-issuer.ts).
 * Counts and partner ids only, no tokens or payloads — still not for everyone: access as in
 * observability-access.ts (token, loopback, or the metrics listener).
 */

/** A scrape that hangs on the database is worse than one missing the outbox gauges. */
export const metricsDatabaseTimeoutMs = 2_000;

export interface MetricsOptions {
  readonly db: SqlExecutor;
  readonly clock: Clock;
  /** Who may scrape; default: loopback only. */
  readonly access?: ObservabilityAccess;
  /** The OCPP surface's station authenticator, once registered (asked at scrape time). */
  readonly stationAuthentication?: () => Pick<StationAuthenticator, 'denials' | 'passwordVerifications'> | undefined;
}

function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  return withDeadline(work, ms, () => new Error(`the database did not answer within ${ms} ms`));
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
  new Counter({
    name: 'csms_station_auth_denials_total',
    help: 'OCPP station handshakes refused by authentication (this process), by reason; throttled: too many wrong passwords (429)',
    labelNames: ['reason'],
    registers: [scraped],
    collect() {
      this.reset();
      for (const [reason, count] of Object.entries(options.stationAuthentication?.()?.denials() ?? {})) this.inc({ reason }, count);
    },
  });
  new Counter({
    name: 'csms_station_password_verifications_total',
    help: 'Station passwords checked with scrypt (this process); repeats of a verified password are not counted',
    registers: [scraped],
    collect() {
      this.reset();
      this.inc(options.stationAuthentication?.()?.passwordVerifications() ?? 0);
    },
  });
  const registry = Registry.merge([scraped, pushMetricsRegistry, observabilityRegistry, cdrIssuerMetricsRegistry]);
  const accessOf = observabilityAccessCheck(options.access ?? loopbackOnlyAccess);
  app.get('/metrics', async (request, reply) => {
    const access = accessOf(request);
    if (!access.granted) {
      request.log.warn({ remoteAddress: request.socket.remoteAddress, status: access.status }, 'metrics scrape denied');
      return reply.code(access.status).send({ error: access.status === 401 ? 'Unauthorized' : 'Forbidden', message: access.message });
    }
    await readOutbox();
    const text = await registry.metrics();
    return reply.header('content-type', registry.contentType).send(text);
  });
};
