import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import type { Command } from 'commander';
import { describeStorage, type Config } from '../config.js';
import { surfacePrefixes } from '../surfaces.js';
import { CliError, ExitCode, reportError, withServices, type CliContext } from './run.js';

/**
 * `csms serve` (what `npm start` runs): migrate, start the projection runners and the server,
 * tell the operator where everything connects, and shut down cleanly on SIGINT/SIGTERM.
 */

/** Longest a graceful shutdown may take before the process gives up waiting and exits. */
export const shutdownGraceMs = 10_000;

/** The lines that tell stations, partners and operators where to connect. */
export function connectionLines(config: Config, port: number): string[] {
  // 0.0.0.0 / :: are not addresses a client can dial; show the loopback form and say so.
  const listensEverywhere = config.host === '0.0.0.0' || config.host === '::';
  const host = listensEverywhere ? '127.0.0.1' : config.host.includes(':') ? `[${config.host}]` : config.host;
  const secure = config.tls !== null;
  const http = `${secure ? 'https' : 'http'}://${host}:${port}`;
  const storage = describeStorage(config);
  const lines = [
    `Open-CSMS listening on ${config.host}:${port}`,
    `  stations (OCPP):      ${secure ? 'wss' : 'ws'}://${host}:${port}${surfacePrefixes.ocpp}/{stationId}`,
    `  unknown stations:     ${config.ocpp.unknownStations} (OCPP_UNKNOWN_STATIONS)` +
      (secure ? `; security profiles 1-${config.tls?.caFile ? 3 : 2}` : '; security profile 1 (no TLS configured)'),
    `  OCPI partners:        ${http}${surfacePrefixes.ocpi}/versions`,
    `  operators (GraphQL):  ${http}${surfacePrefixes.graphql}`,
    `  operators (REST):     ${http}${surfacePrefixes.rest}`,
    `  health:               ${http}/health`,
    `  database:             ${storage.database}`,
    `  event store:          ${storage.eventStore}`,
  ];
  if (listensEverywhere) {
    lines.push(`  (listening on all interfaces: from another machine use this host's name or IP instead of ${host})`);
  }
  return lines;
}

/** Longest wait for commands still running at shutdown (disconnects of the closed stations). */
export const shutdownCommandDrainMs = 5_000; // within shutdownGraceMs, which ends the process regardless
const shutdownDrainPollMs = 50;

async function drainCommandBus(bus: { pending(): number }): Promise<void> {
  const deadline = Date.now() + shutdownCommandDrainMs;
  let quietChecks = 0;
  // Two quiet checks in a row: a socket close event may queue a command just after one.
  while (quietChecks < 2 && Date.now() < deadline) {
    quietChecks = bus.pending() === 0 ? quietChecks + 1 : 0;
    await new Promise((resolve) => setTimeout(resolve, shutdownDrainPollMs));
  }
}

export function registerServeCommand(program: Command, context: CliContext): void {
  program
    .command('serve')
    .description('migrate, start the projection runners and the HTTP/WebSocket server (npm start)')
    .action(async () => {
      try {
        await withServices(context, 'serve', async (services) => {
          const https = readTlsFiles(services.config);
          const { migrateProjections, startProjectionRunners } = await import('../../projections/index.js');
          const { buildServer } = await import('../server.js');
          const { startCdrIssuer } = await import('../../commands/process/index.js');
          const deps = { eventStore: services.eventStore, db: services.db, log: context.err };
          await migrateProjections(deps);
          const owner = `${hostname()}:${process.pid}`;
          const runners = startProjectionRunners(deps, { owner });
          // Prices every finished session into a CDR and a ledger entry (one node holds its lease).
          const { locationsCdrSiteLookup } = await import('../../ocpi/locations/cdr-site.js');
          const { ourParty } = await import('../../ocpi/plugin.js');
          const siteOf = locationsCdrSiteLookup(services.db, ourParty(services.config.ocpi));
          const cdrIssuer = startCdrIssuer({ eventStore: services.eventStore, bus: services.bus, db: services.db, siteOf, log: context.err }, { owner });
          // Pushes our locations, sessions, CDRs and tariffs to partners (ocpi/push): one producer by lease, a worker per node.
          const { startOcpiPush } = await import('../../ocpi/push/index.js');
          const ocpiPush = startOcpiPush(
            { eventStore: services.eventStore, db: services.db, tenantId: services.config.tenantId, settings: services.config.ocpi, clock: services.clock, log: context.err },
            { owner },
          );
          const stopBackground = async () => {
            await Promise.all([runners.stop(), cdrIssuer.stop(), ocpiPush.stop()]);
          };
          const config = services.config;
          let server: Awaited<ReturnType<typeof buildServer>>;
          try {
            server = await buildServer({
              db: services.db,
              eventStore: services.eventStore,
              logLevel: config.logLevel,
              bus: services.bus,
              clock: services.clock,
              tenantId: config.tenantId,
              ocpp: config.ocpp,
              https,
              adminApiToken: config.adminApiToken,
              ocpi: config.ocpi,
            });
            await server.listen({ host: config.host, port: config.port });
          } catch (error) {
            await stopBackground();
            throw error;
          }
          const address = server.server.address();
          const port = typeof address === 'object' && address !== null ? address.port : services.config.port;
          for (const line of connectionLines(services.config, port)) context.out(line);

          const signal = await waitForShutdownSignal();
          context.err(`${signal} received: shutting down`);
          // Past the grace period something is stuck (a hung query, a client that never
          // closes): exit anyway rather than leave a process an orchestrator must kill -9.
          const forceExit = setTimeout(() => {
            context.err(`shutdown took longer than ${shutdownGraceMs} ms: exiting`);
            process.exit(ExitCode.failed);
          }, shutdownGraceMs);
          forceExit.unref();
          try {
            await server.close(); // stop accepting, finish in-flight requests
            // Closing stations records their disconnects through the bus after close() resolves;
            // let those land before the event store closes, or they are lost as errors.
            await drainCommandBus(services.bus);
          } finally {
            await stopBackground(); // finish the current batches; their checkpoints commit with them
          }
          // withServices closes the event store and the database and releases the embedded lock.
        });
      } catch (error) {
        reportError(context, error);
      }
    });
}

/** The PEM files named by TLS_*_FILE, read at start so a wrong path fails now, naming the variable. */
function readTlsFiles(config: Config): { key: Buffer; cert: Buffer; ca?: Buffer } | null {
  if (config.tls === null) return null;
  const read = (variable: string, file: string) => {
    try {
      return readFileSync(file);
    } catch (error) {
      throw new CliError(`${variable}=${file}: ${(error as Error).message}`, ExitCode.usage);
    }
  };
  const key = read('TLS_KEY_FILE', config.tls.keyFile);
  const cert = read('TLS_CERT_FILE', config.tls.certFile);
  return config.tls.caFile === null ? { key, cert } : { key, cert, ca: read('TLS_CA_FILE', config.tls.caFile) };
}

function waitForShutdownSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      process.removeListener('SIGINT', onSignal);
      process.removeListener('SIGTERM', onSignal);
      // A second Ctrl-C means "now": the default handler would leave the embedded lock behind, so exit here.
      const onSecond = () => process.exit(ExitCode.failed);
      process.once('SIGINT', onSecond);
      process.once('SIGTERM', onSecond);
      resolve(signal);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}
