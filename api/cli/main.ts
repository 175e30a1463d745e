import { Command, CommanderError } from 'commander';
import { registerAuditCommands } from './audit.js';
import { registerBillingCommands } from './billing.js';
import { registerEventsCommands } from './events.js';
import { registerMigrateCommand } from './migrate.js';
import { registerOcpiCommands } from './ocpi.js';
import { registerProjectionsCommands } from './projections.js';
import { createContext, ExitCode, reportError, type CliContext, type CliOutput } from './run.js';
import { registerServeCommand } from './serve.js';
import { registerStationCallCommand } from './station-call.js';
import { registerStationsCommands } from './stations.js';
import { registerTokensCommands } from './tokens.js';
import { registerLocationsCommands } from './locations.js';

/**
 * `csms`: the operator's command line. One file per command group registers its commands here;
 * each action records its exit code in the context, since commander ignores action results.
 */

const exitCodesHelp = `
Exit codes: 0 ok, 1 a check failed (verify, audit, an OCPI partner refused), 2 usage or
configuration error, 3 could not run (database, server or OCPI partner unreachable, database in
use, unexpected error).

Configuration comes from environment variables: DATABASE_URL (absent: embedded PGlite in DATA_DIR,
default ./data), EVENTSTORE_URL, REDIS_URL, INFLUX_URL (checked, not used yet), HOST, PORT,
LOG_LEVEL, TENANT_ID, NODE_ID (this node's identity across restarts, default the host name);
OCPP: OCPP_UNKNOWN_STATIONS (reject | pending | accept, default pending), OCPP_UNKNOWN_TOKENS
(reject | accept, default reject), OCPP_HEARTBEAT_INTERVAL_S (300), OCPP_PING_INTERVAL_S (60),
OCPP_ALLOW_UNSECURED (false); TLS_CERT_FILE + TLS_KEY_FILE (HTTPS/WSS, profile 2), TLS_CA_FILE
(client certificates, profile 3), TLS_PROFILE (intermediate | modern), TLS_CIPHERS (OpenSSL list
replacing the profile's); ADMIN_API_TOKEN (operator API; unset: loopback only);
METRICS_TOKEN (bearer for /metrics and /health details; unset: loopback only), METRICS_PORT +
METRICS_HOST (a separate /metrics + /health listener, default host 127.0.0.1);
OCPI: OCPI_PUBLIC_URL (how partners reach us), OCPI_SECRET (seals partner tokens, 32+ chars),
OCPI_COUNTRY_CODE (NL), OCPI_PARTY_ID (CSM), OCPI_BUSINESS_NAME (Open-CSMS);
BILLING_VAT_RATE_FALLBACK (VAT % for a CDR whose tariff names no rate; unset: its entry is refused);
CSMS_SERVER_URL (the running server: commands with --server then always go through it).

Which database a command uses: with --server URL or CSMS_SERVER_URL, commands that have --server
send the change to that server (exit 3 if it cannot be reached; never a silent local write).
Otherwise they open the database themselves (DATABASE_URL, else the embedded one in DATA_DIR); when
the server holds the embedded database they go through it at HOST:PORT. A change written directly
to an embedded folder is announced on stderr with the folder's path.`;

export function buildProgram(context: CliContext, output?: CliOutput): Command {
  const program = new Command('csms')
    .description('Open-CSMS: an event-sourced Charging Station Management System')
    .addHelpText('after', exitCodesHelp)
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  if (output !== undefined) {
    // commander's own messages (help, usage errors) go to the same place; set before the
    // subcommands are created, which copy it.
    program.configureOutput({ writeOut: (text) => output.out(text.replace(/\n$/, '')), writeErr: (text) => output.err(text.replace(/\n$/, '')) });
  }
  // Subcommands inherit exitOverride and output settings only when created through the parent,
  // so each group uses program.command(...).
  registerServeCommand(program, context);
  registerMigrateCommand(program, context);
  registerProjectionsCommands(program, context);
  registerEventsCommands(program, context);
  registerAuditCommands(program, context);
  registerBillingCommands(program, context);
  registerStationsCommands(program, context);
  registerTokensCommands(program, context);
  registerLocationsCommands(program, context);
  registerStationCallCommand(program, context);
  registerOcpiCommands(program, context);
  return program;
}

/**
 * Runs the CLI; resolves with the process exit code. `output` replaces stdout/stderr: tests run
 * commands in their own process this way (test/support/cli.ts runCliInProcess), since spawning
 * one costs seconds of start-up per command.
 */
export async function main(argv: readonly string[], env: NodeJS.ProcessEnv = process.env, output?: CliOutput): Promise<number> {
  const context = createContext(env, output);
  const program = buildProgram(context, output);
  try {
    await program.parseAsync([...argv]);
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end through here with exit code 0; everything else commander
      // rejects (unknown command, missing argument, bad option value) is a usage error.
      return error.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
    }
    reportError(context, error);
  }
  return context.exitCode;
}
