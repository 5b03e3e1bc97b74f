import { describe, expect, it } from 'vitest';
import { EmulatorBackend } from '../backends/emulator/emulator-backend.js';
import type { NewRequest } from '../store/store.js';
import { BackendLane } from './backend-lane.js';
import { Lanes } from './lanes.js';
import { withPrefixKeys } from './prefix-order.js';

const doc = 'A shared document. '.repeat(100);

async function keysOf(lanes: Lanes, requests: NewRequest[]): Promise<Array<string | undefined>> {
  const keyed: Array<string | undefined> = [];
  async function* one() {
    yield requests;
  }
  for await (const chunk of withPrefixKeys(one(), lanes, 'messages')) keyed.push(...chunk.map((r) => r.prefixKey));
  return keyed;
}

function lanes(prefixCache?: { breakpointsOnly: boolean }): Lanes {
  return new Lanes([new BackendLane({ name: 'a', backend: new EmulatorBackend(), models: ['m'], ceiling: 4, prefixCache })]);
}

const request = (system: unknown, model = 'm'): NewRequest => ({ customId: 'x', params: JSON.stringify({ model, max_tokens: 1, system, messages: [{ role: 'user', content: 'q' }] }) });

describe('prefix keys at create', () => {
  it("stores the key the serving lane groups by, and none for what it cannot or need not key", async () => {
    const marked = [{ type: 'text', text: doc, cache_control: { type: 'ephemeral' } }];
    const huge = request('x'.repeat(1024 * 1024));
    const [a, b, none, unserved, bad, big] = await keysOf(lanes({ breakpointsOnly: false }), [request(doc), request(doc), request(''), request(doc, 'other'), { customId: 'y', params: '{' }, huge]);
    expect(a).toMatch(/^[\w-]{16}:\d+$/);
    expect(b).toBe(a);
    expect([none, unserved, bad, big]).toEqual([undefined, undefined, undefined, undefined]);
    const [unmarked, withBreakpoint] = await keysOf(lanes({ breakpointsOnly: true }), [request(doc), request(marked)]);
    expect(unmarked).toBeUndefined();
    expect(withBreakpoint).toMatch(/^[\w-]{16}:\d+$/);
  });

  it('passes requests through untouched when no lane is cache-aware', async () => {
    const requests = [request(doc)];
    async function* one() {
      yield requests;
    }
    const source = one();
    expect(withPrefixKeys(source, lanes(), 'messages')).toBe(source);
  });
});
