import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeProvider } from '../../test-support/fakes/fake-provider.js';
import type { BackendSpec } from './backend-spec.js';
import { upstreamModels } from './model-lists.js';

const spec = (type: BackendSpec['type'], url: string, extra: Partial<BackendSpec> = {}): BackendSpec => ({ name: type, type, url, models: ['*'], concurrency: 1, timeoutMs: 1000, cacheAware: false, ...extra });
const signal = () => AbortSignal.timeout(5000);
let fake: FakeProvider | undefined;
afterEach(async () => {
  await fake?.close();
});

describe('upstreamModels', () => {
  it("reads every page of the Anthropic API's list, with its names and dates", async () => {
    const models = Array.from({ length: 1205 }, (_, i) => ({ type: 'model', id: `claude-${i}`, display_name: `Claude ${i}`, created_at: '2025-02-19T00:00:00Z' }));
    fake = await FakeProvider.start({ shape: 'anthropic', apiKey: 'sk-ant', models });
    const listed = await upstreamModels(spec('anthropic', fake.url, { apiKey: 'sk-ant' }), signal());
    expect(listed).toHaveLength(1205);
    expect(listed[1204]).toEqual({ id: 'claude-1204', displayName: 'Claude 1204', created: Date.parse('2025-02-19T00:00:00Z') / 1000 });
    expect(fake.requests.map((request) => request.path)).toEqual(['/v1/models?limit=1000', '/v1/models?limit=1000&after_id=claude-999']);
    expect(fake.requests[0]!.headers).toMatchObject({ 'x-api-key': 'sk-ant', 'anthropic-version': '2023-06-01' });
  });

  it("reads an OpenAI-compatible server's list, each model also under the names model_map gives it", async () => {
    fake = await FakeProvider.start({ shape: 'openai', apiKey: 'sk-vllm', models: [{ id: 'meta/llama-3', object: 'model', created: 1_700_000_000, owned_by: 'vllm' }, { id: 'qwen' }] });
    const listed = await upstreamModels(spec('openai', fake.url, { apiKey: 'sk-vllm', modelMap: { 'llama-chat': 'meta/llama-3' } }), signal());
    expect(listed).toEqual([{ id: 'meta/llama-3', created: 1_700_000_000 }, { id: 'llama-chat', created: 1_700_000_000 }, { id: 'qwen', created: undefined }]);
    expect(fake.requests[0]).toMatchObject({ path: '/v1/models', headers: { authorization: 'Bearer sk-vllm' } });
  });

  it('lists nothing for the emulator, and fails without the body of a refusal that echoes the key', async () => {
    expect(await upstreamModels({ ...spec('emulator', ''), url: undefined }, signal())).toEqual([]);
    fake = await FakeProvider.start({ shape: 'openai', apiKey: 'sk-right' });
    const failure = await upstreamModels(spec('openai-batch', fake.url, { apiKey: 'sk-wrong-4242' }), signal()).catch((error: unknown) => error as Error);
    expect(failure).toBeInstanceOf(Error);
    expect(String(failure)).toContain('HTTP 401');
    expect(String(failure)).not.toContain('sk-wrong-4242');
  });

  it('fails on an answer that is no list, or longer than 4 MiB, without reading it all', async () => {
    let answer = Buffer.from('{"data": "none"}');
    const server = createServer((_request, response) => response.end(answer));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
    try {
      await expect(upstreamModels(spec('openai', url), signal())).rejects.toThrow('not a list');
      answer = Buffer.alloc(5 * 1024 * 1024, 0x20);
      await expect(upstreamModels(spec('openai', url), signal())).rejects.toThrow('passed 4194304 bytes');
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
