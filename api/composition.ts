import path from 'node:path';
import type { EventStore } from '../adapters/event-store/port.js';
import type { SqlDatabase } from '../adapters/sql/port.js';
import { openPglite } from '../adapters/sql/pglite.js';
import { openPostgres } from '../adapters/sql/postgres.js';
import { openPostgresEventStore } from '../adapters/event-store/postgres.js';
import { systemClock, type Clock } from '../adapters/clock/clock.js';
import { createCommandBus, type CommandBus } from '../commands/index.js';
import type { Config } from './config.js';
import { acquireEmbeddedLock, type EmbeddedLock } from './embedded-lock.js';

/**
 * The composition root: the one place that turns configuration into open adapters. Everything
 * above (server, CLI commands) receives these and never opens a connection of its own.
 */

/** PGlite's files go in a subfolder so the data folder can also hold the lock (and later, more). */
export const pgliteSubfolder = 'pglite';

export interface Services {
  readonly config: Config;
  readonly db: SqlDatabase;
  readonly eventStore: EventStore;
  readonly clock: Clock;
  /** Every change (station, operator, CLI) goes through this one bus. */
  readonly bus: CommandBus;
  /** Closes the event store only (queued appends written, subscriptions ended): a step of `csms serve`'s shutdown. Idempotent. */
  closeEventStore(): Promise<void>;
  /** Closes the event store, then the database, then releases the embedded lock. Idempotent. */
  close(): Promise<void>;
}

export interface OpenServicesOptions {
  /** What is opening them ('serve', 'migrate', ...): shown to whoever finds the embedded database locked. */
  readonly command: string;
  /** Where the database adapter tells of lost connections and reconnects (stderr for the CLI). */
  readonly log?: (line: string) => void;
}

export async function openServices(config: Config, options: OpenServicesOptions): Promise<Services> {
  let lock: EmbeddedLock | null = null;
  let db: SqlDatabase | null = null;
  let eventStore: EventStore;
  try {
    if (config.database.kind === 'pglite') {
      lock = acquireEmbeddedLock(config.database.dataDir, options.command);
      db = await openPglite({ dataDir: path.join(config.database.dataDir, pgliteSubfolder) });
    } else {
      db = openPostgres({ connectionString: config.database.url, applicationName: `csms-${options.command}`, ...(options.log ? { log: options.log } : {}) });
      // pg connects lazily; fail here with the real reason rather than deep inside a command.
      await db.query('SELECT 1');
    }
    if (config.eventStoreUrl) {
      // Loaded only when asked for: the gRPC client is heavy and the embedded mode never needs it.
      const { openEventStoreDbEventStore } = await import('../adapters/event-store/eventstoredb.js');
      eventStore = openEventStoreDbEventStore(config.eventStoreUrl);
    } else {
      eventStore = await openPostgresEventStore(db);
    }
  } catch (error) {
    await db?.close().catch(() => {});
    lock?.release();
    throw error;
  }
  const opened: { db: SqlDatabase; eventStore: EventStore } = { db, eventStore };
  let closing: Promise<void> | null = null;
  let eventStoreClosing: Promise<void> | null = null;
  const closeEventStore = () => (eventStoreClosing ??= opened.eventStore.close());
  return {
    config,
    db: opened.db,
    eventStore: opened.eventStore,
    clock: systemClock,
    bus: createCommandBus({ eventStore: opened.eventStore, clock: systemClock }),
    closeEventStore,
    close() {
      closing ??= (async () => {
        try {
          await closeEventStore();
        } finally {
          try {
            await opened.db.close();
          } finally {
            lock?.release();
          }
        }
      })();
      return closing;
    },
  };
}
