import { createHash } from 'node:crypto';
import { setImmediate } from 'node:timers/promises';
import { hasInexactNumber, isObject, PARAMS_SHAPE, pastShape, shapeError, type JsonShape } from '../../json.js';
import type { NewRequest } from '../../store/store.js';
import { invalidRequest, requestTooLarge } from '../api-error.js';
import type { BatchLineError } from '../../wire/openai-batch.js';
import { ownTurn } from '../../own-turn.js';
import { quoted } from './openai-fields.js';
import { LARGE_JSON_BYTES, LargeHold } from '../large-json.js';
import { paramsJson, parseExact, textLength } from '../params-pieces.js';

/** Largest file `POST /v1/files` accepts, and most lines a batch input file may have. */
export const MAX_FILE_BYTES = 200 * 1024 * 1024;
export const MAX_FILE_LINES = 50_000;
/** Longest line of a batch input file: the bound on one request's params (`POST /v1/messages` takes 32 MiB). */
export const MAX_LINE_BYTES = 32 * 1024 * 1024;
/** Longest model name a batch object repeats as its `model`: every listed batch carries it. */
const MAX_MODEL_NAME = 256;
/** Most line errors a failed batch lists. */
const MAX_LISTED_ERRORS = 100;
const STORED_CHUNK_BYTES = 1024 * 1024;
const REQUESTS_PER_CHUNK = 1000;
const LF = 0x0a;
const CR = 0x0d;

/** Whether `byte` is blank in a line: a space, a tab or the `\r` of a `\r\n`. */
const isBlank = (byte: number) => byte === 0x20 || byte === 0x09 || byte === CR;

/**
 * Passes an upload through in chunks of about 1 MiB, as it arrives, failing with 413 once it
 * passes {@link MAX_FILE_BYTES} and with 400 once it holds more than {@link MAX_FILE_LINES} lines
 * that are not blank (blank lines are skipped, as a batch's create skips them).
 */
export async function* checkedUpload(stream: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  let bytes = 0;
  let lines = 0;
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  // Whether the line under way has a byte that is not blank: a line's first byte settles it but for indented ones.
  let content = false;
  const tooMany = () => invalidRequest(`File has more than the maximum of ${MAX_FILE_LINES} lines.`);
  for await (const chunk of stream) {
    bytes += chunk.length;
    if (bytes > MAX_FILE_BYTES) throw requestTooLarge(`File is larger than the maximum of ${MAX_FILE_BYTES} bytes.`);
    for (let start = 0; ; ) {
      const at = chunk.indexOf(LF, start);
      const end = at === -1 ? chunk.length : at;
      for (let i = start; !content && i < end; i++) content = !isBlank(chunk[i]!);
      if (at === -1) break;
      if (content) lines++;
      content = false;
      start = at + 1;
    }
    if (lines > MAX_FILE_LINES) throw tooMany();
    pending.push(chunk);
    pendingBytes += chunk.length;
    if (pendingBytes >= STORED_CHUNK_BYTES) {
      yield Buffer.concat(pending);
      pending = [];
      pendingBytes = 0;
    }
  }
  if (content && lines + 1 > MAX_FILE_LINES) throw tooMany();
  if (pendingBytes > 0) yield Buffer.concat(pending);
}

/** A line of a file: its text without `\n` or `\r\n`, null when it is not UTF-8 or is longer than {@link MAX_LINE_BYTES}. */
interface FileLine {
  line: number;
  text: string | null;
  tooLong: boolean;
}

/**
 * The lines of a file as it streams, numbered from 1. A line's bytes are kept as the chunks
 * they came in and joined once, when its end arrives; a line past {@link MAX_LINE_BYTES} is
 * dropped as it streams. Between chunks the event loop gets a turn, so other requests are
 * answered while a large file is read.
 */
async function* fileLines(chunks: AsyncIterable<Buffer>, address: string): AsyncGenerator<FileLine> {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let line = 0;
  let pieces: Buffer[] = [];
  let pendingBytes = 0;
  let tooLong = false;
  const finish = (tail: Buffer): FileLine => {
    line++;
    const dropped = tooLong;
    let bytes = dropped || pieces.length === 0 ? tail : Buffer.concat([...pieces, tail]);
    pieces = [];
    pendingBytes = 0;
    tooLong = false;
    if (bytes[bytes.length - 1] === CR) bytes = bytes.subarray(0, -1);
    if (dropped || bytes.length > MAX_LINE_BYTES) return { line, text: null, tooLong: true };
    try {
      return { line, text: decoder.decode(bytes), tooLong: false };
    } catch {
      return { line, text: null, tooLong: false };
    }
  };
  // A large line holds its share of the large-JSON bytes from when it is known to be large until the next line is asked for.
  const large = new LargeHold(address);
  try {
    for await (const chunk of chunks) {
      let start = 0;
      for (let at = chunk.indexOf(LF); at !== -1; at = chunk.indexOf(LF, start)) {
        const long = pendingBytes + at - start >= STORED_CHUNK_BYTES;
        const next = finish(chunk.subarray(start, at));
        // Joining and decoding a long line took a while: other requests get a turn before it is parsed.
        if (long) await ownTurn();
        yield next;
        large.giveBack();
        start = at + 1;
      }
      pendingBytes += chunk.length - start;
      // A line's bytes may be one more than the limit: the `\r` of a `\r\n` ending.
      if (pendingBytes > MAX_LINE_BYTES + 1) tooLong = true;
      if (tooLong) pieces = [];
      else if (start < chunk.length) pieces.push(chunk.subarray(start));
      if (pendingBytes > LARGE_JSON_BYTES) await large.take(MAX_LINE_BYTES);
      await setImmediate();
    }
    if (pendingBytes > 0) yield finish(Buffer.alloc(0));
  } finally {
    large.giveBack();
  }
}

/** A line holds its body one level down, beside the line's object and its 7 other keys and values. */
const LINE_SHAPE: JsonShape = { maxDepth: PARAMS_SHAPE.maxDepth + 1, maxElements: PARAMS_SHAPE.maxElements + 8 };

/** A request line that passed, with the characters of its text. */
type CheckedLine = { customId: string; body: Record<string, unknown>; line: number; text: string } | BatchLineError;

/**
 * One input line as OpenAI's batch input format has it: `{custom_id, method: "POST", url, body: {model, ...}}`,
 * not streaming. A `custom_id` with a NUL or a lone surrogate, which no store can keep as text, fails the whole create.
 */
function checkLine({ line, text, tooLong }: FileLine, endpoint: string): CheckedLine {
  const fail = (code: string, message: string, param: string | null = null): BatchLineError => ({ code, message, param, line });
  if (tooLong) return fail('line_too_long', `Line ${line} is longer than the maximum of ${MAX_LINE_BYTES} bytes.`);
  // Checked before parsing: a line of 32 MiB of brackets takes JSON.parse 10 s and 1 GB to build.
  const past = text === null ? undefined : pastShape(text, LINE_SHAPE);
  if (past !== undefined) return fail('invalid_value', `Line ${line}: ${shapeError(past, 'body', PARAMS_SHAPE)}.`, 'body');
  let parsed: unknown;
  try {
    parsed = text === null ? undefined : JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  if (!isObject(parsed)) return fail('invalid_json_line', `Line ${line} is not a JSON object.`);
  const { custom_id: customId, method, url, body } = parsed;
  if (typeof customId !== 'string' || customId === '') return fail('missing_required_parameter', `Line ${line} has no custom_id string.`, 'custom_id');
  if (customId.includes('\u0000')) throw invalidRequest(`custom_id: line ${line} has a custom_id with a NUL character.`);
  // Stores keep UTF-8 text, which has no lone surrogates: they would come back as U+FFFD, two ids then alike.
  if (/\p{Cs}/u.test(customId)) throw invalidRequest(`custom_id: line ${line} has a custom_id with a lone surrogate (\\ud800-\\udfff without its pair).`);
  if (method !== 'POST') return fail('invalid_value', `Line ${line}: method must be "POST".`, 'method');
  if (url !== endpoint) return fail('invalid_url', `Line ${line}: url ${quoted(url)} does not match the batch's endpoint ${endpoint}.`, 'url');
  if (!isObject(body)) return fail('invalid_value', `Line ${line}: body must be an object.`, 'body');
  if (typeof body.model !== 'string' || body.model === '') return fail('missing_required_parameter', `Line ${line}: body.model must be a string.`, 'body.model');
  if (body.stream === true) return fail('invalid_value', `Line ${line}: batch requests cannot stream; remove body.stream.`, 'body.stream');
  return { customId, body, line, text: text! };
}

/** The lines of an input file that are not blank, each checked. */
async function* checkedLines(chunks: AsyncIterable<Buffer>, endpoint: string, address: string): AsyncGenerator<CheckedLine> {
  for await (const fileLine of fileLines(chunks, address)) {
    if (fileLine.text !== null && fileLine.text.trim() === '') continue;
    yield checkLine(fileLine, endpoint);
  }
}

/**
 * A custom_id as {@link checkInputFile} remembers it: itself when short, else its SHA-256 after a
 * NUL, which no custom_id holds. Two ids alike this way are alike, but for odds of 2^-256.
 */
const idDigest = (customId: string) => (customId.length <= 64 ? customId : `\u0000${createHash('sha256').update(customId).digest('base64')}`);

/**
 * Reads an input file through and lists what is wrong with it (at most 100 problems): lines
 * that are not valid requests, repeated `custom_id`s, or no request at all; and counts its
 * requests and the model its first request names (the batch's `model`, left out when longer than
 * {@link MAX_MODEL_NAME}). No errors when the file may run as a batch. Large lines hold the
 * large-JSON share of the client `address` while they are read (see `large-json.ts`).
 */
export async function checkInputFile(chunks: AsyncIterable<Buffer>, endpoint: string, address = ''): Promise<{ errors: BatchLineError[]; requests: number; model?: string }> {
  const errors: BatchLineError[] = [];
  // Long custom_ids by their digest: a file of 50,000 ids of 4 KB would otherwise hold 200 MB here.
  const seen = new Set<string>();
  let requests = 0;
  let model: string | undefined;
  for await (const checked of checkedLines(chunks, endpoint, address)) {
    requests++;
    if ('code' in checked) errors.push(checked);
    else {
      const id = idDigest(checked.customId);
      if (seen.has(id)) {
        const message = `Line ${checked.line}: custom_id ${quoted(checked.customId)} was used on an earlier line.`;
        errors.push({ code: 'duplicate_custom_id', message, param: 'custom_id', line: checked.line });
      } else {
        seen.add(id);
        const named = checked.body.model as string;
        if (named.length <= MAX_MODEL_NAME) model ??= named;
      }
    }
    if (errors.length >= MAX_LISTED_ERRORS) return { errors, requests, model };
  }
  if (requests === 0) errors.push({ code: 'empty_file', message: 'The input file has no requests.', param: null, line: null });
  return { errors, requests, model };
}

/** A line's body as compact JSON text, its numbers as written (`JSON.parse` rounds an int64 `seed`). */
async function bodyJson({ body, text }: { body: Record<string, unknown>; text: string }): Promise<string | string[]> {
  if (!hasInexactNumber(text)) return await paramsJson(body, text.length);
  const { value, kept } = await parseExact(text);
  return await paramsJson((value as { body: unknown }).body, text.length, kept);
}

/**
 * The `expected` requests of an input file {@link checkInputFile} passed, each body kept as JSON
 * text, in chunks of a thousand or of about 1 MiB of text, whichever comes first (a chunk is held
 * until stored); fails if the file no longer reads the same (it was deleted meanwhile). Large
 * lines hold the large-JSON share of the client `address`, as in {@link checkInputFile}.
 */
export async function* inputRequests(chunks: AsyncIterable<Buffer>, endpoint: string, expected: number, address = ''): AsyncGenerator<NewRequest[]> {
  const changed = () => invalidRequest('input_file_id: the file was deleted while the batch was being created.');
  let batch: NewRequest[] = [];
  let batchChars = 0;
  let count = 0;
  for await (const checked of checkedLines(chunks, endpoint, address)) {
    if ('code' in checked) throw changed();
    count++;
    const params = await bodyJson(checked);
    batch.push({ customId: checked.customId, params });
    batchChars += textLength(params);
    if (batch.length === REQUESTS_PER_CHUNK || batchChars >= STORED_CHUNK_BYTES) {
      yield batch;
      batch = [];
      batchChars = 0;
    }
  }
  if (count !== expected) throw changed();
  if (batch.length > 0) yield batch;
}
