import type { MessageBatch } from '@batchd/sdk';
import { describe, expect, it } from 'vitest';
import { api, type Api } from '../../test-support/api/api.js';
import { emulatorReply, fetchResults, MODEL, resultsById, tally, waitUntilEnded } from '../../test-support/api/batches.js';
import { schemaErrors } from '../../test-support/api/openapi.js';
import { startServer, type ServerHandle } from '../../test-support/process/server-process.js';
import { postStreamed, type StreamedResponse } from '../../test-support/process/stream-body.js';
import { processMemory } from '../../test-support/process/process-memory.js';

/**
 * Poison requests: one request built to take the server's memory, sent as a client would, each
 * on a server of its own so its peak resident size (`VmHWM`, from the kernel) is its own. Bounds
 * on one request's params (32 MiB, 64 levels, 100,000 values and keys) are enforced while the
 * body streams: what passes them is stored and run, what does not is refused naming the request
 * and the bound, storing nothing; in either case the server stays under its memory budget.
 */

const MiB = 1024 * 1024;
/** Peak memory of a server through any one create up to the 256 MB body limit, received and run. */
const PEAK_RSS_BUDGET_MIB = 400;
/** The 8 × 31 MB create's own, tighter budget. */
const EIGHT_BY_31_MB_BUDGET_MIB = 340;
const PARAMS_HEAD = `{"model":"${MODEL}","max_tokens":16,"messages":[{"role":"user","content":"poison"}]`;

/** `count` copies of `item`, comma-joined, in pieces of about 1 MiB, between `open` and `close`. */
function* repeated(open: string, item: string, count: number, close: string): Generator<Buffer> {
  const perPiece = Math.max(1, Math.floor(MiB / (item.length + 1)));
  yield Buffer.from(open);
  for (let done = 0; done < count; done += perPiece) {
    const n = Math.min(perPiece, count - done);
    yield Buffer.from(`${done === 0 ? '' : ','}${Array(n).fill(item).join(',')}`);
  }
  yield Buffer.from(close);
}

/** A create body of one request whose params carry `extra` (in pieces) as one more field. */
function* oneRequest(extra: Generator<Buffer>): Generator<Buffer> {
  yield Buffer.from(`{"requests":[{"custom_id":"poison","params":${PARAMS_HEAD},"extra":`);
  yield* extra;
  yield Buffer.from('}}]}');
}

function expectRefused(response: StreamedResponse, status: number, message: RegExp): void {
  expect(response.status, response.text.slice(0, 300)).toBe(status);
  const body = JSON.parse(response.text) as { error: { message: string }; request_id: string };
  expect(schemaErrors(status === 413 ? 'BatchdRequestTooLargeResponse' : 'ErrorResponse', body)).toEqual([]);
  expect(body.error.message).toMatch(message);
  expect(body.request_id).toBe(response.headers['request-id']);
}

/** The server's peak RSS, checked against `budgetMiB`, after checking it still answers. */
async function expectWithinBudget(server: ServerHandle, client: Api, what: string, budgetMiB = PEAK_RSS_BUDGET_MIB): Promise<number> {
  expect((await client.get('/health')).status).toBe(200);
  const { peakRssMiB } = processMemory(server.pid);
  expect(peakRssMiB, `server peak RSS through ${what}, MiB`).toBeLessThan(budgetMiB);
  console.log(`[reliability] poison requests: ${what}: server peak RSS ${Math.round(peakRssMiB)} MiB`);
  return peakRssMiB;
}

async function ended(client: Api, response: StreamedResponse, requests: number): Promise<MessageBatch> {
  expect(response.status, response.text.slice(0, 300)).toBe(200);
  const batch = JSON.parse(response.text) as MessageBatch;
  return waitUntilEnded(client, batch.id, requests, { timeoutMs: 180_000, intervalMs: 250 });
}

describe('poison requests', () => {
  it('refuses one create holding 16 MB of {"x":[{},{},…]} in one request, naming it, storing nothing', async () => {
    const server = await startServer({ flags: { 'log-level': 'error' } });
    const client = api(server.url);
    const response = await postStreamed(`${server.url}/v1/messages/batches`, () => oneRequest(repeated('[', '{}', 5_600_000, ']')));
    expectRefused(response, 400, /^requests\.0\.params: has more than the maximum of 100000 JSON values and keys$/);
    expect((await client.get('/v1/messages/batches')).body.data).toEqual([]);
    await expectWithinBudget(server, client, 'a create of 16 MB of {} in one request');
  }, 120_000);

  it('refuses POST /v1/messages with 30 MB of [{},{},…], and one nested past 64 levels', async () => {
    const server = await startServer({ flags: { 'log-level': 'error' } });
    const client = api(server.url);
    const flat = await postStreamed(`${server.url}/v1/messages`, () =>
      (function* body() {
        yield Buffer.from(`${PARAMS_HEAD},"extra":`);
        yield* repeated('[', '{}', 10_000_000, ']');
        yield Buffer.from('}');
      })(),
    );
    expectRefused(flat, 400, /^body: has more than the maximum of 100000 JSON values and keys$/);
    const deep = await client.request('POST', '/v1/messages', { body: `${PARAMS_HEAD},"extra":${'['.repeat(64)}${']'.repeat(64)}}` });
    expect(deep.status).toBe(400);
    expect(deep.body.error.message).toBe('body: is nested deeper than the maximum of 64 levels');
    await expectWithinBudget(server, client, 'POST /v1/messages with 30 MB of {}');
  }, 120_000);

  it('refuses params over 32 MiB with 413 naming the request, without holding them', async () => {
    const server = await startServer({ flags: { 'log-level': 'error' } });
    const client = api(server.url);
    const body = function* body(): Generator<Buffer> {
      yield Buffer.from(`{"requests":[{"custom_id":"small","params":${PARAMS_HEAD}}},{"custom_id":"huge","params":${PARAMS_HEAD},"extra":"`);
      for (let i = 0; i < 100; i++) yield Buffer.alloc(MiB, 'x');
      yield Buffer.from('"}}]}');
    };
    const response = await postStreamed(`${server.url}/v1/messages/batches`, body);
    expectRefused(response, 413, /^requests\.1\.params: exceeds the maximum size of 33554432 bytes of JSON$/);
    expect((await client.get('/v1/messages/batches')).body.data).toEqual([]);
    await expectWithinBudget(server, client, 'a create with 100 MB of params in one request');
  }, 120_000);

  it('creates and runs a request of 20 MB of plain text', async () => {
    const server = await startServer({ flags: { 'log-level': 'error' } });
    const client = api(server.url);
    const text = 'All work and no play. '.repeat(Math.ceil((20 * MiB) / 22)).slice(0, 20 * MiB);
    const params = { model: MODEL, max_tokens: 1024, messages: [{ role: 'user', content: text }] };
    const response = await postStreamed(`${server.url}/v1/messages/batches`, function* body() {
      yield Buffer.from(JSON.stringify({ requests: [{ custom_id: 'long', params }] }));
    });
    const batch = await ended(client, response, 1);
    const result = resultsById(await fetchResults(client, batch), ['long']).get('long')!.result;
    expect(result.type).toBe('succeeded');
    if (result.type === 'succeeded') expect(result.message.content).toEqual([{ type: 'text', text: emulatorReply(text), citations: null }]);
    await expectWithinBudget(server, client, 'a create of 20 MB of plain text in one request, run');
  }, 180_000);

  it('creates and runs a 250 MB create of 8 requests of 31 MB of text', async () => {
    const server = await startServer({ flags: { 'log-level': 'error' } });
    const client = api(server.url);
    const count = 8;
    const body = function* body(): Generator<Buffer> {
      const text = Buffer.alloc(MiB, 'x');
      yield Buffer.from('{"requests":[');
      for (let i = 0; i < count; i++) {
        yield Buffer.from(`${i === 0 ? '' : ','}{"custom_id":"r${i}","params":${PARAMS_HEAD},"extra":"`);
        for (let piece = 0; piece < 31; piece++) yield text;
        yield Buffer.from('"}}');
      }
      yield Buffer.from(']}');
    };
    const batch = await ended(client, await postStreamed(`${server.url}/v1/messages/batches`, body), count);
    expect(tally(await fetchResults(client, batch))).toEqual({ succeeded: count, errored: 0, canceled: 0, expired: 0 });
    // Large params are stored and read in pieces: about 300 MiB at the peak on a loaded machine, 400 before.
    await expectWithinBudget(server, client, 'a 250 MB create of 8 requests of 31 MB, run', EIGHT_BY_31_MB_BUDGET_MIB);
  }, 300_000);

  it('creates and runs a 250 MB create of 4,000 requests of 64 KB', async () => {
    const server = await startServer({ flags: { 'log-level': 'error' } });
    const client = api(server.url);
    const count = 4000;
    const body = function* body(): Generator<Buffer> {
      const text = Buffer.alloc(64 * 1024, 'a');
      yield Buffer.from('{"requests":[');
      for (let i = 0; i < count; i++) {
        yield Buffer.from(`${i === 0 ? '' : ','}{"custom_id":"r${i}","params":{"model":"${MODEL}","max_tokens":16,"messages":[{"role":"user","content":"`);
        yield text;
        yield Buffer.from('"}]}}');
      }
      yield Buffer.from(']}');
    };
    const batch = await ended(client, await postStreamed(`${server.url}/v1/messages/batches`, body), count);
    expect(tally(await fetchResults(client, batch))).toEqual({ succeeded: count, errored: 0, canceled: 0, expired: 0 });
    await expectWithinBudget(server, client, 'a 250 MB create of 4,000 requests of 64 KB, run');
  }, 300_000);
});
