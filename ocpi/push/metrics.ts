import { Counter, Histogram, Registry } from 'prom-client';

/**
 * The outbox's own counters, kept by the worker of this process and exposed by GET /metrics
 * (api/plugins/metrics.ts, which adds the gauges it reads from the outbox table). Labels are
 * partner and module: at most `partnerConnectionsMax` partners times four modules.
 */

export const pushMetricsRegistry = new Registry();

const labelNames = ['partner', 'module'] as const;

export const pushDelivered = new Counter({
  name: 'ocpi_push_delivered_total',
  help: 'OCPI pushes delivered to partners (including those with nothing to send)',
  labelNames,
  registers: [pushMetricsRegistry],
});

export const pushRetried = new Counter({
  name: 'ocpi_push_retried_total',
  help: 'OCPI push attempts that failed and were scheduled again (5xx, 429, timeout, unreachable, malformed)',
  labelNames,
  registers: [pushMetricsRegistry],
});

export const pushRejected = new Counter({
  name: 'ocpi_push_rejected_total',
  help: 'OCPI pushes a partner refused as a client error (OCPI 2xxx): an operator must look',
  labelNames,
  registers: [pushMetricsRegistry],
});

export const pushDurationSeconds = new Histogram({
  name: 'ocpi_push_delivery_duration_seconds',
  help: 'Duration of one OCPI push attempt, request to answer',
  labelNames,
  // From a partner next door to our 10 s request timeout.
  buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  registers: [pushMetricsRegistry],
});
