import { randomUUID } from 'node:crypto';
import Fastify from 'fastify';
import { openPostgresEventStore, type PostgresEventStore } from '../../adapters/event-store/postgres.js';
import { openPostgres } from '../../adapters/sql/postgres.js';
import type { SqlDatabase } from '../../adapters/sql/port.js';
import { OcppCallError, ocppGatewayPlugin, type CallContext, type OcppHandler } from '../../ocpp/gateway.js';

/**
 * The OCPP benchmark's own server (`--server=transport`): fastify + ocppGatewayPlugin + a trivial
 * handler, so the gateway's cost can be measured apart from the translators. With DATABASE_URL
 * set, every CALL but Heartbeat appends one event to the station's stream through the real
 * Postgres event store (group commit) before it is answered: "durable" as the real handler will be,
 * minus the deciders and projections. Prints `ocpp-bench-ready ws://…/ocpp` when listening.
 *
 * Run by test/bench/ocpp.ts as a child process: node --import tsx test/bench/ocpp-transport-server.ts
 */

const port = Number(process.env.PORT ?? 0);
const host = process.env.HOST ?? '127.0.0.1';
const databaseUrl = process.env.DATABASE_URL;
const tenantId = 'default';

class BenchHandler implements OcppHandler {
  private nextTransactionId16 = 1;

  constructor(private readonly store: PostgresEventStore | null) {}

  onConnected(): void {}
  onDisconnected(): void {}

  async handleCall(ctx: CallContext, action: string, payload: unknown): Promise<unknown> {
    const currentTime = new Date().toISOString();
    if (action !== 'Heartbeat' && this.store) {
      await this.store.append(`ocppbench-${tenantId}-${ctx.stationId}`, [{
        eventId: randomUUID(),
        type: `Ocpp${action}Received`,
        schemaVersion: 1,
        data: { action, payload: payload as { [key: string]: never } },
        metadata: {
          tenantId,
          correlationId: ctx.messageId,
          causationId: ctx.messageId,
          actor: `station:${ctx.stationId}`,
          occurredAt: currentTime,
          recordedAt: currentTime,
        },
      }], 'any');
    }
    switch (action) {
      case 'BootNotification':
        return { status: 'Accepted', currentTime, interval: 300 };
      case 'Heartbeat':
        return { currentTime };
      case 'StatusNotification':
      case 'MeterValues':
      case 'StopTransaction':
        return {};
      case 'TransactionEvent':
        return (payload as { eventType?: string }).eventType === 'Started' ? { idTokenInfo: { status: 'Accepted' } } : {};
      case 'StartTransaction':
        return { transactionId: this.nextTransactionId16++, idTagInfo: { status: 'Accepted' } };
      case 'Authorize':
        return ctx.ocppVersion === 'ocpp1.6' ? { idTagInfo: { status: 'Accepted' } } : { idTokenInfo: { status: 'Accepted' } };
      default:
        throw new OcppCallError('NotSupported', `${action} is not part of the benchmark`);
    }
  }
}

let db: SqlDatabase | null = null;
let store: PostgresEventStore | null = null;
if (databaseUrl) {
  db = openPostgres({ connectionString: databaseUrl, applicationName: 'csms-ocpp-bench' });
  store = await openPostgresEventStore(db);
}

const app = Fastify({ logger: { level: process.env.LOG_LEVEL ?? 'warn' } });
await app.register(ocppGatewayPlugin, {
  handler: new BenchHandler(store),
  authenticateStation: async () => ({ status: 'accept', tenantId }),
});
await app.listen({ host, port });
const address = app.server.address();
const boundPort = typeof address === 'object' && address ? address.port : port;
process.stdout.write(`ocpp-bench-ready ws://${host}:${boundPort}/ocpp store=${store ? 'postgres' : 'none'}\n`);

// The benchmark asks for a full GC before reading RSS (started with --expose-gc), so "per idle
// connection" counts what is retained, not garbage V8 has not yet bothered to collect.
process.on('SIGUSR2', () => {
  (globalThis as { gc?: () => void }).gc?.();
  const memory = process.memoryUsage();
  process.stdout.write(`ocpp-bench-gc heapUsed=${memory.heapUsed} rss=${memory.rss} external=${memory.external}\n`);
});

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  await app.close();
  await store?.close();
  await db?.close();
  process.exit(0);
};
process.on('SIGTERM', () => void stop());
process.on('SIGINT', () => void stop());
