import { afterEach, describe, expect, it } from 'vitest';
import { BatchdClient } from '../client.js';
import { APIConnectionError, BatchdError } from '../core/error.js';
import { makeBatch, resultFor, sendJSON, startFakeAPI, type FakeAPI, type Handler, type RecordedRequest } from '../test-support/fake-api.js';

/** `results(id, { partial, follow }, options)`: batchd's results of a running batch. */

let api: FakeAPI | undefined;
afterEach(async () => {
  await api?.close();
  api = undefined;
});

async function setup(handler: Handler): Promise<{ client: BatchdClient; requests: RecordedRequest[] }> {
  api = await startFakeAPI(handler);
  return { client: new BatchdClient({ apiKey: 'test-key', baseURL: api.baseURL, sleep: async () => undefined }), requests: api.requests };
}

const line = (customID: string): string => `${JSON.stringify({ custom_id: customID, result: resultFor(customID, 'succeeded') })}\n`;
const request = (r: RecordedRequest) => `${r.method} ${r.path}${r.query.size > 0 ? `?${r.query.toString()}` : ''}`;

describe('batches.results with partial', () => {
  it('reads the results so far straight from the results path, without retrieving the batch', async () => {
    const { client, requests } = await setup((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/x-jsonl' });
      res.end(line('a') + line('b'));
    });
    const seen: string[] = [];
    for await (const item of await client.messages.batches.results('msgbatch_01', { partial: true })) seen.push(item.custom_id);
    expect(seen).toEqual(['a', 'b']);
    expect(requests.map(request)).toEqual(['GET /v1/messages/batches/msgbatch_01/results?partial=true']);
    expect(requests[0]?.headers).toMatchObject({ accept: 'application/binary', 'x-api-key': 'test-key' });
  });

  it('follows: yields each result as it arrives, before the stream has ended', async () => {
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const { client, requests } = await setup(async (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/x-jsonl' });
      res.write(line('first'));
      await released;
      res.end(line('second'));
    });
    const seen: string[] = [];
    for await (const item of await client.messages.batches.results('msgbatch_01', { partial: true, follow: true })) {
      seen.push(item.custom_id);
      release();
    }
    expect(seen).toEqual(['first', 'second']);
    expect(requests.map(request)).toEqual(['GET /v1/messages/batches/msgbatch_01/results?partial=true&follow=true']);
  });

  it('reports a follow stream the server cut as a connection error', async () => {
    const { client } = await setup((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/x-jsonl' });
      res.write(line('a'), () => res.socket?.destroy());
    });
    const seen: string[] = [];
    const error = await (async () => {
      for await (const item of await client.messages.batches.results('msgbatch_01', { partial: true, follow: true })) seen.push(item.custom_id);
    })().catch((e: unknown) => e);
    expect(seen).toEqual(['a']);
    expect(error).toBeInstanceOf(APIConnectionError);
  });

  it('keeps the other call forms: options second, or params and options, reading an ended batch as before', async () => {
    const ended = makeBatch({ processing_status: 'ended', results_url: '/v1/messages/batches/msgbatch_01/results' });
    const { client, requests } = await setup((req, res) => {
      if (!req.path.endsWith('/results')) return sendJSON(res, 200, ended);
      res.writeHead(200, { 'content-type': 'application/x-jsonl' });
      res.end(line('a'));
    });
    const batches = client.messages.batches;
    for (const stream of [
      await batches.results('msgbatch_01', { headers: { 'x-trace': 'options' } }),
      await batches.results('msgbatch_01', undefined, { headers: { 'x-trace': 'undefined-params' } }),
      await batches.results('msgbatch_01', { partial: false }, { headers: { 'x-trace': 'params' } }),
    ]) {
      const seen: string[] = [];
      for await (const item of stream) seen.push(item.custom_id);
      expect(seen).toEqual(['a']);
    }
    expect(requests.map((r) => `${request(r)} ${r.headers['x-trace']}`)).toEqual([
      'GET /v1/messages/batches/msgbatch_01 options',
      'GET /v1/messages/batches/msgbatch_01/results options',
      'GET /v1/messages/batches/msgbatch_01 undefined-params',
      'GET /v1/messages/batches/msgbatch_01/results undefined-params',
      'GET /v1/messages/batches/msgbatch_01 params',
      'GET /v1/messages/batches/msgbatch_01/results params',
    ]);
  });

  it('refuses follow without partial before sending anything', async () => {
    const { client, requests } = await setup((_req, res) => sendJSON(res, 200, makeBatch()));
    await expect(client.messages.batches.results('msgbatch_01', { follow: true })).rejects.toThrow(BatchdError);
    expect(requests).toEqual([]);
  });
});
