import { afterEach, describe, expect, it } from 'vitest';
import { BatchdClient } from '../client.js';
import { NotFoundError } from '../core/error.js';
import { sendJSON, startFakeAPI, type FakeAPI, type Handler } from '../test-support/fake-api.js';
import type { OpenAIFile } from '../openai-file-types.js';
import type { OpenAIBatch } from '../openai-batch-types.js';

let api: FakeAPI | undefined;
afterEach(async () => {
  await api?.close();
  api = undefined;
});

async function setup(handler: Handler): Promise<BatchdClient> {
  api = await startFakeAPI(handler);
  return new BatchdClient({ apiKey: 'test-key', baseURL: api.baseURL, sleep: async () => undefined });
}

const batch: OpenAIBatch = {
  id: 'batch_1',
  object: 'batch',
  endpoint: '/v1/chat/completions',
  errors: null,
  input_file_id: 'file-abc',
  completion_window: '24h',
  status: 'completed',
  output_file_id: 'file-batch_1-output',
  error_file_id: null,
  created_at: 1_800_000_000,
  in_progress_at: 1_800_000_000,
  expires_at: 1_800_086_400,
  finalizing_at: 1_800_000_005,
  completed_at: 1_800_000_005,
  failed_at: null,
  expired_at: null,
  cancelling_at: null,
  cancelled_at: null,
  request_counts: { total: 1, completed: 1, failed: 0 },
  metadata: { team: 'search' },
  model: 'gpt-4o-mini',
  output_expires_after: { anchor: 'created_at', seconds: 3600 },
  usage: { input_tokens: 5, input_tokens_details: { cached_tokens: 0 }, output_tokens: 7, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: 12 },
};

/** OpenAI's error body: no `type: "error"` wrapper, the details under `error`. */
const openAIError = { error: { message: 'No batch with id batch_9.', type: 'invalid_request_error', param: null, code: null } };

describe('client.openai', () => {
  it('lists a page of batches with its query and retrieves one by encoded id', async () => {
    const client = await setup((req, res) => {
      if (req.path === '/v1/batches') return sendJSON(res, 200, { object: 'list', data: [batch], first_id: 'batch_1', last_id: 'batch_1', has_more: false });
      if (req.path === '/v1/batches/batch_1') return sendJSON(res, 200, batch);
      return sendJSON(res, 404, openAIError);
    });
    expect((await client.openai.batches.list({ limit: 20, after: 'batch_0' })).data).toEqual([batch]);
    expect(await client.openai.batches.retrieve('batch_1')).toEqual(batch);
    const missing = await client.openai.batches.retrieve('batch/9').catch((error: unknown) => error);
    expect(missing).toBeInstanceOf(NotFoundError);
    expect(missing).toMatchObject({ type: 'invalid_request_error', message: '404 No batch with id batch_9.' });
    expect(api!.requests.map((r) => `${r.method} ${r.path}?${r.query.toString()} ${r.headers['x-api-key']}`)).toEqual([
      'GET /v1/batches?after=batch_0&limit=20 test-key',
      'GET /v1/batches/batch_1? test-key',
      'GET /v1/batches/batch%2F9? test-key',
    ]);
  });

  it('lists a page of files with its query and retrieves one by encoded id', async () => {
    const file: OpenAIFile = {
      id: 'file-1',
      object: 'file',
      bytes: 12,
      created_at: 1_800_000_000,
      expires_at: 1_800_003_600,
      filename: 'in.jsonl',
      purpose: 'batch',
      status: 'processed',
      status_details: null,
    };
    const client = await setup((req, res) => {
      if (req.path === '/v1/files') return sendJSON(res, 200, { object: 'list', data: [file], first_id: 'file-1', last_id: 'file-1', has_more: true });
      return sendJSON(res, 200, file);
    });
    expect(await client.openai.files.list({ after: 'file-0', limit: 1, order: 'asc', purpose: 'batch' })).toMatchObject({ data: [file], has_more: true });
    expect(await client.openai.files.list()).toMatchObject({ data: [file] });
    expect(await client.openai.files.retrieve('file/1')).toEqual(file);
    expect(api!.requests.map((r) => `${r.path}?${r.query.toString()}`)).toEqual([
      '/v1/files?after=file-0&limit=1&order=asc&purpose=batch',
      '/v1/files?',
      '/v1/files/file%2F1?',
    ]);
  });

  it('reads a batch’s usage report by encoded id', async () => {
    const usage = { input_tokens: 400, output_tokens: 100, cache_creation_input_tokens: 0, cache_read_input_tokens: 1600 };
    const cost = { usd: 0.0024, direct_usd: 0.0024, saving_usd: 0, priced_requests: 2, unpriced_requests: 0 };
    const report = { id: 'batch/1', type: 'batch_usage', usage, cache_hit_rate: 0.8, cost };
    const client = await setup((_req, res) => sendJSON(res, 200, report));
    expect(await client.openai.batches.usage('batch/1')).toEqual(report);
    expect(api!.requests.map((r) => `${r.method} ${r.path}`)).toEqual(['GET /v1/batches/batch%2F1/usage']);
  });

  it('reads a file’s content as text', async () => {
    const lines = '{"custom_id":"q-1"}\n{"custom_id":"q-2"}\n';
    const client = await setup((req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      res.end(req.path === '/v1/files/file-batch_1-output/content' ? lines : '');
    });
    expect(await client.openai.files.content('file-batch_1-output')).toBe(lines);
  });
});
