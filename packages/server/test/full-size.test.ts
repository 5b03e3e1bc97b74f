import Anthropic from '@anthropic-ai/sdk';
import type { MessageBatch } from '@batchd/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MODEL, countsTotal, pollUntil } from '../test-support/api/batches.js';
import { expectSchema, schemaErrors } from '../test-support/api/openapi.js';
import { startServer, type ServerHandle } from '../test-support/process/server-process.js';

/** A batch of the largest size the API allows, created and read back through the official SDK. */

const N = 100_000;

let server: ServerHandle;

beforeAll(async () => {
  server = await startServer({ flags: { 'log-level': 'warn', concurrency: 256 } });
});

afterAll(async () => {
  await server.stop();
});

describe('a 100,000-request batch', () => {
  it('is created through the SDK, runs to the end, and streams back every result exactly once', async () => {
    const client = new Anthropic({ baseURL: server.url, apiKey: 'test-key' });
    const requests = Array.from({ length: N }, (_, i) => ({
      custom_id: `item-${i}`,
      params: { model: MODEL, max_tokens: 32, messages: [{ role: 'user' as const, content: `Item number ${i}.` }] },
    }));

    const created = expectSchema<MessageBatch>('MessageBatch', await client.messages.batches.create({ requests }));
    expect(created.request_counts.processing).toBe(N);

    const ended = await pollUntil(
      async () => {
        const batch = expectSchema<MessageBatch>('MessageBatch', await client.messages.batches.retrieve(created.id));
        expect(countsTotal(batch)).toBe(N);
        return batch;
      },
      (batch) => batch.processing_status === 'ended',
      { what: 'the 100,000-request batch to end', timeoutMs: 200_000, intervalMs: 250 },
    );
    expect(ended.request_counts).toEqual({ processing: 0, succeeded: N, errored: 0, canceled: 0, expired: 0 });

    const seen = new Uint8Array(N);
    const problems: string[] = [];
    let lines = 0;
    for await (const result of await client.messages.batches.results(created.id)) {
      lines += 1;
      const errors = schemaErrors('MessageBatchIndividualResponse', result);
      if (errors.length > 0 && problems.length < 5) problems.push(`${result.custom_id}: ${errors.join('; ')}`);
      const index = /^item-(\d+)$/.exec(result.custom_id);
      if (!index || Number(index[1]) >= N) {
        if (problems.length < 5) problems.push(`unexpected custom_id ${result.custom_id}`);
        continue;
      }
      const i = Number(index[1]);
      seen[i]! += 1;
      if (result.result.type !== 'succeeded' && problems.length < 5) problems.push(`${result.custom_id}: ${result.result.type}`);
      if (result.result.type === 'succeeded') {
        const block = result.result.message.content[0];
        const text = block?.type === 'text' ? block.text : undefined;
        if (text !== `[emulator] Item number ${i}.` && problems.length < 5) problems.push(`${result.custom_id}: text ${String(text)}`);
      }
    }
    expect(problems).toEqual([]);
    expect(lines).toBe(N);
    const missing = seen.reduce((count, times) => count + (times === 0 ? 1 : 0), 0);
    const repeated = seen.reduce((count, times) => count + (times > 1 ? 1 : 0), 0);
    expect({ missing, repeated }).toEqual({ missing: 0, repeated: 0 });
  }, 240_000);
});
