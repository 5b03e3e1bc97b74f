import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, type Api } from '../../test-support/api/api.js';
import { createBatch, MODEL, userRequest, userRequests } from '../../test-support/api/batches.js';
import { expectWellFormed } from '../../test-support/api/well-formed.js';
import { startServer, isAlive, type ServerHandle } from '../../test-support/process/server-process.js';

/**
 * Hostile input: property-based fuzzing of every endpoint's body, path and query. Whatever
 * arrives, batchd answers 2xx or a well-formed 4xx envelope (`ErrorResponse`, `request-id`
 * header, `request_id` echoing it), never a 5xx, and keeps running. The extremes are in
 * `hostile-bodies.test.ts` and `deep-params.test.ts`.
 */

/** Cases each property runs, and the longest any property may take. */
const RUNS = { createJson: 300, createEnvelope: 500, createRaw: 300, messages: 300, list: 400, batchRoutes: 600, batchBodies: 200, otherPaths: 300 };
const PROPERTY_TIME_LIMIT_MS = 60_000;
/** Set FC_SEED to replay a failure that fast-check reported. */
const SEED = process.env.FC_SEED === undefined ? undefined : Number(process.env.FC_SEED);

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
