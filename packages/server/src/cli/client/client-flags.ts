import { BatchdClient, BatchdError } from '@batchd/sdk';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { CliError } from '../cli-error.js';
import { CommandOutput } from './command-output.js';
import { EXIT_CODES } from '../exit-codes.js';

/** The options every client command accepts (declared on `batchd batches`, usable after any subcommand). */
export interface ClientFlags {
  baseUrl?: string;
  apiKey?: string;
  json?: boolean;
}

function absoluteURL(raw: string): string {
  if (!URL.canParse(raw)) throw new InvalidArgumentError('expected an absolute URL such as http://127.0.0.1:8787');
  return raw;
}

/** Adds `--base-url`, `--api-key` and `--json` to a command. */
export function addClientFlags(command: Command): Command {
  return command
    .addOption(
      new Option('--base-url <url>', 'batchd server (default BATCHD_BASE_URL, ANTHROPIC_BASE_URL, http://127.0.0.1:8787)').argParser(absoluteURL),
    )
    .addOption(new Option('--api-key <key>', 'API key (default BATCHD_API_KEY, then ANTHROPIC_API_KEY)'))
    .addOption(new Option('--json', 'print one JSON document instead of text'));
}

/** A client for the server and key the flags name, or the environment when they do not. */
export function clientFromFlags(flags: ClientFlags): BatchdClient {
  try {
    return new BatchdClient({ baseURL: flags.baseUrl, apiKey: flags.apiKey });
  } catch (error) {
    if (!(error instanceof BatchdError)) throw error;
    throw new CliError('no API key: pass --api-key or set BATCHD_API_KEY (or ANTHROPIC_API_KEY)', EXIT_CODES.usage);
  }
}

/** What a client command works with: the client its flags name, and where it prints. */
export interface ClientContext {
  client: BatchdClient;
  out: CommandOutput;
}

export function clientContext(command: Command): ClientContext {
  const flags = command.optsWithGlobals<ClientFlags>();
  return { client: clientFromFlags(flags), out: new CommandOutput(flags.json === true) };
}

/** A commander parser for an integer from `min` to `max`. */
export function integerFrom(min: number, max: number): (raw: string) => number {
  return (raw) => {
    const value = Number(raw);
    if (!Number.isInteger(value) || value < min || value > max) throw new InvalidArgumentError(`expected an integer from ${min} to ${max}`);
    return value;
  };
}
