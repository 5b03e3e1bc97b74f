import { describe, expect, it } from 'vitest';
import { backendAgainstFake } from '../../test-support/fakes/backend-against-fake.js';
import type { BackendSpec } from './backend-spec.js';
import { createBackend } from './create-backend.js';
import { EmulatorBackend } from './emulator/emulator-backend.js';
import { TokenCounters } from './token-counters.js';

const KEY = 'sk-ant-count-0123456789';
const fakeOf = backendAgainstFake('anthropic', KEY, (options: { url: string; apiKey?: string }) => ({ url: options.url, close: async () => {} }));

const spec = <T extends BackendSpec['type']>(name: string, type: T, models: string[], url?: string): BackendSpec & { type: T } => ({ name, type, models, url, apiKey: KEY, concurrency: 4, timeoutMs: 5_000, cacheAware: false });
const call = (model: string) => ({ params: { model, messages: [{ role: 'user', content: 'count these words' }] }, signal: new AbortController().signal });

describe('TokenCounters', () => {
  it('counts by the first configured backend serving the model, an anthropic-batch one through the Anthropic API behind it', async () => {
    const { fake } = await fakeOf();
    const [local, dev] = [spec('local', 'openai', ['llama-*'], 'http://127.0.0.1:9/v1'), spec('dev', 'emulator', ['*'])];
    const specs = [local, spec('batch', 'anthropic-batch', ['claude-*'], fake.url), spec('cheap', 'openai-batch', ['gpt-*'], 'http://127.0.0.1:9/v1'), dev];
    const direct = new Map([local, dev].map((s) => [s.name, createBackend(s)]));
    const counters = new TokenCounters(specs, (name) => direct.get(name)!);
    try {
      expect(counters.for('llama-3')).toEqual({ name: 'local' });
      expect(counters.for('gpt-5')).toEqual({ name: 'cheap' });
      expect(await counters.for('claude-sonnet-4-6')!.countTokens!(call('claude-sonnet-4-6'))).toEqual({ kind: 'count', count: { input_tokens: 5 } });
      expect(fake.requests.map((request) => request.path)).toEqual(['/v1/messages/count_tokens']);
      expect(fake.requests[0]!.headers['x-api-key']).toBe(KEY);
      expect(counters.for('mistral')?.name).toBe('dev');
      expect(await counters.for('mistral')!.countTokens!(call('mistral'))).toEqual(await new EmulatorBackend().countTokens(call('mistral')));
    } finally {
      await counters.close();
      await Promise.all([...direct.values()].map((backend) => backend.close()));
    }
  });

  it('finds no counter for a model no backend serves', async () => {
    const counters = new TokenCounters([spec('dev', 'emulator', ['claude-*'])], () => new EmulatorBackend());
    expect(counters.for('gpt-5')).toBeUndefined();
    await counters.close();
  });
});
