import { EXIT_CODES } from './exit-codes.js';

/** A failure the CLI reports as one line, `error: <message>`, and exits on with `exitCode`. */
export class CliError extends Error {
  readonly exitCode: number;

  constructor(message: string, exitCode: number = EXIT_CODES.failed) {
    super(message);
    this.name = 'CliError';
    this.exitCode = exitCode;
  }
}
