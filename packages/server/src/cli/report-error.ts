import { APIConnectionError, APIError, APIUserAbortError } from '@batchd/sdk';
import { CommanderError } from 'commander';
import { CliError } from './cli-error.js';
import { EXIT_CODES } from './exit-codes.js';
import { palette } from './palette.js';

/**
 * Prints a failure as one line on stderr, never a stack trace, and returns the exit code for it.
 * API errors name their type, the server's message and the request id:
 * `error: not_found_error: No message batch with id … (request req_…)`.
 */
export function reportError(error: unknown, stderr: NodeJS.WriteStream = process.stderr): number {
  // commander has already printed its own message (or the help text).
  if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT_CODES.ok : EXIT_CODES.usage;
  // The reader of stdout went away (`batchd batches results ID | head`): nothing more to say.
  if (hasCode(error, 'EPIPE')) return EXIT_CODES.ok;
  const colors = palette(stderr);
  const exitCode = error instanceof CliError ? error.exitCode : error instanceof APIUserAbortError ? EXIT_CODES.interrupted : EXIT_CODES.failed;
  stderr.write(`${colors.red('error:')} ${describe(error)}\n`);
  return exitCode;
}

function describe(error: unknown): string {
  if (error instanceof APIUserAbortError) return 'interrupted';
  if (error instanceof APIConnectionError) {
    const cause = deepestCause(error);
    return cause ? `${error.message} (${cause})` : error.message;
  }
  if (error instanceof APIError && error.status !== undefined) {
    const message = error.error?.error?.message ?? error.message;
    const request = error.requestID ? ` (request ${error.requestID})` : '';
    return `${error.type ?? `HTTP ${error.status}`}: ${message}${request}`;
  }
  return error instanceof Error ? error.message : String(error);
}

/** The message of the innermost `cause`, e.g. `connect ECONNREFUSED 127.0.0.1:8787`. */
function deepestCause(error: Error): string | null {
  let current: unknown = error.cause;
  let message: string | null = null;
  while (current instanceof Error) {
    message = current.message;
    current = current.cause;
  }
  return message;
}

function hasCode(error: unknown, code: string): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === code;
}
