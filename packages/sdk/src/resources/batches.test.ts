import type { ServerResponse } from 'node:http';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { BatchdClient } from '../client.js';
import { APIConnectionError, APIUserAbortError, BadRequestError, BatchdError, JSONLDecodeError } from '../core/error.js';
import { Page, PagePromise } from '../core/pagination.js';
import { makeBatch, resultFor, sendJSON, startFakeAPI, type FakeAPI, type Handler, type RecordedRequest } from '../test-support/fake-api.js';
import type { MessageBatch, MessageBatchIndividualResponse } from '../wire-types.js';

let api: FakeAPI | undefined;
afterEach(async () => {
  await api?.close();
  api = undefined;
});

async function setup(handler: Handler): Promise<{ client: BatchdClient; requests: RecordedRequest[]; baseURL: string }> {
  api = await startFakeAPI(handler);
  const client = new BatchdClient({ apiKey: 'test-key', baseURL: api.baseURL, sleep: async () => undefined });
  return { client, requests: api.requests, baseURL: api.baseURL };
}

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

const params = { model: 'emulator', max_tokens: 16, messages: [{ role: 'user' as const, content: 'hi' }] };

describe('batches CRUD', () => {
  it('create POSTs the requests and returns the batch', async () => {
    const created = makeBatch({ id: 'msgbatch_new', request_counts: { processing: 2, succeeded: 0, errored: 0, canceled: 0, expired: 0 } });
    const { client, requests } = await setup((_req, res) => sendJSON(res, 200, created));
    const body = { requests: [{ custom_id: 'a', params }, { custom_id: 'b', params }] };
    const batch: MessageBatch = await client.messages.batches.create(body);
    expect(batch).toEqual(created);
    const [req] = requests;
    expect(req).toMatchObject({ method: 'POST', path: '/v1/messages/batches' });
    expect(req?.headers).toMatchObject({ 'content-type': 'application/json', 'x-api-key': 'test-key', 'anthropic-version': '2023-06-01' });
    expect(JSON.parse(req?.body ?? '')).toEqual(body);
  });

  it('retrieve GETs the batch by encoded id', async () => {
    const { client, requests } = await setup((_req, res) => sendJSON(res, 200, makeBatch({ id: 'msgbatch_01' })));
    await expect(client.messages.batches.retrieve('msgbatch_01')).resolves.toEqual(makeBatch({ id: 'msgbatch_01' }));
    await client.messages.batches.retrieve('odd/id?');
    expect(requests.map((r) => `${r.method} ${r.path} ${r.body}`)).toEqual([
      'GET /v1/messages/batches/msgbatch_01 ',
      'GET /v1/messages/batches/odd%2Fid%3F ',
    ]);
  });

  it('usage GETs the token totals, cache hit rate and cost of a batch by encoded id', async () => {
    const report = {
      id: 'msgbatch_01',
      type: 'message_batch_usage',
      usage: { input_tokens: 12, output_tokens: 30, cache_creation_input_tokens: 0, cache_read_input_tokens: 4 },
      cache_hit_rate: 0.25,
      cost: { usd: 0.000198, direct_usd: 0.000396, saving_usd: 0.000198, priced_requests: 1, unpriced_requests: 0 },
    };
    const { client, requests } = await setup((_req, res) => sendJSON(res, 200, report));
    await expect(client.messages.batches.usage('msgbatch/01')).resolves.toEqual(report);
    expect(requests.map((r) => `${r.method} ${r.path}`)).toEqual(['GET /v1/messages/batches/msgbatch%2F01/usage']);
  });

  it('cancel POSTs without a body and returns the canceling batch', async () => {
    const canceling = makeBatch({ processing_status: 'canceling', cancel_initiated_at: '2026-01-01T00:00:05.000000Z' });
    const { client, requests } = await setup((_req, res) => sendJSON(res, 200, canceling));
    await expect(client.messages.batches.cancel('msgbatch_01')).resolves.toEqual(canceling);
    expect(requests[0]).toMatchObject({ method: 'POST', path: '/v1/messages/batches/msgbatch_01/cancel', body: '' });
    expect(requests[0]?.headers['content-type']).toBeUndefined();
  });

  it('delete sends DELETE and returns the deletion marker', async () => {
    const { client, requests } = await setup((_req, res) => sendJSON(res, 200, { id: 'msgbatch_01', type: 'message_batch_deleted' }));
    await expect(client.messages.batches.delete('msgbatch_01')).resolves.toEqual({ id: 'msgbatch_01', type: 'message_batch_deleted' });
    expect(requests[0]).toMatchObject({ method: 'DELETE', path: '/v1/messages/batches/msgbatch_01' });
  });

  it('passes per-request headers and surfaces business errors', async () => {
    const { client, requests } = await setup((_req, res) =>
      sendJSON(res, 400, { type: 'error', error: { type: 'invalid_request_error', message: 'Batch is in progress' }, request_id: 'req_1' }, { 'request-id': 'req_1' }),
    );
    const error = await client.messages.batches.delete('msgbatch_01', { headers: { 'x-trace': 't1' } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BadRequestError);
    expect(error).toMatchObject({ type: 'invalid_request_error', requestID: 'req_1', status: 400 });
    expect(requests).toHaveLength(1);
    expect(requests[0]?.headers['x-trace']).toBe('t1');
  });
});

/** Serves ids b10 (newest) … b01 (oldest) with the list semantics batchd implements. */
const listHandler: Handler = (req, res) => {
  const all = Array.from({ length: 10 }, (_, i) => makeBatch({ id: `b${String(10 - i).padStart(2, '0')}` }));
  const limit = Number(req.query.get('limit') ?? 20);
  const before = req.query.get('before_id');
  const after = req.query.get('after_id');
  let data: MessageBatch[];
  let hasMore: boolean;
  if (before) {
    const newer = all.slice(0, all.findIndex((b) => b.id === before));
    data = newer.slice(-limit);
    hasMore = newer.length > limit;
  } else {
    const older = after ? all.slice(all.findIndex((b) => b.id === after) + 1) : all;
    data = older.slice(0, limit);
    hasMore = older.length > limit;
  }
  sendJSON(res, 200, { data, has_more: hasMore, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null });
};

describe('batches.list', () => {
  it('returns an awaitable first page with cursors and the query sent', async () => {
    const { client, requests } = await setup(listHandler);
    const pending = client.messages.batches.list({ limit: 3 });
    expect(pending).toBeInstanceOf(PagePromise);
    const page = await pending;
    expect(page).toBeInstanceOf(Page);
    expect(page.data.map((b) => b.id)).toEqual(['b10', 'b09', 'b08']);
    expect(page).toMatchObject({ has_more: true, first_id: 'b10', last_id: 'b08' });
    expect(page.hasNextPage()).toBe(true);
    expect(requests[0]?.path).toBe('/v1/messages/batches');
    expect(requests[0]?.query.toString()).toBe('limit=3');
  });

  it('walks older pages with after_id = last_id', async () => {
    const { client, requests } = await setup(listHandler);
    const first = await client.messages.batches.list({ limit: 4 });
    const second = await first.getNextPage();
    expect(second.data.map((b) => b.id)).toEqual(['b06', 'b05', 'b04', 'b03']);
    const third = await second.getNextPage();
    expect(third.data.map((b) => b.id)).toEqual(['b02', 'b01']);
    expect(third.hasNextPage()).toBe(false);
    await expect(third.getNextPage()).rejects.toThrow(BatchdError);
    expect(requests.map((r) => [r.query.get('after_id'), r.query.get('limit')])).toEqual([
      [null, '4'],
      ['b07', '4'],
      ['b03', '4'],
    ]);
  });

  it('walks newer pages with before_id = first_id when the query started with before_id', async () => {
    const { client, requests } = await setup(listHandler);
    const pages = [];
    for await (const page of (await client.messages.batches.list({ before_id: 'b02', limit: 3 })).iterPages()) {
      pages.push(page.data.map((b) => b.id));
    }
    expect(pages).toEqual([['b05', 'b04', 'b03'], ['b08', 'b07', 'b06'], ['b10', 'b09']]);
    expect(requests.map((r) => r.query.get('before_id'))).toEqual(['b02', 'b05', 'b08']);
  });

  it('iterates every batch across pages with for await on the unawaited call', async () => {
    const { client, requests } = await setup(listHandler);
    const ids: string[] = [];
    for await (const batch of client.messages.batches.list({ limit: 4 })) ids.push(batch.id);
    expect(ids).toEqual(['b10', 'b09', 'b08', 'b07', 'b06', 'b05', 'b04', 'b03', 'b02', 'b01']);
    expect(requests).toHaveLength(3);
  });

  it('stops on an empty page even if has_more is set', async () => {
    const { client, requests } = await setup((_req, res) => sendJSON(res, 200, { data: [], has_more: true, first_id: null, last_id: null }));
    expect(await collect(client.messages.batches.list())).toEqual([]);
    expect(requests).toHaveLength(1);
  });
});

const line = (customID: string): string => JSON.stringify({ custom_id: customID, result: resultFor(customID, 'succeeded') });

/** Writes `text` in pieces cut at the given byte offsets, yielding to the network between them. */
async function writeInPieces(res: ServerResponse, text: string, cuts: number[]): Promise<void> {
  const bytes = Buffer.from(text, 'utf8');
  let start = 0;
  for (const cut of [...cuts, bytes.length]) {
    res.write(bytes.subarray(start, cut));
    start = cut;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  res.end();
}

function endedBatch(resultsURL: string | null): MessageBatch {
  return makeBatch({ processing_status: 'ended', ended_at: '2026-01-01T00:01:00.000000Z', results_url: resultsURL });
}

describe('batches.results', () => {
  it('retrieves the batch, then streams its absolute results_url with Accept: application/binary', async () => {
    const text = `${line('é-1')}\r\n${line('日本')}\n\n${line('😀')}`;
    const emojiAt = Buffer.from(text).indexOf(Buffer.from('😀'));
    const handler: Handler = async (req, res) => {
      if (req.path === '/v1/messages/batches/msgbatch_01') return sendJSON(res, 200, endedBatch(`${api?.baseURL}/files/results.jsonl`));
      res.writeHead(200, { 'content-type': 'application/x-jsonl' });
      await writeInPieces(res, text, [3, 40, 41, emojiAt + 1, emojiAt + 3]);
    };
    const { client, requests } = await setup(handler);
    const results: MessageBatchIndividualResponse[] = await collect(await client.messages.batches.results('msgbatch_01'));
    expect(results.map((r) => r.custom_id)).toEqual(['é-1', '日本', '😀']);
    expect(results[0]?.result).toEqual(resultFor('é-1', 'succeeded'));
    expect(requests.map((r) => `${r.method} ${r.path}`)).toEqual(['GET /v1/messages/batches/msgbatch_01', 'GET /files/results.jsonl']);
    expect(requests[1]?.headers).toMatchObject({ accept: 'application/binary', 'x-api-key': 'test-key' });
  });

  it('joins a relative results_url to the base URL', async () => {
    const { client, requests } = await setup((req, res) =>
      req.path.endsWith('/results') ? void res.end(`${line('a')}\n`) : sendJSON(res, 200, endedBatch('/v1/messages/batches/msgbatch_01/results')),
    );
    expect((await collect(await client.messages.batches.results('msgbatch_01'))).map((r) => r.custom_id)).toEqual(['a']);
    expect(requests[1]?.path).toBe('/v1/messages/batches/msgbatch_01/results');
  });

  it('throws a clear error while the batch has no results_url', async () => {
    const { client, requests } = await setup((_req, res) => sendJSON(res, 200, makeBatch()));
    await expect(client.messages.batches.results('msgbatch_01')).rejects.toThrow(
      'Batch msgbatch_01 has no results_url: its processing_status is in_progress; results exist once it has ended.',
    );
    expect(requests).toHaveLength(1);
  });

  it('names the line of a malformed result', async () => {
    const { client } = await setup((req, res) =>
      req.path.endsWith('/results') ? void res.end(`${line('a')}\n${line('b')}\n{"custom_id":"c","res`) : sendJSON(res, 200, endedBatch('/r/results')),
    );
    const seen: string[] = [];
    const error = await (async () => {
      for await (const r of await client.messages.batches.results('msgbatch_01')) seen.push(r.custom_id);
    })().catch((e: unknown) => e);
    expect(seen).toEqual(['a', 'b']);
    expect(error).toBeInstanceOf(JSONLDecodeError);
    expect((error as JSONLDecodeError).lineNumber).toBe(3);
  });

  it('rejects a line that is not a batch result', async () => {
    const { client } = await setup((req, res) =>
      req.path.endsWith('/results') ? void res.end('{"custom_id":"a"}\n') : sendJSON(res, 200, endedBatch('/r/results')),
    );
    await expect(collect(await client.messages.batches.results('msgbatch_01'))).rejects.toThrow('Malformed JSONL at line 1: missing result for a');
  });

  it('reports a results stream dropped mid-way as a connection error', async () => {
    const { client } = await setup(async (req, res) => {
      if (!req.path.endsWith('/results')) return sendJSON(res, 200, endedBatch('/r/results'));
      res.writeHead(200, { 'content-type': 'application/x-jsonl' });
      res.write(`${line('a')}\n{"custom_id":`);
      await new Promise((resolve) => setTimeout(resolve, 20));
      res.socket?.destroy();
    });
    const seen: string[] = [];
    const error = await (async () => {
      for await (const r of await client.messages.batches.results('msgbatch_01')) seen.push(r.custom_id);
    })().catch((e: unknown) => e);
    expect(seen).toEqual(['a']);
    expect(error).toBeInstanceOf(APIConnectionError);
  });

  it('aborts a results stream with the signal', async () => {
    const { client } = await setup((req, res) => {
      if (!req.path.endsWith('/results')) return sendJSON(res, 200, endedBatch('/r/results'));
      res.writeHead(200, { 'content-type': 'application/x-jsonl' });
      res.write(`${line('a')}\n`);
    });
    const controller = new AbortController();
    const stream = await client.messages.batches.results('msgbatch_01', { signal: controller.signal });
    const seen: string[] = [];
    const error = await (async () => {
      for await (const r of stream) {
        seen.push(r.custom_id);
        controller.abort();
      }
    })().catch((e: unknown) => e);
    expect(seen).toEqual(['a']);
    expect(error).toBeInstanceOf(APIUserAbortError);
  });

  it('leaves the connection usable after breaking out early', async () => {
    const { client, requests } = await setup((req, res) =>
      req.path.endsWith('/results') ? void res.end(`${line('a')}\n${line('b')}\n`) : sendJSON(res, 200, endedBatch('/r/results')),
    );
    for await (const r of await client.messages.batches.results('msgbatch_01')) {
      expect(r.custom_id).toBe('a');
      break;
    }
    await vi.waitFor(async () => expect(await client.messages.batches.retrieve('msgbatch_01')).toMatchObject({ processing_status: 'ended' }));
    expect(requests.length).toBeGreaterThanOrEqual(3);
  });
});
