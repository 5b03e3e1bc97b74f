import type { BatchCreateRequest } from '@batchd/sdk';
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { CliError } from '../cli-error.js';
import { EXIT_CODES } from '../exit-codes.js';
import { isObject } from '../../json.js';

/**
 * Reads batch requests from `path` (`-` for stdin): either JSONL, one `{custom_id, params}` object
 * per line, streamed so that files of any size fit in memory; or a JSON document `{"requests": [...]}`
 * (the create body), which is parsed whole. Malformed input throws a `CliError` naming the line.
 */
export async function* readRequests(path: string): AsyncGenerator<BatchCreateRequest> {
  const name = path === '-' ? 'stdin' : path;
  const input = path === '-' ? process.stdin : createReadStream(path);
  const lines = createInterface({ input, crlfDelay: Infinity });
  let lineNumber = 0;
  let jsonl = false;
  /** The lines of a JSON document, once the input turned out to be one. */
  let document: string[] | null = null;
  try {
    for await (const line of lines) {
      lineNumber += 1;
      if (document) {
        document.push(line);
        continue;
      }
      if (line.trim() === '') continue;
      const value = parseJSON(line);
      if (!jsonl && (value === undefined || (isObject(value) && 'requests' in value))) {
        document = [line];
        continue;
      }
      if (value === undefined) throw inputError(`${name} line ${lineNumber}: not valid JSON`);
      jsonl = true;
      yield checkRequest(value, `${name} line ${lineNumber}`);
    }
  } catch (error) {
    if (error instanceof CliError) throw error;
    throw inputError(`cannot read ${name}: ${(error as Error).message}`);
  } finally {
    lines.close();
  }
  if (document) {
    yield* documentRequests(document.join('\n'), name);
  } else if (!jsonl) {
    throw inputError(`${name} holds no requests`);
  }
}

function* documentRequests(text: string, name: string): Generator<BatchCreateRequest> {
  const value = parseJSON(text);
  if (value === undefined) throw inputError(`${name}: neither JSONL of {custom_id, params} lines nor a JSON document`);
  if (!isObject(value) || !Array.isArray(value.requests)) throw inputError(`${name}: expected {"requests": [...]}`);
  if (value.requests.length === 0) throw inputError(`${name} holds no requests`);
  for (const [index, request] of value.requests.entries()) yield checkRequest(request, `${name} requests[${index}]`);
}

function checkRequest(value: unknown, where: string): BatchCreateRequest {
  if (!isObject(value)) throw inputError(`${where}: expected an object {custom_id, params}`);
  if (typeof value.custom_id !== 'string') throw inputError(`${where}: custom_id must be a string`);
  if (!isObject(value.params)) throw inputError(`${where}: params must be an object`);
  return value as unknown as BatchCreateRequest;
}

function parseJSON(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function inputError(message: string): CliError {
  return new CliError(message, EXIT_CODES.usage);
}
