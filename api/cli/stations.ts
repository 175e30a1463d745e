import type { Command } from 'commander';
import { IllegalStateError, InvalidCommandError } from '../../domain/shared/errors.js';
import type { RegisterStationOutcome, StationListRow } from '../operator-commands.js';
import { formatTable } from './projections.js';
import { caughtUpReadModels } from './read-models.js';
import { CliError, ExitCode, reportError, type CliContext } from './run.js';
import { cliActor, serverOption, withDatabaseOrServer } from './station-call.js';

/**
 * `csms stations register | list`. Register goes through the command bus (the password is hashed
 * here, only the hash is recorded); list reads the stations read model. Both open the database,
 * or go through the server when one is named or holds the embedded database (see station-call.ts).
 * A profile the server cannot authenticate is refused (exit 2) unless --force: through the server
 * it checks its own configuration, directly this command checks the configuration it loaded.
 */

/** Domain refusals are the operator's to fix: usage errors, with the domain's message. */
export function domainRefusal(error: unknown): unknown {
  if (error instanceof InvalidCommandError || error instanceof IllegalStateError) return new CliError(error.message, ExitCode.usage);
  return error;
}

const loadOperator = () => import('../operator-commands.js');

export function stationsTable(rows: readonly StationListRow[]): string[] {
  const header = ['ID', 'REGISTERED', 'ONLINE', 'VENDOR/MODEL', 'FIRMWARE', 'OCPP', 'BOOT', 'STATUS', 'LAST SEEN'];
  const body = rows.map((row) => [
    row.stationId,
    row.registered ? `profile ${row.securityProfile ?? '?'}` : 'no',
    row.online ? 'yes' : 'no',
    row.vendor || row.model ? `${row.vendor ?? '?'}/${row.model ?? '?'}` : '-',
    row.firmwareVersion ?? '-',
    row.ocppVersion ?? '-',
    row.bootStatus ?? '-',
    row.status ?? '-',
    row.lastSeenAt ?? '-',
  ]);
  return formatTable([header, ...body]);
}

export function registerStationsCommands(program: Command, context: CliContext): void {
  const stations = program.command('stations').description('register and list charging stations');

  stations
    .command('register')
    .description('register a station (again: change its password or security profile)')
    .argument('<id>', 'station id, as in its URL /ocpp/{id}')
    .option('--password <password>', 'Basic auth password (security profiles 1 and 2): 16 to 40 characters')
    .option(
      '--security-profile <n>',
      '0 none (needs OCPP_ALLOW_UNSECURED=true), 1 Basic auth, 2 TLS + Basic auth (needs TLS_CERT_FILE), 3 TLS client certificate (needs TLS_CA_FILE too); default 1 with --password, else required',
    )
    .option('--force', "register even when the profile cannot work with the server's configuration as checked (a server configured otherwise)")
    .addOption(serverOption())
    .action(async (id: string, options: { password?: string; securityProfile?: string; force?: boolean; server?: string }) => {
      try {
        const securityProfile = options.securityProfile === undefined ? undefined : Number(options.securityProfile);
        if (securityProfile !== undefined && ![0, 1, 2, 3].includes(securityProfile)) {
          throw new CliError('--security-profile must be 0, 1, 2 or 3', ExitCode.usage);
        }
        const request = { stationId: id, password: options.password, securityProfile, ...(options.force ? { force: true } : {}) };
        const outcome = await withDatabaseOrServer<RegisterStationOutcome>(
          context,
          'stations register',
          options.server,
          async (services) => {
            const { registerStation, stationSecurityConfigOf } = await loadOperator();
            const deps = { bus: services.bus, clock: services.clock, tenantId: services.config.tenantId, actor: cliActor() };
            return registerStation(deps, request, stationSecurityConfigOf(services.config));
          },
          async (client) => (await client.request('POST', '/stations', request)).body as RegisterStationOutcome,
        ).catch((error: unknown) => Promise.reject(domainRefusal(error)));
        context.out(
          outcome.outcome === 'registered'
            ? `station ${outcome.stationId} registered with security profile ${outcome.securityProfile}`
            : `station ${outcome.stationId} was registered: security changed to profile ${outcome.securityProfile}`,
        );
      } catch (error) {
        reportError(context, error);
      }
    });

  stations
    .command('list')
    .description('list stations from the read model: id, registered, online, vendor/model, firmware, status, last seen')
    .option('--json', 'one JSON object per line instead of a table')
    .addOption(serverOption())
    .action(async (options: { json?: boolean; server?: string }) => {
      try {
        const rows = await withDatabaseOrServer<StationListRow[]>(
          context,
          'stations list',
          options.server,
          async (services) => {
            const { listStations } = await loadOperator();
            await caughtUpReadModels(services, ['stations'], context.err);
            return listStations(services.db, services.config.tenantId);
          },
          async (client) => ((await client.request('GET', '/stations')).body as { stations: StationListRow[] }).stations,
          'read',
        );
        if (options.json) {
          for (const row of rows) context.out(JSON.stringify(row));
          return;
        }
        if (rows.length === 0) {
          context.out('no stations yet: register one with `csms stations register ID --password PASSWORD`, or let it connect');
          return;
        }
        for (const line of stationsTable(rows)) context.out(line);
      } catch (error) {
        reportError(context, error);
      }
    });
}
