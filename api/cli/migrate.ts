import type { Command } from 'commander';
import { reportError, withServices, type CliContext } from './run.js';
import { describeStorage } from '../config.js';

/**
 * `csms migrate`: brings every schema up to date. The event store creates and migrates its own
 * schema when opened; this adds the projections' schemas. Safe to run on every deploy and from
 * several nodes at once (migrations take an advisory lock).
 */
export function registerMigrateCommand(program: Command, context: CliContext): void {
  program
    .command('migrate')
    .description('create or update the event store and read-model schemas, then exit')
    .action(async () => {
      try {
        await withServices(context, 'migrate', async (services) => {
          const storage = describeStorage(services.config);
          context.out(`database: ${storage.database}`);
          context.out(`event store: ${storage.eventStore}`);
          const { migrateProjections } = await import('../../projections/index.js');
          await migrateProjections({ eventStore: services.eventStore, db: services.db, log: context.err });
          // The OCPI push outbox is not a projection (never rebuilt), so it has its own schema.
          const { migrateOutbox } = await import('../../ocpi/push/outbox.js');
          await migrateOutbox(services.db);
          context.out('migrations applied');
        });
      } catch (error) {
        reportError(context, error);
      }
    });
}
