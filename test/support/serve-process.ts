import type { ChildProcess } from 'node:child_process';
import { spawnCli, waitForExit, waitForOutput } from './cli.js';

/**
 * `csms serve` as a child process, as an operator runs it, for tests that must kill it for real
 * (SIGKILL: no shutdown hook runs, sockets and leases are left as a crash leaves them).
 */

/** tsx start-up (~1-2 s), migrations, runners, settlement, listen; generous for a loaded 2-core machine. */
export const serveStartTimeoutMs = 30_000;
/** A killed or stopped process is gone within this. */
export const serveExitTimeoutMs = 10_000;

export interface ServeProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  /** ws://127.0.0.1:<port>/ocpp (the simulator appends the station id). */
  readonly ocppUrl: string;
  /** SIGKILL: the process ends at once, as in a crash. */
  kill(): Promise<void>;
  /** SIGTERM, the graceful way; resolves once it exited. */
  stop(): Promise<void>;
}

export async function startServe(env: Record<string, string>): Promise<ServeProcess> {
  const child = spawnCli(['serve'], { env: { HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'warn', ...env } });
  try {
    const [, ocppUrl] = await waitForOutput(child, /stations \(OCPP\):\s+(ws:\/\/127\.0\.0\.1:\d+\/ocpp)\/\{stationId\}/, serveStartTimeoutMs);
    // Keep the pipes drained so a chatty child never blocks on a full pipe.
    child.stdout!.resume();
    child.stderr!.resume();
    const end = async (signal: NodeJS.Signals) => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await waitForExit(child, serveExitTimeoutMs);
    };
    return { child, pid: child.pid!, ocppUrl: ocppUrl!, kill: () => end('SIGKILL'), stop: () => end('SIGTERM') };
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
}
