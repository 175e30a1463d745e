import { rememberBounded } from '../../../domain/shared/bounded-map.js';

/**
 * Which transaction runs on a 1.6 connector, so a StatusNotification (which names no transaction)
 * can record the charging state on it. 1.6 only: 2.0.1 sends chargingState inside TransactionEvent.
 *
 * The default is this process's memory, filled by StartTransaction and emptied by StopTransaction:
 * after a restart, or on another node, a session started earlier is not known and its status-derived
 * charging states are reported unrecorded until it ends. A durable lookup (e.g. over the sessions
 * read model) can be passed as `activeTransactions` instead.
 */
export interface ActiveTransactions {
  started(tenantId: string, stationId: string, evseId: number, transactionId: string): void;
  ended(tenantId: string, stationId: string, transactionId: string): void;
  on(tenantId: string, stationId: string, evseId: number): string | undefined;
}

/** Connectors remembered per process; the oldest are forgotten first (a connector whose stop never came). */
export const activeTransactionsRememberedMax = 50_000;

export function memoryActiveTransactions(rememberedMax = activeTransactionsRememberedMax): ActiveTransactions {
  const byConnector = new Map<string, string>();
  const key = (tenantId: string, stationId: string, evseId: number) => `${tenantId}\n${stationId}\n${evseId}`;
  return {
    started(tenantId, stationId, evseId, transactionId) {
      const connector = key(tenantId, stationId, evseId);
      rememberBounded(byConnector, connector, transactionId, rememberedMax);
    },
    ended(tenantId, stationId, transactionId) {
      const prefix = `${tenantId}\n${stationId}\n`;
      for (const [connector, running] of byConnector) {
        if (running === transactionId && connector.startsWith(prefix)) byConnector.delete(connector);
      }
    },
    on(tenantId, stationId, evseId) {
      return byConnector.get(key(tenantId, stationId, evseId));
    },
  };
}
