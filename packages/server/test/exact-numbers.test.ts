import { afterAll, describe, expect, it } from 'vitest';
import { api } from '../test-support/api/api.js';
import { waitUntilEnded } from '../test-support/api/batches.js';
import { FakeProvider } from '../test-support/fakes/fake-provider.js';
import { startServer } from '../test-support/process/server-process.js';

/**
 * Numbers a double would change (a uint64 bound, `1.0`, `-0`), through a real `batchd serve` and
 * the Anthropic backend, both ways: the provider receives the params as the client wrote them, and
 * the client reads the provider's Message as the provider wrote it, in a batch's results and from
 * `POST /v1/messages`. The bodies are written by hand: a JavaScript client cannot write these numbers.
 */

const KEY = 'upstream-key';
const BIG = '18446744073709551615';
const PARAMS = `{"model":"claude-sonnet-4-5","max_tokens":32,"temperature":1.0,"tools":[{"name":"pick","input_schema":{"type":"object","properties":{"n":{"type":"integer","minimum":-0,"maximum":${BIG}}}}}],"messages":[{"role":"user","content":"Pick one"}]}`;
const MESSAGE = `{"id":"msg_exact","type":"message","role":"assistant","model":"claude-sonnet-4-5","content":[{"type":"tool_use","id":"toolu_1","name":"pick","input":{"n":${BIG}}}],"stop_reason":"tool_use","stop_sequence":null,"usage":{"input_tokens":12,"output_tokens":9}}`;

let provider: FakeProvider;
afterAll(async () => {
  await provider?.close();
});

describe('numbers a double would change', () => {
  it('reach the provider and come back as written, in batches and interactive calls', async () => {
    provider = await FakeProvider.start({ shape: 'anthropic', apiKey: KEY, respondText: () => MESSAGE });
    const server = await startServer({ flags: { backend: 'anthropic', 'backend-url': provider.url }, env: { BATCHD_BACKEND_API_KEY: KEY } });
    const client = api(server.url);

    const created = await client.post('/v1/messages/batches', undefined, { body: `{"requests": [{"custom_id": "exact", "params": ${PARAMS}}]}` });
    expect(created.status, created.text).toBe(200);
    const ended = await waitUntilEnded(client, created.body.id, 1);
    expect(ended.request_counts.succeeded).toBe(1);
    expect(provider.requests.map((request) => request.text)).toEqual([PARAMS]);
    const results = await client.get(`/v1/messages/batches/${ended.id}/results`);
    expect(results.text).toBe(`{"custom_id":"exact","result":{"type":"succeeded","message":${MESSAGE}}}\n`);

    const answer = await client.post('/v1/messages', undefined, { body: PARAMS.replace('"Pick one"', '"Pick again"') });
    expect(answer.status, answer.text).toBe(200);
    expect(answer.text).toBe(MESSAGE);
    expect(provider.requests[1]?.text).toBe(PARAMS.replace('"Pick one"', '"Pick again"'));
  });
});
