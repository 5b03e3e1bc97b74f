import { BatchdClient, type BatchCreateRequest } from '@batchd/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_API_KEY } from '../test-support/api/api.js';
import { MODEL, countsTotal } from '../test-support/api/batches.js';
import { startServer, type ServerHandle } from '../test-support/process/server-process.js';

/** `submit()` of more requests than one batch may hold: split at 100,000 and merged back. */

const N = 250_000;

let server: ServerHandle;

beforeAll(async () => {
  server = await startServer({ flags: { 'log-level': 'warn', concurrency: 256 } });
});

afterAll(async () => {
  await server.stop();
});

/** Small requests, generated lazily: the source is an iterable, never an array of N. */
function* requests(): Generator<BatchCreateRequest> {
  for (let i = 0; i < N; i++) {
    yield { custom_id: `r${i}`, params: { model: MODEL, max_tokens: 8, messages: [{ role: 'user', content: `n${i}` }] } };
  }
}

describe('submit of 250,000 requests', () => {
  it('creates 3 batches and its merged results hold every custom_id exactly once', async () => {
    const client = new BatchdClient({ baseURL: server.url, apiKey: TEST_API_KEY });
    const submission = await client.messages.batches.submit(requests());
    expect(submission.batches.map(countsTotal)).toEqual([100_000, 100_000, 50_000]);
    expect(new Set(submission.ids).size).toBe(3);

    const seen = new Uint8Array(N);
    const problems: string[] = [];
    for await (const { custom_id, result } of submission.results({ pollInterval: 500, maxPollInterval: 2000 })) {
      const index = /^r(\d+)$/.exec(custom_id);
      if (!index || Number(index[1]) >= N) {
        if (problems.length < 5) problems.push(`unexpected custom_id ${custom_id}`);
        continue;
      }
      seen[Number(index[1])]! += 1;
      if (result.type !== 'succeeded' && problems.length < 5) problems.push(`${custom_id}: ${result.type}`);
    }
    expect(problems).toEqual([]);
    let missing = 0;
    let repeated = 0;
    for (const times of seen) {
      if (times === 0) missing += 1;
      if (times > 1) repeated += 1;
    }
    expect({ missing, repeated }).toEqual({ missing: 0, repeated: 0 });
    expect(submission.batches.map((batch) => batch.request_counts.succeeded)).toEqual([100_000, 100_000, 50_000]);
  }, 600_000);
});
