import { connect } from 'node:net';
import fc from 'fast-check';
import type { MessageBatch } from '@batchd/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, TEST_API_KEY, type Api, type ApiResponse } from '../../test-support/api/api.js';
import { createBatch, fetchResults, MODEL, resultsById, userRequest, userRequests, waitUntilEnded } from '../../test-support/api/batches.js';
import { schemaErrors } from '../../test-support/api/openapi.js';
import { startServer, type ServerHandle } from '../../test-support/process/server-process.js';
import { postStreamed } from '../../test-support/process/stream-body.js';
import { processMemory } from '../../test-support/process/process-memory.js';

/**
 * Hostile input. Property-based fuzzing of every endpoint's body, path and query: whatever
 * arrives, batchd answers 2xx or a well-formed 4xx envelope (`ErrorResponse`, `request-id`
 * header, `request_id` echoing it), never a 5xx, and keeps running. Then the extremes, each on a
 * server of its own so its peak memory (VmHWM) is its own: a body over 256 MiB is refused with
 * 413 without being held in memory; stalled uploads are answered or closed within the 30 s upload
 * idle timeout; deeply nested JSON inside `params` is handled (created, or refused with 4xx),
 * processed to an end, a 50 MB string is refused with 413, all within bounded memory, and the
 * server stays up.
 */

const MiB = 1024 * 1024;
const MAX_BODY_BYTES = 256 * MiB;
/** batchd answers or closes an upload that sends nothing for this long. */
const UPLOAD_IDLE_MS = 30_000;
/** Slack on top of the idle timeout for a loaded machine. */
const IDLE_GRACE_MS = 10_000;
/** Peak memory allowed to a server handling a 50 MB string or deep nesting: the budget of any one create. */
const PEAK_RSS_LIMIT_MIB = 400;
/** Growth of the server's memory allowed while refusing a 257 MiB body: half of it, so the body is never held whole. */
const REFUSAL_RSS_GROWTH_LIMIT_MIB = 128;

/** Cases each property runs, and the longest any property may take. */
const RUNS = { createJson: 300, createEnvelope: 500, createRaw: 300, messages: 300, list: 400, batchRoutes: 600, batchBodies: 200, otherPaths: 300 };
const PROPERTY_TIME_LIMIT_MS = 60_000;
/** Set FC_SEED to replay a failure that fast-check reported. */
const SEED = process.env.FC_SEED === undefined ? undefined : Number(process.env.FC_SEED);

/** OpenAI's routes (Files and Batch APIs) answer errors in OpenAI's envelope; paths no route matches, in batchd's. */
const OPENAI_PATH = /^\/v1\/(?:batches|files)(?:[/?]|$)/;

/** Checks any answer: below 500, a `request-id`, and for 4xx the error envelope of the path's API. */
function expectWellFormed(response: ApiResponse, what: string, method = 'GET'): void {
  const context = `${what} → ${response.status} ${response.text.slice(0, 300)}`;
  expect(response.status, context).toBeLessThan(500);
  expect(response.requestId ?? '(none)', `request-id header: ${context}`).toMatch(/^req_\w+$/);
  if (response.status < 400 || method === 'HEAD') return;
  expect(response.contentType ?? '', context).toMatch(/^application\/json/);
  if (OPENAI_PATH.test(what.split(' ')[1] ?? '') && (response.body as { type?: unknown }).type !== 'error') {
    const { error } = response.body as { error: Record<string, unknown> };
    expect(Object.keys(response.body as object), context).toEqual(['error']);
    expect([typeof error.message, typeof error.type], context).toEqual(['string', 'string']);
    for (const key of ['param', 'code']) expect(error[key] === null || typeof error[key] === 'string', `${key}: ${context}`).toBe(true);
    return;
  }
  const schema = response.status === 413 ? 'BatchdRequestTooLargeResponse' : 'ErrorResponse';
  expect(schemaErrors(schema, response.body), context).toEqual([]);
  expect((response.body as { request_id: unknown }).request_id, context).toBe(response.requestId);
}

function isAlive(server: ServerHandle): boolean {
  try {
    process.kill(server.pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('fuzzing every endpoint', () => {
  let server: ServerHandle;
  let client: Api;
  let existingId: string;
  let cases = 0;
  const failed: string[] = [];

  beforeAll(async () => {
    server = await startServer({ flags: { 'log-level': 'error' } });
    client = api(server.url);
    existingId = (await createBatch(client, userRequests(3, 'existing'))).id;
  });

  afterAll(() => {
    const outcome = failed.length === 0 ? '0 answered 5xx or malformed' : `failing properties: ${failed.join('; ')}`;
    console.log(`[reliability] hostile input: ${cases} fuzzed cases, ${outcome}; server ${isAlive(server) ? 'alive' : 'exited'}`);
  });

  async function check<Ts extends unknown[]>(property: fc.IAsyncPropertyWithHooks<Ts>, numRuns: number): Promise<void> {
    try {
      await fc.assert(property, { numRuns, seed: SEED, interruptAfterTimeLimit: PROPERTY_TIME_LIMIT_MS, markInterruptAsFailure: false });
    } catch (error) {
      failed.push(expect.getState().currentTestName?.split(' > ').pop() ?? 'a property');
      throw error;
    }
  }

  async function send(method: string, path: string, body?: string, headers: Record<string, string | null> = {}): Promise<void> {
    cases++;
    const response = await client.request(method, path, { body, headers });
    expectWellFormed(response, `${method} ${path}${body === undefined ? '' : ` body ${JSON.stringify(body.slice(0, 200))}`}`, method);
  }

  const json = fc.jsonValue({ maxDepth: 4 });
  const validId = fc.stringMatching(/^[a-zA-Z0-9_-]{1,64}$/);
  const customId = fc.oneof(validId, fc.constantFrom('a', 'b', '', 'x'.repeat(65), 'a b', 'ä'), fc.string(), json);
  const block = fc.record({ type: fc.constantFrom('text', 'image', 'x'), text: fc.oneof(fc.string(), json) }, { requiredKeys: [] });
  const message = fc.record(
    {
      role: fc.oneof(fc.constantFrom('user', 'assistant', 'system', ''), json),
      content: fc.oneof(fc.string(), json, fc.array(block, { maxLength: 3 })),
    },
    { requiredKeys: [] },
  );
  const params = fc.oneof(
    fc.record(
      {
        model: fc.oneof(fc.constant(MODEL), fc.string(), json),
        max_tokens: fc.oneof(fc.integer(), fc.double(), json),
        messages: fc.oneof(fc.array(message, { maxLength: 3 }), json),
        stream: fc.oneof(fc.boolean(), json),
        metadata: fc.oneof(fc.record({ user_id: fc.oneof(fc.string(), json) }), json),
        stop_sequences: fc.oneof(fc.array(fc.string(), { maxLength: 3 }), json),
        temperature: fc.oneof(fc.double(), json),
        system: fc.oneof(fc.string(), json),
      },
      { requiredKeys: [] },
    ),
    json,
  );
  const request = fc.oneof(
    fc.record({ custom_id: customId, params }, { requiredKeys: [] }),
    fc.record({ custom_id: customId, params, extra: json }),
    json,
  );
  const envelope = fc.oneof(
    fc.record({ requests: fc.array(request, { maxLength: 6 }) }),
    fc.record({ requests: fc.oneof(fc.array(request, { maxLength: 3 }), json), extra: json }, { requiredKeys: ['requests'] }),
    fc.dictionary(fc.string(), json, { maxKeys: 3 }),
  );

  it('create: any JSON value as the body', async () => {
    await check(fc.asyncProperty(json, (value) => send('POST', '/v1/messages/batches', JSON.stringify(value))), RUNS.createJson);
  }, 120_000);

  it('create: envelopes near the valid shape', async () => {
    await check(fc.asyncProperty(envelope, (value) => send('POST', '/v1/messages/batches', JSON.stringify(value))), RUNS.createEnvelope);
  }, 120_000);

  it('create: bytes that are not JSON, and valid bodies cut or corrupted', async () => {
    const valid = JSON.stringify({ requests: [userRequest('one'), userRequest('two')] });
    const corrupted = fc
      .tuple(fc.nat({ max: valid.length }), fc.nat({ max: 8 }), fc.string({ maxLength: 4, unit: 'binary' }))
      .map(([at, cut, insert]) => valid.slice(0, at) + insert + valid.slice(Math.min(valid.length, at + cut)));
    const raw = fc.oneof(fc.string({ unit: 'binary', maxLength: 300 }), corrupted, fc.string({ maxLength: 50 }).map((text) => valid.slice(0, text.length * 3)));
    await check(fc.asyncProperty(raw, (body) => send('POST', '/v1/messages/batches', body)), RUNS.createRaw);
  }, 120_000);

  it('POST /v1/messages: any params', async () => {
    const body = fc.oneof(params.map((value) => JSON.stringify(value)), fc.string({ unit: 'binary', maxLength: 200 }));
    await check(fc.asyncProperty(body, (text) => send('POST', '/v1/messages', text)), RUNS.messages);
  }, 120_000);

  /**
   * A path or query component: percent-encoded, or written raw with stray `%` sequences kept
   * (only what a URL cannot carry raw is encoded). Lone surrogates become U+FFFD, since a URL
   * cannot carry them at all.
   */
  const component = (text: fc.Arbitrary<string>) =>
    fc.tuple(text, fc.boolean()).map(([value, encode]) => {
      const wellFormed = value.replace(/[\uD800-\uDFFF]/gu, '\uFFFD');
      return encode ? encodeURIComponent(wellFormed) : wellFormed.replace(/[^\x21-\x7e]|[#?/&=]/gu, (c) => encodeURIComponent(c));
    });
  const oddText = fc.oneof(
    fc.string({ unit: 'binary', maxLength: 80 }),
    fc.constantFrom('', '0', '1', '20', '1000', '1001', '-1', '1e3', '20.5', ' 5', '0x10', 'msgbatch_', '%', '%zz', '%ff', '%00', '%2F', '..', '%C0%AF', 'null', '[]', '{}'),
    fc.string({ minLength: 190, maxLength: 400 }),
  );

  it('GET /v1/messages/batches: any query', async () => {
    const key = fc.oneof(fc.constantFrom('limit', 'after_id', 'before_id', 'beta', 'limit[]', '__proto__'), fc.string({ maxLength: 10 }));
    const query = fc.array(fc.tuple(component(key), component(oddText)), { maxLength: 4 }).map((pairs) => pairs.map(([k, v]) => `${k}=${v}`).join('&'));
    await check(fc.asyncProperty(query, (text) => send('GET', `/v1/messages/batches?${text}`)), RUNS.list);
  }, 120_000);

  it('batch routes: any id, on retrieve, cancel, delete, results and usage', async () => {
    const route = fc.constantFrom(['GET', ''], ['POST', '/cancel'], ['DELETE', ''], ['GET', '/results'], ['GET', '/usage']);
    const id = fc.oneof(component(oddText), fc.constant(existingId), fc.constant(`${existingId}x`), fc.array(component(oddText), { maxLength: 4 }).map((parts) => parts.join('')));
    await check(fc.asyncProperty(route, id, ([method, suffix], value) => send(method!, `/v1/messages/batches/${value}${suffix}`)), RUNS.batchRoutes);
  }, 120_000);

  it('cancel and delete: any body and content type', async () => {
    const route = fc.constantFrom(['POST', `/cancel`], ['DELETE', '']);
    const contentType = fc.constantFrom('application/json', 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/json; charset=latin1', null);
    const body = fc.oneof(fc.constant(''), fc.string({ maxLength: 100 }), json.map((value) => JSON.stringify(value)));
    const target = fc.constantFrom('msgbatch_missing', existingId);
    await check(
      fc.asyncProperty(route, contentType, body, target, ([method, suffix], type, text, batchId) =>
        send(method!, `/v1/messages/batches/${batchId}${suffix}`, text, { 'content-type': type }),
      ),
      RUNS.batchBodies,
    );
  }, 120_000);

  it('any other path and method', async () => {
    const method = fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD');
    const segment = fc.oneof(component(oddText), fc.constantFrom('v1', 'messages', 'batches', 'batchd', 'backends', 'health', 'metrics', 'assets', 'index.html', '%2e%2e', '..%2f', 'etc', 'passwd'));
    const path = fc.array(segment, { minLength: 1, maxLength: 6 }).map((parts) => `/${parts.join('/')}`);
    await check(
      fc.asyncProperty(method, path, async (verb, target) => {
        cases++;
        const response = await client.request(verb, target);
        expectWellFormed(response, `${verb} ${target}`, verb);
        expect(response.text, `${verb} ${target} serves a file outside the dashboard`).not.toMatch(/root:.*:0:0:/);
      }),
      RUNS.otherPaths,
    );
  }, 120_000);

  it('is still running and healthy after all of it', async () => {
    expect(isAlive(server), 'server process alive').toBe(true);
    const health = await client.get('/health');
    expect(health.status).toBe(200);
  });
});

describe('a body over 256 MiB', () => {
  /** A valid create body of `totalBytes`, in requests of about 64 KiB, generated as it is sent. */
  function* bigBody(totalBytes: number): Generator<Buffer> {
    const filler = 'x'.repeat(64 * 1024);
    yield Buffer.from('{"requests":[');
    let sent = 0;
    for (let i = 0; sent < totalBytes; i++) {
      const item = Buffer.from(`${i === 0 ? '' : ','}${JSON.stringify(userRequest(`big-${i}`, filler))}`);
      sent += item.length;
      yield item;
    }
    yield Buffer.from(']}');
  }

  function expectTooLarge(response: { status: number; headers: Record<string, string | string[] | undefined>; text: string }): void {
    expect(response.status, response.text.slice(0, 300)).toBe(413);
    const body: unknown = JSON.parse(response.text);
    expect(schemaErrors('BatchdRequestTooLargeResponse', body)).toEqual([]);
    expect(response.headers['request-id']).toMatch(/^req_/);
    expect((body as { request_id: string }).request_id).toBe(response.headers['request-id']);
  }

  it('is refused with 413, streamed without a length, without being held in memory', async () => {
    const server = await startServer({ flags: { 'log-level': 'error' } });
    const before = processMemory(server.pid).rssMiB;
    const response = await postStreamed(`${server.url}/v1/messages/batches`, () => bigBody(MAX_BODY_BYTES + MiB));
    expectTooLarge(response);
    const { peakRssMiB } = processMemory(server.pid);
    expect(peakRssMiB - before, `growth of the server's peak RSS over ${Math.round(before)} MiB at start, MiB`).toBeLessThan(REFUSAL_RSS_GROWTH_LIMIT_MIB);
    expect((await api(server.url).get('/v1/messages/batches')).body.data).toEqual([]);
    console.log(
      `[reliability] hostile input: ${Math.round(response.bytesSent / MiB)} MiB streamed create refused with 413; ` +
        `server RSS ${Math.round(before)} MiB at start, peak ${Math.round(peakRssMiB)} MiB`,
    );
  }, 120_000);

  it('is refused with 413 when its declared length is over the limit, without being held in memory', async () => {
    const server = await startServer({ flags: { 'log-level': 'error' } });
    const before = processMemory(server.pid).rssMiB;
    const size = MAX_BODY_BYTES + 16 * MiB;
    let produced = 0;
    const response = await postStreamed(
      `${server.url}/v1/messages/batches`,
      function* body() {
        const chunk = Buffer.alloc(MiB, 0x20);
        for (; produced < size; produced += chunk.length) yield chunk;
      },
      { 'content-length': String(size) },
    );
    expectTooLarge(response);
    const { peakRssMiB } = processMemory(server.pid);
    expect(peakRssMiB - before, `growth of the server's peak RSS over ${Math.round(before)} MiB at start, MiB`).toBeLessThan(REFUSAL_RSS_GROWTH_LIMIT_MIB);
  }, 120_000);
});

describe('stalled uploads', () => {
  interface StallOutcome {
    what: string;
    elapsedMs: number;
    closed: boolean;
    response: string;
  }

  /** Sends the headers and the start of a body on a raw socket, then nothing. */
  function stall(url: string, what: string, method: string, path: string, chunked: boolean, multipart = false): Promise<StallOutcome> {
    const { port } = new URL(url);
    return new Promise((resolve) => {
      const started = Date.now();
      let response = '';
      const socket = connect(Number(port), '127.0.0.1', () => {
        const start = multipart ? '--x\r\ncontent-disposition: form-data; name="file"; filename="in.jsonl"\r\n\r\n{"req' : '{"req';
        const framing = chunked ? `transfer-encoding: chunked\r\n\r\n${start.length.toString(16)}\r\n${start}\r\n` : `content-length: 1000\r\n\r\n${start}`;
        const type = multipart ? 'multipart/form-data; boundary=x' : 'application/json';
        socket.write(`${method} ${path} HTTP/1.1\r\nhost: 127.0.0.1\r\nx-api-key: ${TEST_API_KEY}\r\ncontent-type: ${type}\r\n${framing}`);
      });
      const done = (closed: boolean) => {
        clearTimeout(limit);
        socket.destroy();
        resolve({ what, elapsedMs: Date.now() - started, closed, response });
      };
      const limit = setTimeout(() => done(false), UPLOAD_IDLE_MS + IDLE_GRACE_MS);
      socket.setEncoding('utf8');
      socket.on('data', (chunk: string) => (response += chunk));
      socket.on('close', () => done(true));
      socket.on('error', () => undefined);
    });
  }

  it('answers or closes each within the upload idle timeout', async () => {
    const server = await startServer({ flags: { 'log-level': 'error' } });
    const id = (await createBatch(api(server.url), userRequests(1, 'stall'))).id;
    const outcomes = await Promise.all([
      stall(server.url, 'create, content-length', 'POST', '/v1/messages/batches', false),
      stall(server.url, 'create, chunked', 'POST', '/v1/messages/batches', true),
      stall(server.url, 'POST /v1/messages', 'POST', '/v1/messages', false),
      stall(server.url, 'cancel', 'POST', `/v1/messages/batches/${id}/cancel`, false),
      stall(server.url, 'delete', 'DELETE', `/v1/messages/batches/${id}`, true),
      stall(server.url, 'file upload', 'POST', '/v1/files', false, true),
      stall(server.url, 'file upload, chunked', 'POST', '/v1/files', true, true),
    ]);
    const problems: string[] = [];
    for (const outcome of outcomes) {
      const statusLine = outcome.response.split('\r\n', 1)[0] ?? '';
      if (!outcome.closed) problems.push(`${outcome.what}: still open after ${outcome.elapsedMs} ms, answered ${JSON.stringify(statusLine)}`);
      if (outcome.response === '') continue;
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(statusLine)?.[1]);
      const [head = '', body = ''] = outcome.response.split('\r\n\r\n', 2);
      if (!(status >= 400 && status < 500)) problems.push(`${outcome.what}: answered ${statusLine}`);
      // A bare status line from the HTTP layer (such as Node's own 408) closes the exchange too.
      if (body === '') continue;
      if (!/^request-id: req_/im.test(head)) problems.push(`${outcome.what}: answer without a request-id`);
      let envelope: unknown;
      try {
        envelope = JSON.parse(body);
      } catch {
        problems.push(`${outcome.what}: answer body is not JSON: ${body.slice(0, 200)}`);
        continue;
      }
      const errors = schemaErrors('ErrorResponse', envelope);
      if (errors.length > 0) problems.push(`${outcome.what}: ${errors.join('; ')}`);
    }
    expect(problems).toEqual([]);
    expect(isAlive(server)).toBe(true);
    console.log(
      `[reliability] hostile input: stalled uploads ${outcomes.map((o) => `${o.what} ${o.response.split(' ', 2)[1] ?? 'closed'} in ${(o.elapsedMs / 1000).toFixed(1)} s`).join('; ')}`,
    );
  }, 120_000);
});

describe('deeply nested JSON and huge strings in params', () => {
  /** Creates each body; returns the batches created, and a problem for each answer that is 5xx, malformed or missing. */
  async function createEach(server: ServerHandle, client: Api, bodies: Array<[string, string]>, problems: string[]): Promise<MessageBatch[]> {
    const created: MessageBatch[] = [];
    for (const [what, body] of bodies) {
      if (!isAlive(server)) break;
      try {
        const response = await client.request('POST', '/v1/messages/batches', { body });
        expectWellFormed(response, `create with ${what}`, 'POST');
        if (response.status === 200) created.push(response.body as MessageBatch);
      } catch (error) {
        problems.push(`create with ${what}: ${(error as Error).message.split('\n')[0]}`);
      }
    }
    return created;
  }

  /** Waits for each batch to end and checks each of its requests ended exactly once. */
  async function expectEnded(server: ServerHandle, client: Api, batches: MessageBatch[], problems: string[]): Promise<void> {
    for (const batch of batches) {
      if (!isAlive(server)) break;
      try {
        const ended = await waitUntilEnded(client, batch.id, batch.request_counts.processing, { timeoutMs: 120_000, intervalMs: 250 });
        resultsById(await fetchResults(client, ended));
      } catch (error) {
        problems.push(`batch ${batch.id}: ${(error as Error).message.split('\n')[0]}`);
      }
    }
  }

  /** Params nested `depth` levels deep, as arrays or objects, in an extra field, in metadata and in a content block. */
  function nestedParams(): Array<[string, string]> {
    const nestings: Record<string, (depth: number) => string> = {
      arrays: (depth) => `${'['.repeat(depth)}${']'.repeat(depth)}`,
      objects: (depth) => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`,
    };
    const placements: Record<string, (nested: string) => string> = {
      'an extra field': (nested) => `{"model":"${MODEL}","max_tokens":16,"messages":[{"role":"user","content":"deep"}],"extra":${nested}}`,
      metadata: (nested) => `{"model":"${MODEL}","max_tokens":16,"messages":[{"role":"user","content":"deep"}],"metadata":${nested}}`,
      'a content block': (nested) => `{"model":"${MODEL}","max_tokens":16,"messages":[{"role":"user","content":[{"type":"text","text":"deep","extra":${nested}}]}]}`,
    };
    const cases: Array<[string, string]> = [];
    // Depths around where recursive code runs out of stack (a few thousand levels), and far past
    // it. Deepest first: code that has already run, and been optimised, on shallower cases uses
    // less stack per level, so going up from shallow cases would hide the deep ones' failures.
    for (const depth of [100_000, 10_000, 5_000, 4_000, 3_000, 2_500, 2_000, 1_500, 1_000, 500]) {
      for (const [nesting, nest] of Object.entries(nestings)) {
        for (const [placement, place] of Object.entries(placements)) cases.push([`${nesting} ${depth} deep in ${placement}`, place(nest(depth))]);
      }
    }
    return cases;
  }

  /** Fails listing the problems, naming a server that exited; then checks it answers and its peak memory. */
  async function expectSurvived(server: ServerHandle, client: Api, problems: string[]): Promise<number> {
    if (!isAlive(server)) problems.push(`the server exited: ${server.output().stderr.slice(-1500)}`);
    expect(problems).toEqual([]);
    expect((await client.get('/health')).status).toBe(200);
    const { peakRssMiB } = processMemory(server.pid);
    expect(peakRssMiB, 'peak RSS of the server, MiB').toBeLessThan(PEAK_RSS_LIMIT_MIB);
    return peakRssMiB;
  }

  it('creates batches with params nested 500 to 100,000 levels deep, or refuses them, and processes what it created', async () => {
    const server = await startServer({ flags: { 'log-level': 'error' } });
    const client = api(server.url);
    const cases = nestedParams();
    const problems: string[] = [];
    const bodies = cases.map(([what, params]): [string, string] => [what, `{"requests":[{"custom_id":"deep","params":${params}},${JSON.stringify(userRequest('plain'))}]}`]);
    const created = await createEach(server, client, bodies, problems);
    await expectEnded(server, client, created, problems);
    const peakRssMiB = await expectSurvived(server, client, problems);
    console.log(
      `[reliability] hostile input: ${cases.length} creates with params nested 500 to 100,000 deep: ${created.length} created and ended, ` +
        `${cases.length - created.length} refused with 4xx; server peak RSS ${Math.round(peakRssMiB)} MiB`,
    );
  }, 240_000);

  it('answers POST /v1/messages with params nested 500 to 100,000 levels deep', async () => {
    const server = await startServer({ flags: { 'log-level': 'error' } });
    const client = api(server.url);
    const cases = nestedParams();
    const problems: string[] = [];
    for (const [what, params] of cases) {
      if (!isAlive(server)) break;
      try {
        expectWellFormed(await client.request('POST', '/v1/messages', { body: params }), `POST /v1/messages with ${what}`, 'POST');
      } catch (error) {
        problems.push(`POST /v1/messages with ${what}: ${(error as Error).message.split('\n')[0]}`);
      }
    }
    const peakRssMiB = await expectSurvived(server, client, problems);
    console.log(`[reliability] hostile input: ${cases.length} POST /v1/messages with params nested 500 to 100,000 deep, none 5xx; server peak RSS ${Math.round(peakRssMiB)} MiB`);
  }, 240_000);

  it('refuses a 50 MB string in params with 413 naming the request, in a create and in POST /v1/messages', async () => {
    const server = await startServer({ flags: { 'log-level': 'error' } });
    const client = api(server.url);
    const requests = [userRequest('plain'), userRequest('huge', 'x'.repeat(50 * 1024 * 1024))];
    const problems: string[] = [];
    const answers = [
      ['create', await client.request('POST', '/v1/messages/batches', { body: JSON.stringify({ requests }) }), 'requests.1.params'],
      ['POST /v1/messages', await client.request('POST', '/v1/messages', { body: JSON.stringify(requests[1]!.params) }), 'body'],
    ] as const;
    for (const [what, response, path] of answers) {
      expectWellFormed(response, `${what} with a 50 MB string`, 'POST');
      expect(response.status).toBe(413);
      expect(response.body.error.message).toBe(`${path}: exceeds the maximum size of 33554432 bytes of JSON`);
    }
    expect((await client.get('/v1/messages/batches')).body.data).toEqual([]);
    const peakRssMiB = await expectSurvived(server, client, problems);
    console.log(`[reliability] hostile input: 50 MB string in params refused with 413; server peak RSS ${Math.round(peakRssMiB)} MiB`);
  }, 240_000);
});
