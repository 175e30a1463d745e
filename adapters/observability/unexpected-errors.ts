import { Counter, Registry } from 'prom-client';

/**
 * The last line of defence (issue 9, point 4): an error nobody expected, caught at the edge of one
 * station connection, one partner request or one background worker, is logged and counted here
 * instead of reaching the process. One station or one worker must never take down every other.
 *
 * `component` is a short fixed name (`ocpp-connection`, `projection-runner:stations`,
 * `cdr-issuer`, `ocpi-push-worker`, `process`...): a label of bounded cardinality, never an id.
 */

export const observabilityRegistry = new Registry();

export const unexpectedErrorsTotal = new Counter({
  name: 'csms_unexpected_errors_total',
  help: 'Errors no code path expected, caught by the last line of defence, by component',
  labelNames: ['component'],
  registers: [observabilityRegistry],
});

/** Distinct component labels kept; past it they are counted as `other`, so a bug cannot blow up the series. */
export const unexpectedErrorComponentsMax = 64;
const componentsSeen = new Set<string>();

export interface FaultLog {
  error(object: object, message: string): void;
}

/** Logs and counts one unexpected error. Never throws: it is called from catch blocks. */
export function reportUnexpectedError(log: FaultLog, component: string, error: unknown, context: object = {}): void {
  let label = component;
  if (!componentsSeen.has(label)) {
    if (componentsSeen.size >= unexpectedErrorComponentsMax) label = 'other';
    else componentsSeen.add(label);
  }
  try {
    unexpectedErrorsTotal.inc({ component: label });
    log.error({ ...context, component, err: error }, `unexpected error in ${component}`);
  } catch {
    // A logger that throws must not turn a contained fault into a crash.
  }
}

/** The count so far for one component (tests; operators read the counter through /metrics). */
export async function unexpectedErrorCount(component: string): Promise<number> {
  const metric = await unexpectedErrorsTotal.get();
  return metric.values.filter((value) => value.labels.component === component).reduce((sum, value) => sum + value.value, 0);
}
