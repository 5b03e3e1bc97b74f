import Anthropic from '@anthropic-ai/sdk';
import { Agent, fetch as undiciFetch } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeProvider } from '../../test-support/fakes/fake-provider.js';
import { pollUntil } from '../../test-support/api/batches.js';
import { startServer, type ServerHandle } from '../../test-support/process/server-process.js';

/**
 * Many large requests at once: batchd holds at most 64 MiB of large JSON (bodies of
 * `POST /v1/messages` past 1 MiB, and a create's params past 1 MiB) while it reads, parses and
 * answers or stores it, and one client address at most half of that. Clients at two loopback
 * addresses send 30 MB calls the provider holds: the second call from one address waits for that
 * address's half, one from the other goes, and a create from it whose params are as large waits
 * for the whole (as `/metrics` shows), while small calls go through and one past the bound is
 * refused; all are served once the provider answers.
 */

const BIG = 30_000_000;
let provider: FakeProvider;
let server: ServerHandle;
let client: Anthropic;
/** A client connecting from 127.0.0.2: another address than `client`'s. */
let other: Anthropic;
const otherAgent = new Agent({ localAddress: '127.0.0.2' });
/** Opens the provider's answers to the large calls it holds. */
let answerLarge: () => void;
const answersHeld = new Promise<void>((resolve) => (answerLarge = resolve));
const largeArrived: number[] = [];

beforeAll(async () => {
  provider = await FakeProvider.start({
    shape: 'anthropic',
    record: false,
    serve: async (body) => {
      const params = body as { model: string; messages: Array<{ content: string }> };
      const size = params.messages[0]!.content.length;
      if (size >= BIG) {
        largeArrived.push(size);
        await answersHeld;
      }
      return { id: 'msg_held', type: 'message', role: 'assistant', model: params.model, content: [{ type: 'text', text: String(size) }], stop_reason: 'end_turn', stop_sequence: null, usage: { input_tokens: 1, output_tokens: 1 } };
    },
  });
  server = await startServer({ flags: { backend: 'anthropic', 'backend-url': provider.url } });
  client = new Anthropic({ baseURL: server.url, apiKey: 'test-key', maxRetries: 0, timeout: 120_000 });
  const fromOther = ((url: string, init: object) => undiciFetch(url, { ...init, dispatcher: otherAgent })) as unknown as typeof fetch;
  other = new Anthropic({ baseURL: server.url, apiKey: 'test-key', maxRetries: 0, timeout: 120_000, fetch: fromOther });
});

afterAll(async () => {
  answerLarge();
  await provider?.close();
  await otherAgent.close();
});

/** The value of a `/metrics` gauge. */
async function gauge(name: string): Promise<number> {
  const text = await (await fetch(`${server.url}/metrics`, { headers: { 'x-api-key': 'test-key' } })).text();
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${name} `));
  return Number(line?.split(' ')[1]);
}

const call = (size: number, from = client) => from.messages.create({ model: 'claude-sonnet-4-6', max_tokens: 16, messages: [{ role: 'user', content: 'x'.repeat(size) }] });

describe('large JSON at once', () => {
  it("holds a second large call from one address for that address's half, and a large create for the whole, small calls meanwhile", async () => {
    const first = call(BIG);
    await pollUntil(async () => largeArrived.length, (arrived) => arrived === 1, { what: 'the first call at the provider' });
    const second = call(BIG + 1);
    await pollUntil(() => gauge('batchd_large_json_waiting'), (waiting) => waiting === 1, { what: 'the second call from the same address to wait' });
    const fromOther = call(BIG + 2, other);
    await pollUntil(async () => largeArrived.length, (arrived) => arrived === 2, { what: 'the call from the other address at the provider' });
    expect(largeArrived).toEqual([BIG, BIG + 2]);
    expect(await gauge('batchd_large_json_bytes')).toBeGreaterThan(2 * BIG);
    expect(await gauge('batchd_large_json_addresses')).toBe(2);

    const create = other.messages.batches.create({
      requests: [{ custom_id: 'large', params: { model: 'claude-sonnet-4-6', max_tokens: 16, messages: [{ role: 'user', content: 'y'.repeat(BIG) }] } }],
    });
    await pollUntil(() => gauge('batchd_large_json_waiting'), (waiting) => waiting === 2, { what: 'the create to wait' });
    // A small call neither waits nor is held; one declared past the bound on params is refused at once.
    expect((await call(1000)).content).toEqual([{ type: 'text', text: '1000' }]);
    await expect(call(40_000_000)).rejects.toMatchObject({ status: 413 });
    expect(largeArrived).toHaveLength(2);

    answerLarge();
    const answered = await Promise.all([first, second, fromOther]);
    expect(answered.map((message) => message.content[0])).toEqual([BIG, BIG + 1, BIG + 2].map((size) => ({ type: 'text', text: String(size) })));
    const batch = await create;
    expect(batch.request_counts.processing).toBe(1);
    await pollUntil(() => gauge('batchd_large_json_bytes'), (bytes) => bytes === 0, { what: 'every large body to be given back' });
    expect([await gauge('batchd_large_json_waiting'), await gauge('batchd_large_json_addresses')]).toEqual([0, 0]);
  });
});
