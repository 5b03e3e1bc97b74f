import { describe, expect, it } from 'vitest';
import type { BackendCall, ChatBackend, ChatOutcome } from '../backends/backend.js';
import type { ChatCompletion } from '../backends/openai/chat-completions.js';
import { BackendLane, type BackendLaneOptions } from './backend-lane.js';

/** A chat backend whose calls stay open until the test answers them, with the cached tokens it names. */
class EngineBackend implements ChatBackend {
  readonly name = 'engine';
  readonly responsesApi = false;
  readonly open = new Map<string, (cachedTokens?: number) => void>();
  async sendChat({ params }: BackendCall): Promise<ChatOutcome> {
    return new Promise((settle) =>
      this.open.set(String(params.label), (cachedTokens) => {
        const usage = { prompt_tokens: 100, completion_tokens: 1, total_tokens: 101, prompt_tokens_details: cachedTokens === undefined ? undefined : { cached_tokens: cachedTokens } };
        settle({ kind: 'completion', completion: { usage } as unknown as ChatCompletion });
      }),
    );
  }
  async post(): Promise<never> {
    throw new Error('not used');
  }
  async close() {}
}

const tick = () => new Promise((resolve) => setImmediate(resolve));
const signal = new AbortController().signal;

function laneWith(prefixCache: BackendLaneOptions['prefixCache'], ceiling = 8) {
  const backend = new EngineBackend();
  const lane = new BackendLane({ name: 'engine', backend, models: ['*'], ceiling, prefixCache });
  const calls: Array<Promise<unknown>> = [];
  const call = (label: string, prefixKey?: string, prefixTokens = 100) => {
    calls.push(lane.callWith((b) => (b as EngineBackend).sendChat({ params: { label }, signal }), 'batch', { prefixKey, prefixTokens }));
  };
  const answer = async (label: string, cachedTokens?: number) => {
    backend.open.get(label)!(cachedTokens);
    await tick();
  };
  return { backend, lane, call, answer, opened: () => [...backend.open.keys()], calls };
}

describe('prefix gate', () => {
  it('sends one request of a group first and the rest once it answers, while other groups go', async () => {
    const { call, answer, opened } = laneWith({ breakpointsOnly: true });
    for (const label of ['a1', 'a2', 'a3', 'b1', 'b2']) call(label, label[0]);
    call('plain');
    await tick();
    expect(opened()).toEqual(['a1', 'b1', 'plain']);
    await answer('a1', 0);
    expect(opened()).toEqual(['a1', 'b1', 'plain', 'a2', 'a3']);
    await answer('b1', 0);
    expect(opened()).toContain('b2');
  });

  it('keeps the groups in flight within the cache size, a free slot waiting rather than thrashing', async () => {
    const { call, answer, opened } = laneWith({ breakpointsOnly: false, capacityTokens: 250 });
    for (const label of ['a1', 'a2', 'b1', 'c1', 'c2']) call(label, label[0]);
    await tick();
    // a and b fit (200 tokens); c would make 300.
    expect(opened()).toEqual(['a1', 'b1']);
    await answer('b1', 0);
    expect(opened()).toEqual(['a1', 'b1', 'c1']);
    await answer('a1', 0);
    expect(opened()).toEqual(['a1', 'b1', 'c1', 'a2']);
  });

  it('learns the cache size: groups start one after another, from two, growing with hits, cut back on a miss', async () => {
    const { lane, call, answer, opened } = laneWith({ breakpointsOnly: false }, 16);
    for (const label of ['a1', 'a2', 'a3', 'b1', 'b2', 'b3', 'c1', 'c2', 'c3', 'd1', 'd2', 'e1']) call(label, label[0]);
    await tick();
    expect(opened()).toEqual(['a1']);
    expect(lane.gate!.capacityTokens).toBe(200);
    await answer('a1', 0);
    expect(opened()).toEqual(['a1', 'a2', 'a3', 'b1']);
    await answer('a2', 100);
    await answer('b1', 0);
    await answer('b2', 100);
    expect(lane.gate!.capacityTokens).toBe(300);
    expect(opened()).toContain('c1');
    await answer('c1', 0);
    expect(opened()).not.toContain('d1');
    await answer('c2', 100);
    expect(opened()).not.toContain('d1');
    // b ends: room for d.
    await answer('b3', 100);
    expect(opened()).toContain('d1');
    // A request of a group that hit before misses: the size drops to three quarters of the working set (a, c, d).
    await answer('a3', 0);
    expect(lane.gate!.capacityTokens).toBe(225);
    await answer('d1', 0);
    expect(opened()).not.toContain('e1');
  });

  it('leaves the working set unbounded when the engine does not say it hit', async () => {
    const { lane, call, answer, opened } = laneWith({ breakpointsOnly: false }, 16);
    for (const label of ['a1', 'a2', 'a3', 'a4', 'b1', 'b2', 'b3', 'b4', 'c1', 'd1']) call(label, label[0]);
    await tick();
    for (const label of ['a1', 'b1', 'a2', 'a3', 'b2']) await answer(label);
    expect(opened()).toContain('b4');
    expect(opened()).not.toContain('c1');
    await answer('b3');
    expect(lane.gate!.capacityTokens).toBeUndefined();
    expect(opened()).toEqual(expect.arrayContaining(['c1', 'd1']));
  });

  it('groups by cache_control breakpoints only when the provider caches only on request', () => {
    const system = 'A long shared document. '.repeat(100);
    const marked = { model: 'm', system: [{ type: 'text', text: system, cache_control: { type: 'ephemeral' } }], messages: [{ role: 'user', content: 'q' }] };
    const unmarked = { model: 'm', system, messages: [{ role: 'user', content: 'q' }] };
    const breakpoints = laneWith({ breakpointsOnly: true }).lane;
    expect(breakpoints.prefixOf(marked, 'messages')?.cacheControl).toBe(true);
    expect(breakpoints.prefixOf(unmarked, 'messages')).toBeUndefined();
    expect(laneWith({ breakpointsOnly: false }).lane.prefixOf(unmarked, 'messages')?.tokens).toBeGreaterThan(system.length / 4);
    expect(laneWith(undefined).lane.prefixOf(marked, 'messages')).toBeUndefined();
  });

  it('keeps arrival order when the lane is not cache-aware', async () => {
    const { call, opened } = laneWith(undefined, 3);
    for (const label of ['a1', 'a2', 'a3', 'b1']) call(label, label[0]);
    await tick();
    expect(opened()).toEqual(['a1', 'a2', 'a3']);
  });
});
