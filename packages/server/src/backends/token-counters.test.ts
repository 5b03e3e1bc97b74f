import { describe, expect, it } from 'vitest';
import { backendAgainstFake } from '../../test-support/fakes/backend-against-fake.js';
import type { BackendSpec } from './backend-spec.js';
import { createBackend } from './create-backend.js';
import { EmulatorBackend } from './emulator/emulator-backend.js';
import type { CountOutcome } from './backend.js';
import { InFlightBound, TokenCounters } from './token-counters.js';

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

describe('InFlightBound', () => {
  const counted: CountOutcome = { kind: 'count', count: { input_tokens: 1 } };

  it('runs at most its limit at once, hands each freed place to the longest waiting, and drops a waiter whose caller went', async () => {
    const bound = new InFlightBound(2);
    const started: number[] = [];
    const finish: Array<() => void> = [];
    const count = (n: number) => () => {
      started.push(n);
      return new Promise<CountOutcome>((resolve) => finish.push(() => resolve(counted)));
    };
    const callers = [0, 1, 2, 3].map(() => new AbortController());
    const outcomes = callers.map((caller, n) => bound.run(caller.signal, count(n)));
    await new Promise((resolve) => setImmediate(resolve));
    expect(started).toEqual([0, 1]);
    callers[2]!.abort();
    expect(await outcomes[2]).toMatchObject({ kind: 'error', status: 0, message: 'request aborted' });
    finish[0]!();
    expect(await outcomes[0]).toEqual(counted);
    expect(started).toEqual([0, 1, 3]);
    finish[1]!();
    finish[2]!();
    expect(await Promise.all([outcomes[1], outcomes[3]])).toEqual([counted, counted]);
    // Every place came back: two more run at once.
    const again = [bound.run(new AbortController().signal, count(4)), bound.run(new AbortController().signal, count(5))];
    await new Promise((resolve) => setImmediate(resolve));
    expect(started.slice(-2)).toEqual([4, 5]);
    finish[3]!();
    finish[4]!();
    await Promise.all(again);
  });

  it('gives a place back when the count throws', async () => {
    const bound = new InFlightBound(1);
    await expect(bound.run(new AbortController().signal, () => Promise.reject(new Error('refused')))).rejects.toThrow('refused');
    expect(await bound.run(new AbortController().signal, () => Promise.resolve(counted))).toEqual(counted);
  });
});

