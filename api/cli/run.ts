import { InvalidArgumentError } from 'commander';
import { loadConfig, ConfigError, type Config } from '../config.js';
import type { Services } from '../composition.js';
import { EmbeddedDatabaseInUseError } from '../embedded-lock.js';
import { IllegalStateError, InvalidCommandError } from '../../domain/shared/errors.js';
import { isDatabaseUnavailable } from '../../adapters/sql/errors.js';

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
  /** Could not do the work: database, server or OCPI partner unreachable, database in use, unexpected error. */
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

/** Where a command's lines go: the process's stdout/stderr, or a test's buffers (in-process runs). */
export interface CliOutput {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
}

const processOutput: CliOutput = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
};

export function createContext(env: NodeJS.ProcessEnv = process.env, output: CliOutput = processOutput): CliContext {
  return { exitCode: ExitCode.ok, env, out: output.out, err: output.err };
}

export function readConfig(context: CliContext): Config {
  try {
    return loadConfig(context.env);
  } catch (error) {
    if (error instanceof ConfigError) throw new CliError(error.message, ExitCode.usage);
    throw error;
  }
}

/** Does the command change data? Only then must a direct write to an embedded folder be announced. */
export type CliAccess = 'read' | 'write';

/**
 * The loud line after a command wrote to an embedded data folder directly. A server started with
 * another DATA_DIR (or in another working directory) never sees that write, and the operator
 * would otherwise believe it took effect: the issue that made this rule.
 */
export function embeddedWriteNotice(dataDir: string, reason: 'no-server-named' | 'database-only'): string {
  const why =
    reason === 'no-server-named'
      ? 'no server was named with --server or CSMS_SERVER_URL'
      : 'this command works on the database only';
  return `csms: wrote to the embedded database in ${dataDir} (${why}; a running server with another DATA_DIR will not see this)`;
}

/** Opens services for one command and closes them however the command ends. */
export async function withServices<T>(
  context: CliContext,
  command: string,
  work: (services: Services) => Promise<T>,
  access: CliAccess = 'read',
): Promise<T> {
  const config = readConfig(context);
  // Loaded here, not at the top: `csms --help` and usage errors then never load the database
  // drivers, which keeps them fast and working even when a driver is broken.
  const { openServices } = await import('../composition.js');
  let services: Services;
  try {
    services = await openServices(config, { command, log: context.err });
  } catch (error) {
    if (error instanceof EmbeddedDatabaseInUseError) throw new CliError(error.message, ExitCode.failed);
    throw new CliError(`cannot open the database: ${(error as Error).message}`, ExitCode.failed);
  }
  let result: T;
  try {
    result = await work(services);
  } finally {
    await services.close();
  }
  if (access === 'write' && config.database.kind === 'pglite') context.err(embeddedWriteNotice(config.database.dataDir, 'database-only'));
  return result;
}

/** SQLSTATE codes (5 characters) that mean "a schema or table is missing": the database was never migrated. */
const missingSchemaSqlStates = new Set(['42P01', '3F000']);

/**
 * The message and exit code of a failure an operator can meet in normal use (bad input, the
 * database down or not migrated, the embedded folder in use), or null for a bug. Expected
 * failures are told in one line: a stack trace there only hides the message.
 */
export function expectedFailure(error: unknown): { message: string; exitCode: ExitCodeValue } | null {
  if (error instanceof CliError) return { message: error.message, exitCode: error.exitCode };
  if (error instanceof ConfigError) return { message: error.message, exitCode: ExitCode.usage };
  if (error instanceof EmbeddedDatabaseInUseError) return { message: error.message, exitCode: ExitCode.failed };
  if (error instanceof InvalidCommandError || error instanceof IllegalStateError) return { message: error.message, exitCode: ExitCode.usage };
  if (!(error instanceof Error)) return null;
  const code = (error as { code?: unknown }).code;
  // One rule for "the database is away" (refused, reset, restarting, terminated), shared with the server's loops.
  if (isDatabaseUnavailable(error)) return { message: `cannot reach the database: ${error.message || String(code)}`, exitCode: ExitCode.failed };
  if (typeof code !== 'string') return null;
  if (/^[0-9A-Z]{5}$/.test(code)) {
    const hint = missingSchemaSqlStates.has(code) ? ': a schema is missing, run `csms migrate`' : '';
    return { message: `the database refused: ${error.message} (SQLSTATE ${code})${hint}`, exitCode: ExitCode.failed };
  }
  return null;
}

/** LOG_LEVEL values at which an unexpected error's stack is printed. */
const stackLogLevels = new Set(['debug', 'trace']);

/** Turns any error a command throws into a message on stderr and an exit code. */
export function reportError(context: CliContext, error: unknown): void {
  const expected = expectedFailure(error);
  if (expected !== null) {
    context.err(`csms: ${expected.message}`);
    context.exitCode = expected.exitCode;
    return;
  }
  // A bug: the message always; the stack when asked for, since it means nothing to an operator.
  const message = error instanceof Error ? error.message : String(error);
  context.err(`csms: unexpected error: ${message}`);
  if (error instanceof Error && error.stack && stackLogLevels.has(context.env.LOG_LEVEL ?? '')) context.err(error.stack);
  else context.err('csms: (run again with LOG_LEVEL=debug to see where it happened, and report it)');
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
