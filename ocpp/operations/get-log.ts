import type { OcppRequest } from './mapping.js';
import type { StationOperation } from './operations.js';

type GetLogOperation = Extract<StationOperation, { name: 'getLog' }>;

/**
 * GetLog has the same payload in OCPP 2.0.1 and in the 1.6 security extension (which has only
 * the SecurityLog type; 1.6 diagnostics go through GetDiagnostics instead).
 */
export function getLogRequest(operation: GetLogOperation, requestId: number, logType: 'DiagnosticsLog' | 'SecurityLog'): OcppRequest {
  return {
    action: 'GetLog',
    payload: {
      logType,
      requestId,
      retries: operation.retries,
      retryInterval: operation.retryIntervalS,
      log: { remoteLocation: operation.remoteLocation, oldestTimestamp: operation.oldestAt, latestTimestamp: operation.latestAt },
    },
  };
}
