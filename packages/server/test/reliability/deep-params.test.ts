import type { MessageBatch } from '@batchd/sdk';
import { describe, expect, it } from 'vitest';
import { api, type Api } from '../../test-support/api/api.js';
import { fetchResults, MODEL, resultsById, userRequest, waitUntilEnded } from '../../test-support/api/batches.js';
import { expectWellFormed } from '../../test-support/api/well-formed.js';
import { startServer, isAlive, type ServerHandle } from '../../test-support/process/server-process.js';
import { processMemory } from '../../test-support/process/process-memory.js';

/**
 * Deeply nested JSON and huge strings inside `params`, each on a server of its own so its peak
 * memory (VmHWM) is its own: nesting is handled (created, or refused with 4xx) and processed to an
 * end, a 50 MB string is refused with 413, all within bounded memory, and the server stays up.
 */

/** Peak memory allowed to a server handling a 50 MB string or deep nesting: the budget of any one create. */
const PEAK_RSS_LIMIT_MIB = 400;

describe('deeply nested JSON and huge strings in params', () => {
  /** Creates each body; returns the batches created, and a problem for each answer that is 5xx, malformed or missing. */
  async function createEach(server: ServerHandle, client: Api, bodies: Array<[string, string]>, problems: string[]): Promise<MessageBatch[]> {
    const created: MessageBatch[] = [];
    for (const [what, body] of bodies) {
      if (!isAlive(server)) break;
      try {
        const response = await client.request('POST', '/v1/messages/batches', { body });
        expectWellFormed(response, `create with ${what}`, 'POST');
        if (response.status === 200) created.push(response.body as MessageBatch);
      } catch (error) {
        problems.push(`create with ${what}: ${(error as Error).message.split('\n')[0]}`);
      }
    }
    return created;
  }

  /** Waits for each batch to end and checks each of its requests ended exactly once. */
  async function expectEnded(server: ServerHandle, client: Api, batches: MessageBatch[], problems: string[]): Promise<void> {
    for (const batch of batches) {
      if (!isAlive(server)) break;
      try {
        const ended = await waitUntilEnded(client, batch.id, batch.request_counts.processing, { timeoutMs: 120_000, intervalMs: 250 });
        resultsById(await fetchResults(client, ended));
      } catch (error) {
        problems.push(`batch ${batch.id}: ${(error as Error).message.split('\n')[0]}`);
      }
    }
  }

  /** Params nested `depth` levels deep, as arrays or objects, in an extra field, in metadata and in a content block. */
  function nestedParams(): Array<[string, string]> {
    const nestings: Record<string, (depth: number) => string> = {
      arrays: (depth) => `${'['.repeat(depth)}${']'.repeat(depth)}`,
      objects: (depth) => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`,
    };
    const placements: Record<string, (nested: string) => string> = {
      'an extra field': (nested) => `{"model":"${MODEL}","max_tokens":16,"messages":[{"role":"user","content":"deep"}],"extra":${nested}}`,
      metadata: (nested) => `{"model":"${MODEL}","max_tokens":16,"messages":[{"role":"user","content":"deep"}],"metadata":${nested}}`,
      'a content block': (nested) => `{"model":"${MODEL}","max_tokens":16,"messages":[{"role":"user","content":[{"type":"text","text":"deep","extra":${nested}}]}]}`,
    };
    const cases: Array<[string, string]> = [];
    // Depths around where recursive code runs out of stack (a few thousand levels), and far past
    // it. Deepest first: code that has already run, and been optimised, on shallower cases uses
    // less stack per level, so going up from shallow cases would hide the deep ones' failures.
    for (const depth of [100_000, 10_000, 5_000, 4_000, 3_000, 2_500, 2_000, 1_500, 1_000, 500]) {
      for (const [nesting, nest] of Object.entries(nestings)) {
        for (const [placement, place] of Object.entries(placements)) cases.push([`${nesting} ${depth} deep in ${placement}`, place(nest(depth))]);
      }
    }
    return cases;
  }

  /** Fails listing the problems, naming a server that exited; then checks it answers and its peak memory. */
  async function expectSurvived(server: ServerHandle, client: Api, problems: string[]): Promise<number> {
    if (!isAlive(server)) problems.push(`the server exited: ${server.output().stderr.slice(-1500)}`);
    expect(problems).toEqual([]);
    expect((await client.get('/health')).status).toBe(200);
    const { peakRssMiB } = processMemory(server.pid);
    expect(peakRssMiB, 'peak RSS of the server, MiB').toBeLessThan(PEAK_RSS_LIMIT_MIB);
    return peakRssMiB;
  }

  it('creates batches with params nested 500 to 100,000 levels deep, or refuses them, and processes what it created', async () => {
    const server = await startServer({ flags: { 'log-level': 'error' } });
    const client = api(server.url);
    const cases = nestedParams();
    const problems: string[] = [];
    const bodies = cases.map(([what, params]): [string, string] => [what, `{"requests":[{"custom_id":"deep","params":${params}},${JSON.stringify(userRequest('plain'))}]}`]);
    const created = await createEach(server, client, bodies, problems);
    await expectEnded(server, client, created, problems);
    const peakRssMiB = await expectSurvived(server, client, problems);
    console.log(
      `[reliability] hostile input: ${cases.length} creates with params nested 500 to 100,000 deep: ${created.length} created and ended, ` +
        `${cases.length - created.length} refused with 4xx; server peak RSS ${Math.round(peakRssMiB)} MiB`,
    );
  }, 240_000);

  it('answers POST /v1/messages, /v1/chat/completions and /v1/embeddings with params nested 500 to 100,000 levels deep', async () => {
    const server = await startServer({ flags: { 'log-level': 'error' } });
    const client = api(server.url);
    const cases = nestedParams();
    const problems: string[] = [];
    for (const [what, params] of cases) {
      for (const path of ['/v1/messages', '/v1/chat/completions', '/v1/embeddings']) {
        if (!isAlive(server)) break;
        try {
          expectWellFormed(await client.request('POST', path, { body: params }), `POST ${path} with ${what}`, 'POST');
        } catch (error) {
          problems.push(`POST ${path} with ${what}: ${(error as Error).message.split('\n')[0]}`);
        }
      }
    }
    const peakRssMiB = await expectSurvived(server, client, problems);
    console.log(`[reliability] hostile input: ${cases.length} POST /v1/messages, /v1/chat/completions and /v1/embeddings each with params nested 500 to 100,000 deep, none 5xx; server peak RSS ${Math.round(peakRssMiB)} MiB`);
  }, 240_000);

  it('refuses a 50 MB string in params with 413 naming the request, in a create and in POST /v1/messages', async () => {
    const server = await startServer({ flags: { 'log-level': 'error' } });
    const client = api(server.url);
    const requests = [userRequest('plain'), userRequest('huge', 'x'.repeat(50 * 1024 * 1024))];
    const problems: string[] = [];
    const answers = [
      ['create', await client.request('POST', '/v1/messages/batches', { body: JSON.stringify({ requests }) }), 'requests.1.params'],
      ['POST /v1/messages', await client.request('POST', '/v1/messages', { body: JSON.stringify(requests[1]!.params) }), 'body'],
    ] as const;
    for (const [what, response, path] of answers) {
      expectWellFormed(response, `${what} with a 50 MB string`, 'POST');
      expect(response.status).toBe(413);
      expect(response.body.error.message).toBe(`${path}: exceeds the maximum size of 33554432 bytes of JSON`);
    }
    expect((await client.get('/v1/messages/batches')).body.data).toEqual([]);
    const peakRssMiB = await expectSurvived(server, client, problems);
    console.log(`[reliability] hostile input: 50 MB string in params refused with 413; server peak RSS ${Math.round(peakRssMiB)} MiB`);
  }, 240_000);
});
