import { InvalidArgumentError } from 'commander';
import { loadConfig, ConfigError, type Config } from '../config.js';
import type { Services } from '../composition.js';
import { EmbeddedDatabaseInUseError } from '../embedded-lock.js';

/**
 * What every command shares: exit codes, error reporting, opening and always closing services.
 */

/** Exit codes scripts can rely on. */
export const ExitCode = {
  ok: 0,
  /** A check ran and found a problem (verify differs, audit finds a tampered event). */
  checkFailed: 1,
  /** Bad arguments or invalid configuration: fix the command line or environment. */
  usage: 2,
  /** Could not do the work: database unreachable or in use, unexpected error. */
  failed: 3,
} as const;
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/** A refusal with a message for the operator and the exit code to end with (no stack trace). */
export class CliError extends Error {
  override readonly name = 'CliError';
  constructor(
    message: string,
    readonly exitCode: ExitCodeValue,
  ) {
    super(message);
  }
}

/** Where a command's result goes; the exit code is kept here because commander ignores action results. */
export interface CliContext {
  exitCode: ExitCodeValue;
  readonly env: NodeJS.ProcessEnv;
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
}

export function createContext(env: NodeJS.ProcessEnv = process.env): CliContext {
  return {
    exitCode: ExitCode.ok,
    env,
    out: (line) => process.stdout.write(`${line}\n`),
    err: (line) => process.stderr.write(`${line}\n`),
  };
}

export function readConfig(context: CliContext): Config {
  try {
    return loadConfig(context.env);
  } catch (error) {
    if (error instanceof ConfigError) throw new CliError(error.message, ExitCode.usage);
    throw error;
  }
}

/** Opens services for one command and closes them however the command ends. */
export async function withServices<T>(context: CliContext, command: string, work: (services: Services) => Promise<T>): Promise<T> {
  const config = readConfig(context);
  // Loaded here, not at the top: `csms --help` and usage errors then never load the database
  // drivers, which keeps them fast and working even when a driver is broken.
  const { openServices } = await import('../composition.js');
  let services: Services;
  try {
    services = await openServices(config, { command });
  } catch (error) {
    if (error instanceof EmbeddedDatabaseInUseError) throw new CliError(error.message, ExitCode.failed);
    throw new CliError(`cannot open the database: ${(error as Error).message}`, ExitCode.failed);
  }
  try {
    return await work(services);
  } finally {
    await services.close();
  }
}

/** Turns any error a command throws into a message on stderr and an exit code. */
export function reportError(context: CliContext, error: unknown): void {
  if (error instanceof CliError) {
    context.err(`csms: ${error.message}`);
    context.exitCode = error.exitCode;
    return;
  }
  context.err(`csms: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  context.exitCode = ExitCode.failed;
}

/** Parses a positive whole number option, refusing anything else as a usage error. */
export function parseCount(name: string, max: number): (text: string) => number {
  return (text) => {
    const value = Number(text);
    if (!Number.isInteger(value) || value < 1 || value > max) {
      // commander reports this as a usage error naming the option; main() maps it to ExitCode.usage.
      throw new InvalidArgumentError(`${name} must be a whole number from 1 to ${max}`);
    }
    return value;
  };
}
