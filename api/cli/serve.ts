import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { describeStorage, type Config } from '../config.js';
import { surfacePrefixes } from '../surfaces.js';
import type { TlsProfile } from '../tls-profile.js';
import { CliError, ExitCode, reportError, withServices, type CliContext } from './run.js';
import { lineFaultLog } from '../../adapters/observability/background.js';
import { reportUnexpectedError } from '../../adapters/observability/unexpected-errors.js';
import { runShutdown, serveShutdownDeadlinesMs, serveShutdownSteps } from '../shutdown.js';

/**
 * `csms serve` (what `npm start` runs): migrate, start the projection runners and the server,
 * tell the operator where everything connects, and shut down cleanly on SIGINT/SIGTERM.
 */

/**
 * Longest a graceful shutdown may take before the process gives up waiting and exits: the
 * steps' deadlines (api/shutdown.ts) plus a margin, so it only fires when a step ignores its own.
 */
export const shutdownGraceMs = Object.values(serveShutdownDeadlinesMs).reduce((sum, ms) => sum + ms, 0) + 2_000;

/** The lines that tell stations, partners and operators where to connect. */
export function connectionLines(config: Config, port: number, metricsPort: number | null = null): string[] {
  const listensEverywhere = isWildcardHost(config.host);
  const host = dialableHost(config.host);
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
    metricsLine(config, http, metricsPort),
    `  database:             ${storage.database}`,
    `  event store:          ${storage.eventStore}`,
  ];
  if (listensEverywhere) {
    lines.push(`  (listening on all interfaces: from another machine use this host's name or IP instead of ${host})`);
  }
  return lines;
}

const isWildcardHost = (host: string): boolean => host === '0.0.0.0' || host === '::';

/** A listen address as a client dials it in a URL: 0.0.0.0 / :: are not dialable (loopback shown instead); IPv6 in brackets. */
function dialableHost(host: string): string {
  if (isWildcardHost(host)) return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}

/** Where Prometheus scrapes, and what it needs to be let in (api/plugins/observability-access.ts). */
function metricsLine(config: Config, http: string, metricsPort: number | null): string {
  const listener = config.metrics.listener;
  if (listener !== null && metricsPort !== null) {
    const host = dialableHost(listener.host);
    const access = config.metrics.token === null ? 'open to whoever reaches this address' : 'Bearer METRICS_TOKEN';
    return `  metrics:              http://${host}:${metricsPort}/metrics (${access}; /health details too)`;
  }
  const tokens = [config.metrics.token && 'METRICS_TOKEN', config.adminApiToken && 'ADMIN_API_TOKEN'].filter(Boolean);
  return `  metrics:              ${http}/metrics (${tokens.length > 0 ? `Bearer ${tokens.join(' or ')}` : 'from this machine only'})`;
}

/**
 * The last line of defence of the process (issue 9, point 4): an error that escaped every
 * handler (a promise nobody awaited, a throw in a timer or socket callback) is logged and counted
 * with component `process`, and the server keeps serving. Node's default would end the process,
 * cutting every station and partner off for one fault in one of them; the counter
 * (`csms_unexpected_errors_total{component="process"}`) makes the fault visible instead. Installed
 * here, not in library code: only the program that owns the process decides its fate.
 */
function installProcessFaultHandlers(log: (line: string) => void): () => void {
  const faultLog = lineFaultLog(log);
  const onRejection = (reason: unknown) => reportUnexpectedError(faultLog, 'process', reason, { kind: 'unhandledRejection' });
  const onException = (error: unknown) => reportUnexpectedError(faultLog, 'process', error, { kind: 'uncaughtException' });
  process.on('unhandledRejection', onRejection);
  process.on('uncaughtException', onException);
  return () => {
    process.removeListener('unhandledRejection', onRejection);
    process.removeListener('uncaughtException', onException);
  };
}

export function registerServeCommand(program: Command, context: CliContext): void {
  program
    .command('serve')
    .description('migrate, start the projection runners and the HTTP/WebSocket server (npm start)')
    .action(async () => {
      const removeFaultHandlers = installProcessFaultHandlers(context.err);
      try {
        await withServices(context, 'serve', async (services) => {
          const https = readTlsFiles(services.config);
          const { migrateProjections, startProjectionRunners } = await import('../../projections/index.js');
          const { buildServer } = await import('../server.js');
          const { billingConfigOf, startCdrIssuer } = await import('../../commands/process/index.js');
          const deps = { eventStore: services.eventStore, db: services.db, log: context.err };
          await migrateProjections(deps);
          // Before anything takes a lease or a station: settle what this node's previous process held (api/settle-node.ts).
          const { claimNode, nodeInstance, settleStations } = await import('../settle-node.js');
          const node = nodeInstance(services.config.nodeId);
          const nodeClaim = await claimNode({ db: services.db, log: context.err }, node);
          const owner = node.instanceId;
          const runners = startProjectionRunners(deps, { owner });
          // Prices every finished session into a CDR and a ledger entry (one node holds its lease).
          const { locationsCdrSiteLookup } = await import('../../ocpi/locations/cdr-site.js');
          const { ourParty } = await import('../../ocpi/plugin.js');
          const us = ourParty(services.config.ocpi);
          const siteOf = locationsCdrSiteLookup(services.db, us);
          // CDRs name our OCPI CPO party (OCPI_COUNTRY_CODE / OCPI_PARTY_ID), as credentials, locations and sessions do.
          const billing = billingConfigOf(us, services.config.billing);
          const cdrIssuer = startCdrIssuer({ eventStore: services.eventStore, bus: services.bus, db: services.db, config: billing, siteOf, log: context.err }, { owner });
          // Pushes our locations, sessions, CDRs and tariffs to partners (ocpi/push): one producer by lease, a worker per node.
          const { startOcpiPush } = await import('../../ocpi/push/index.js');
          const ocpiPush = startOcpiPush(
            { eventStore: services.eventStore, db: services.db, tenantId: services.config.tenantId, settings: services.config.ocpi, clock: services.clock, log: context.err },
            { owner },
          );
          const stopBackground = async () => {
            await Promise.all([runners.stop(), cdrIssuer.stop(), ocpiPush.stop()]);
            await nodeClaim.stop();
          };
          const config = services.config;
          let server: Awaited<ReturnType<typeof buildServer>>;
          try {
            await settleStations({ db: services.db, eventStore: services.eventStore, bus: services.bus, clock: services.clock, log: context.err }, node);
            server = await buildServer({
              nodeId: node.nodeId,
              db: services.db,
              eventStore: services.eventStore,
              logLevel: config.logLevel,
              bus: services.bus,
              clock: services.clock,
              tenantId: config.tenantId,
              ocpp: config.ocpp,
              https,
              adminApiToken: config.adminApiToken,
              observability: { metricsToken: config.metrics.token, separateListener: config.metrics.listener !== null },
              ocpi: config.ocpi,
            });
            await server.listen({ host: config.host, port: config.port });
            // The metrics listener starts after the main one and is closed with it (buildServer's onClose).
            if (server.metricsListener && config.metrics.listener) {
              try {
                await server.metricsListener.listen({ host: config.metrics.listener.host, port: config.metrics.listener.port });
              } catch (error) {
                await server.close();
                throw error;
              }
            }
          } catch (error) {
            await stopBackground();
            throw error;
          }
          const address = server.server.address();
          const port = typeof address === 'object' && address !== null ? address.port : services.config.port;
          const metricsAddress = server.metricsListener?.server.address();
          const metricsPort = typeof metricsAddress === 'object' && metricsAddress !== null ? metricsAddress.port : null;
          for (const line of connectionLines(services.config, port, metricsPort)) context.out(line);

          const signal = await waitForShutdownSignal();
          context.err(`${signal} received: shutting down`);
          // Past the grace period something is stuck (a hung query, a client that never
          // closes): exit anyway rather than leave a process an orchestrator must kill -9.
          const forceExit = setTimeout(() => {
            context.err(`shutdown took longer than ${shutdownGraceMs} ms: exiting`);
            process.exit(ExitCode.failed);
          }, shutdownGraceMs);
          forceExit.unref();
          // One explicit sequence (api/shutdown.ts): stop intake, drain, stop workers, close the store, close the database.
          await runShutdown(
            serveShutdownSteps({
              server,
              bus: services.bus,
              stopWorkers: stopBackground,
              closeEventStore: () => services.closeEventStore(),
              closeDatabase: () => services.close(),
            }),
            context.err,
          );
          // withServices calls services.close() again: a no-op now.
        });
      } catch (error) {
        reportError(context, error);
      } finally {
        removeFaultHandlers();
      }
    });
}

/** The PEM files named by TLS_*_FILE, read at start so a wrong path fails now, naming the variable. */
function readTlsFiles(config: Config): { key: Buffer; cert: Buffer; ca?: Buffer; profile: TlsProfile; ciphers: string | null } | null {
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
  const protocol = { profile: config.tls.profile, ciphers: config.tls.ciphers };
  return config.tls.caFile === null ? { key, cert, ...protocol } : { key, cert, ...protocol, ca: read('TLS_CA_FILE', config.tls.caFile) };
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
