import { hostname } from 'node:os';
import type { Command } from 'commander';
import { describeStorage, type Config } from '../config.js';
import { surfacePrefixes } from '../surfaces.js';
import { ExitCode, reportError, withServices, type CliContext } from './run.js';

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
  const http = `http://${host}:${port}`;
  const storage = describeStorage(config);
  const lines = [
    `Open-CSMS listening on ${config.host}:${port}`,
    `  stations (OCPP):      ws://${host}:${port}${surfacePrefixes.ocpp}/{stationId}`,
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

export function registerServeCommand(program: Command, context: CliContext): void {
  program
    .command('serve')
    .description('migrate, start the projection runners and the HTTP/WebSocket server (npm start)')
    .action(async () => {
      try {
        await withServices(context, 'serve', async (services) => {
          const { migrateProjections, startProjectionRunners } = await import('../../projections/index.js');
          const { buildServer } = await import('../server.js');
          const deps = { eventStore: services.eventStore, db: services.db, log: context.err };
          await migrateProjections(deps);
          const runners = startProjectionRunners(deps, { owner: `${hostname()}:${process.pid}` });
          const server = await buildServer({ db: services.db, eventStore: services.eventStore, logLevel: services.config.logLevel });
          try {
            await server.listen({ host: services.config.host, port: services.config.port });
          } catch (error) {
            await runners.stop();
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
          } finally {
            await runners.stop(); // finish the current batch; its checkpoint commits with it
          }
          // withServices closes the event store and the database and releases the embedded lock.
        });
      } catch (error) {
        reportError(context, error);
      }
    });
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
