import { afterEach, describe, expect, it } from 'vitest';
import { EngineCacheModel } from '../../../test-support/fakes/engine-cache-model.js';
import { FakeProvider, type FakeProviderOptions } from '../../../test-support/fakes/fake-provider.js';
import { OpenAIBackend } from '../openai/openai-backend.js';

let providers: FakeProvider[] = [];
let backends: OpenAIBackend[] = [];
let now = 1_000_000;

afterEach(async () => {
  await Promise.all(backends.map((backend) => backend.close()));
  await Promise.all(providers.map((provider) => provider.close()));
  providers = [];
  backends = [];
});

/** Four fake OpenAI-compatible replicas behind one backend whose clock the test moves. */
async function setup(options: Omit<FakeProviderOptions, 'shape'> = {}): Promise<{ fakes: FakeProvider[]; backend: OpenAIBackend }> {
  const fakes = await Promise.all([0, 1, 2, 3].map(() => FakeProvider.start({ shape: 'openai', ...options })));
  providers.push(...fakes);
  const backend = new OpenAIBackend({ url: fakes.map((fake) => fake.url), now: () => now });
  backends.push(backend);
  return { fakes, backend };
}

const body = { model: 'm', messages: [{ role: 'user', content: 'Hi' }] };
const send = (backend: OpenAIBackend, routingKey?: string) => backend.sendChat({ params: body, signal: new AbortController().signal, routingKey });
const served = (fakes: FakeProvider[]) => fakes.map((fake) => fake.received);

describe('a backend of several replicas', () => {
  it('sends every call with one routing key to one replica, and calls without a key to each in turn', async () => {
    const { fakes, backend } = await setup();
    for (let i = 0; i < 20; i++) expect(await send(backend, 'prefix-a')).toMatchObject({ kind: 'completion' });
    expect(served(fakes).sort()).toEqual([0, 0, 0, 20]);
    const before = served(fakes);
    for (let i = 0; i < 20; i++) await send(backend);
    expect(served(fakes).map((count, i) => count - before[i]!)).toEqual([5, 5, 5, 5]);
    expect(backend.replicas().map((r) => [r.url, r.calls, r.in_flight, r.up])).toEqual(fakes.map((f, i) => [f.url, served(fakes)[i], 0, true]));
  });

  it('holds no replica above ⌈1.25 × average⌉ of the calls in flight, however many share a key', async () => {
    const { fakes, backend } = await setup({ latencyMs: 300 });
    const calls = Array.from({ length: 16 }, () => send(backend, 'hot'));
    const loads = backend.replicas().map((r) => r.in_flight);
    expect(loads.reduce((a, b) => a + b)).toBe(16);
    expect(Math.max(...loads)).toBe(Math.ceil((1.25 * 16) / 4));
    await Promise.all(calls);
    expect(backend.replicas().map((r) => r.in_flight)).toEqual([0, 0, 0, 0]);
  });

  it('skips a replica that answered 5xx until its time is up, its key going to the next replica, then gives the key back', async () => {
    const { fakes, backend } = await setup();
    await send(backend, 'k');
    const owner = served(fakes).indexOf(1);
    fakes[owner]!.inject(500);
    expect(await send(backend, 'k')).toMatchObject({ kind: 'error', status: 500, retryable: true });
    expect(backend.replicas()[owner]).toMatchObject({ up: false, failures: 1, calls: 2 });
    await send(backend, 'k');
    await send(backend, 'k');
    expect(served(fakes)[owner]).toBe(2);
    expect(served(fakes).reduce((a, b) => a + b)).toBe(4);
    now += 5_001;
    await send(backend, 'k');
    expect(served(fakes)[owner]).toBe(3);
    expect(backend.replicas()[owner]!.up).toBe(true);
  });

  it('moves a call refused a connection to the next replica at once: nothing fails while a replica is down', async () => {
    const { fakes, backend } = await setup();
    await fakes[1]!.close();
    const outcomes = await Promise.all(Array.from({ length: 40 }, (_, i) => send(backend, `key-${i}`)));
    expect(outcomes.every((outcome) => outcome.kind === 'completion')).toBe(true);
    const down = backend.replicas()[1]!;
    expect(down.up).toBe(false);
    expect(down.failures).toBeGreaterThan(0);
    expect(down.calls).toBe(down.failures);
    expect(served(fakes).reduce((a, b) => a + b)).toBe(40);
  });

  it('primes each replica a key spills onto: calls sent there together wait for the first, then read its cached prefix', async () => {
    const models = [0, 1, 2, 3].map(() => new EngineCacheModel({ cacheTokens: 10_000, prefillTokensPerMs: 2, decodeMs: 5 }));
    const engines = await Promise.all(models.map((model) => FakeProvider.start({ shape: 'openai', serve: model.serve })));
    providers.push(...engines);
    const backend = new OpenAIBackend({ url: engines.map((engine) => engine.url), now: () => now });
    backends.push(backend);
    const params = { model: 'm', messages: [{ role: 'system', content: 'You review contracts. '.repeat(200) }, { role: 'user', content: 'Go' }] };
    const outcomes = await Promise.all(Array.from({ length: 12 }, () => backend.sendChat({ params, signal: new AbortController().signal, routingKey: 'contracts' })));
    expect(outcomes.every((outcome) => outcome.kind === 'completion')).toBe(true);
    const used = models.filter((model) => model.counts.requests > 0);
    expect(used.length).toBeGreaterThan(1);
    for (const model of used) expect(model.counts.requests - model.counts.hits).toBe(1);
  });
});
