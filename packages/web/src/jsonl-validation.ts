import { CUSTOM_ID_PATTERN, MAX_BATCH_BYTES, MAX_BATCH_REQUESTS } from '@batchd/sdk';

/** A problem in the file; `line` is 1-based, or null for the file as a whole. */
export interface LineError {
  line: number | null;
  message: string;
}

export interface Validation {
  /** Lines that are not blank, valid or not. */
  requestLines: number;
  /** The request lines as written in the file, ready to join into a create body. */
  lines: string[];
  /** The first `MAX_REPORTED_ERRORS` problems. */
  errors: LineError[];
  /** How many problems there are in all. */
  errorCount: number;
}

export const MAX_REPORTED_ERRORS = 200;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Why one parsed line is not a valid request, or null when it is. */
function checkRequest(value: unknown, line: number, seen: Map<string, number>): string | null {
  if (!isPlainObject(value)) return 'must be a JSON object with "custom_id" and "params"';
  const extra = Object.keys(value).find((key) => key !== 'custom_id' && key !== 'params');
  if (extra !== undefined) return `unexpected field "${extra}": a request has only "custom_id" and "params"`;
  const customId = value['custom_id'];
  if (customId === undefined) return '"custom_id" is missing';
  if (typeof customId !== 'string') return '"custom_id" must be a string';
  if (!CUSTOM_ID_PATTERN.test(customId)) {
    return `custom_id ${JSON.stringify(customId)} must be 1 to 64 letters, digits, "_" or "-"`;
  }
  const firstLine = seen.get(customId);
  if (firstLine !== undefined) return `custom_id "${customId}" is already used on line ${firstLine}`;
  seen.set(customId, line);
  if (value['params'] === undefined) return '"params" is missing';
  if (!isPlainObject(value['params'])) return '"params" must be a JSON object (the body of a Messages request)';
  return null;
}

/**
 * Checks a JSONL file of `{custom_id, params}` lines the way batchd checks a create body: JSON on
 * every line, `custom_id` pattern and uniqueness, `params` an object, no other fields, 1 to
 * 100,000 requests, at most 256 MB. Blank lines are skipped. The `params` themselves are checked
 * by the server when each request runs.
 */
export function validateJsonl(text: string): Validation {
  const lines: string[] = [];
  const errors: LineError[] = [];
  let errorCount = 0;
  const report = (line: number | null, message: string) => {
    errorCount++;
    if (errors.length < MAX_REPORTED_ERRORS) errors.push({ line, message });
  };
  const seen = new Map<string, number>();
  const encoder = new TextEncoder();
  let requestLines = 0;
  let bytes = '{"requests":[]}'.length;
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = index + 1;
    const trimmed = raw.trim();
    if (trimmed === '') return;
    requestLines++;
    let value: unknown;
    try {
      value = JSON.parse(trimmed);
    } catch (error) {
      report(line, `not valid JSON (${error instanceof Error ? error.message : String(error)})`);
      return;
    }
    const problem = checkRequest(value, line, seen);
    if (problem !== null) {
      report(line, problem);
      return;
    }
    lines.push(trimmed);
    bytes += encoder.encode(trimmed).length + 1;
  });
  const fileErrors: LineError[] = [];
  if (requestLines === 0) fileErrors.push({ line: null, message: 'the file holds no requests' });
  if (requestLines > MAX_BATCH_REQUESTS) {
    const message = `${requestLines.toLocaleString('en-US')} requests, but a batch holds at most ${MAX_BATCH_REQUESTS.toLocaleString('en-US')}; split the file`;
    fileErrors.push({ line: null, message });
  }
  if (bytes > MAX_BATCH_BYTES) fileErrors.push({ line: null, message: 'the requests add up to more than 256 MB; split the file' });
  return { requestLines, lines, errors: [...fileErrors, ...errors], errorCount: errorCount + fileErrors.length };
}

/** The create body for validated lines, sent as written rather than parsed and serialized again. */
export function createBody(lines: string[]): string {
  return `{"requests":[${lines.join(',')}]}`;
}
