import type { Command } from 'commander';
import type { ProjectionDeps, ProjectionStatus } from '../../projections/index.js';
import { createProgress } from './progress.js';
import { CliError, ExitCode, reportError, withServices, type CliContext } from './run.js';

/** `csms projections list | status | rebuild | verify` (docs/design.md, "Projections"). */

/** Renders rows as an aligned text table; the header row first. */
export function formatTable(rows: readonly (readonly string[])[]): string[] {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? '').length)));
  return rows.map((row) => row.map((cell, column) => cell.padEnd(widths[column]!)).join('  ').trimEnd());
}

export function statusTable(statuses: readonly ProjectionStatus[]): string[] {
  const header = ['NAME', 'VERSION', 'CHECKPOINT', 'LAG', 'LEASE OWNER', 'STALE'];
  const rows = statuses.map((s) => [
    s.name,
    String(s.version),
    s.checkpoint ?? '-',
    s.lagEvents === null ? '?' : String(s.lagEvents),
    leaseCell(s),
    s.stale ? 'yes' : 'no',
  ]);
  return formatTable([header, ...rows]);
}

/** A holder that stopped renewing is shown as such, never as a live owner; an expired lease has no owner. */
function leaseCell(status: ProjectionStatus): string {
  const lease = status.lease;
  if (lease === null || lease.state === 'expired') return '-';
  if (lease.state === 'overdue') return `${lease.owner} (not renewed for ${Math.round(lease.renewedAgoMs / 1000)} s)`;
  return lease.owner;
}

/** Loaded when a command runs, not for `--help` (see run.ts). */
const loadProjections = () => import('../../projections/index.js');

async function knownNames(): Promise<string[]> {
  const { allProjections } = await loadProjections();
  return allProjections().map((projection) => projection.name);
}

/** The names a rebuild or verify acts on: one named, or all; refuses an unknown name as a usage error. */
async function selectProjections(name: string | undefined, all: boolean, verb: string): Promise<string[]> {
  const names = await knownNames();
  if (name !== undefined && all) throw new CliError(`give a projection name or --all, not both`, ExitCode.usage);
  if (name === undefined) {
    if (!all && verb === 'rebuild') throw new CliError(`say which projection to rebuild, or --all (known: ${names.join(', ')})`, ExitCode.usage);
    return names;
  }
  if (!names.includes(name)) throw new CliError(`no projection named ${JSON.stringify(name)} (known: ${names.join(', ')})`, ExitCode.usage);
  return [name];
}

function depsOf(services: { eventStore: ProjectionDeps['eventStore']; db: ProjectionDeps['db'] }, context: CliContext): ProjectionDeps {
  return { eventStore: services.eventStore, db: services.db, log: context.err };
}

export function registerProjectionsCommands(program: Command, context: CliContext): void {
  const projections = program.command('projections').description('inspect, rebuild and verify read-model projections');

  projections
    .command('list')
    .description('list every projection with its version')
    .action(async () => {
      try {
        const { allProjections } = await loadProjections();
        const rows = allProjections().map((projection) => [projection.name, String(projection.version)]);
        for (const line of formatTable([['NAME', 'VERSION'], ...rows])) context.out(line);
      } catch (error) {
        reportError(context, error);
      }
    });

  projections
    .command('status')
    .description('show each projection: version, checkpoint, lag in events, lease owner, stale (old schema version, or a lease holder that stopped renewing)')
    .action(async () => {
      try {
        await withServices(context, 'projections status', async (services) => {
          const { projectionStatus } = await loadProjections();
          for (const line of statusTable(await projectionStatus(depsOf(services, context)))) context.out(line);
        });
      } catch (error) {
        reportError(context, error);
      }
    });

  projections
    .command('rebuild')
    .description('replay events into a fresh schema, then swap it in while the live one keeps serving')
    .argument('[name]', 'projection to rebuild')
    .option('--all', 'rebuild every projection')
    .action(async (name: string | undefined, options: { all?: boolean }) => {
      try {
        const names = await selectProjections(name, options.all === true, 'rebuild');
        await withServices(context, 'projections rebuild', async (services) => {
          const { rebuildProjection } = await loadProjections();
          for (const projectionName of names) {
            const progress = createProgress(projectionName);
            try {
              const result = await rebuildProjection(depsOf(services, context), projectionName, {
                onProgress: (applied, total) => progress.update(applied, total),
              });
              progress.stop();
              context.out(`${result.name}: rebuilt from ${result.events} events in ${Math.round(result.durationMs)} ms`);
            } finally {
              progress.stop();
            }
          }
        });
      } catch (error) {
        reportError(context, error);
      }
    });

  projections
    .command('verify')
    .description('rebuild aside and compare checksums with the live schema (exit 1 if any differs)')
    .argument('[name]', 'projection to verify (default: all)')
    .action(async (name: string | undefined) => {
      try {
        const names = await selectProjections(name, false, 'verify');
        await withServices(context, 'projections verify', async (services) => {
          const { migrateProjections, verifyProjection } = await loadProjections();
          // A database where no read model was created yet (no `csms migrate`, no server) verifies
          // its empty live schemas rather than failing on their absence.
          await migrateProjections(depsOf(services, context));
          let differing = 0;
          for (const projectionName of names) {
            const progress = createProgress(`${projectionName} (verify)`);
            let result;
            try {
              result = await verifyProjection(depsOf(services, context), projectionName, {
                onProgress: (applied: number, total: number | null) => progress.update(applied, total),
              });
            } finally {
              progress.stop();
            }
            if (!result.identical) differing += 1;
            context.out(
              `${result.name}: ${result.identical ? 'identical' : 'DIFFERS'} at ${result.position ?? '(empty store)'}` +
                ` live=${result.liveChecksum} rebuilt=${result.rebuiltChecksum}`,
            );
          }
          if (differing > 0) {
            context.err(`${differing} of ${names.length} projections differ from a rebuild`);
            context.exitCode = ExitCode.checkFailed;
          }
        });
      } catch (error) {
        reportError(context, error);
      }
    });
}
