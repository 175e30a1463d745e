import type { Command } from 'commander';
import { createProgress } from './progress.js';
import { ExitCode, reportError, withServices, type CliContext } from './run.js';

/** `csms audit verify`: proves no event was altered or removed (see api/audit/verify-chains.ts). */
export function registerAuditCommands(program: Command, context: CliContext): void {
  const audit = program.command('audit').description('check the integrity of the event store');
  audit
    .command('verify')
    .description("walk every stream's hash chain in global order; exit 1 naming the first altered or missing event")
    .action(async () => {
      try {
        await withServices(context, 'audit verify', async (services) => {
          const { verifyChains } = await import('../audit/verify-chains.js');
          const progress = createProgress('audit');
          let result;
          try {
            result = await verifyChains(services.eventStore, { onProgress: (checked) => progress.update(checked, null) });
          } finally {
            progress.stop();
          }
          if (result.ok) {
            context.out(`audit ok: ${result.events} events in ${result.streams} streams, every hash chain intact`);
            return;
          }
          const { problem } = result;
          context.out(
            `audit FAILED at stream ${problem.streamId} revision ${problem.revision} event ${problem.eventId} ` +
              `(position ${problem.position}): ${problem.reason}`,
          );
          context.out(`${result.events} events in ${result.streams} streams checked before it`);
          context.exitCode = ExitCode.checkFailed;
        });
      } catch (error) {
        reportError(context, error);
      }
    });
}
