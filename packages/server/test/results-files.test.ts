import Anthropic from '@anthropic-ai/sdk';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, type Api } from '../test-support/api/api.js';
import { pollUntil, userRequest, userRequests } from '../test-support/api/batches.js';
import { startServer, type ServerHandle } from '../test-support/process/server-process.js';

/**
 * Results files through the process: once a large batch has ended, batchd writes its results to a
 * file beside the database and serves them from there, the same bytes as before; small batches
 * stay in the database, and a deleted batch's file goes with its rows.
 */

let server: ServerHandle;
let client: Api;
let sdk: Anthropic;

beforeAll(async () => {
  server = await startServer({ flags: { 'results-file-min-requests': 10, 'maintenance-interval': '100ms', 'log-level': 'warn' } });
  client = api(server.url);
  sdk = new Anthropic({ baseURL: server.url, apiKey: 'test-key' });
});

afterAll(async () => {
  await server.stop();
});

function resultsFile(id: string): string {
  return join(`${server.dbPath}.results`, `${id}.jsonl`);
}

async function endedBatch(requests: ReturnType<typeof userRequests>): Promise<string> {
  const batch = await sdk.messages.batches.create({ requests: requests as unknown as Anthropic.Messages.Batches.BatchCreateParams['requests'] });
  await pollUntil(() => sdk.messages.batches.retrieve(batch.id), (b) => b.processing_status === 'ended', { what: `${batch.id} to end` });
  return batch.id;
}

describe('results files', () => {
  it('serves a large ended batch from its file with the bytes the database gave', async () => {
    const small = await endedBatch(userRequests(3, 'small'));
    const requests = [...userRequests(11, 'large'), userRequest('denied', 'No.', { metadata: { user_id: 'emulator:error=permission_error' } })];
    const large = await endedBatch(requests);
    const fromDatabase = await client.get(`/v1/messages/batches/${large}/results`);
    expect(fromDatabase.status).toBe(200);

    await pollUntil(async () => existsSync(resultsFile(large)), Boolean, { what: 'the results file' });
    const fromFile = await client.get(`/v1/messages/batches/${large}/results`);
    expect(fromFile.contentType).toBe('application/x-jsonl');
    expect(fromFile.text).toBe(fromDatabase.text);
    // Ended before the large one, so looked at no later than it, and left in the database.
    expect(existsSync(resultsFile(small))).toBe(false);

    const results = [];
    for await (const result of await sdk.messages.batches.results(large)) results.push(result);
    expect(results.map((r) => r.custom_id).sort()).toEqual(requests.map((r) => r.custom_id).sort());
    expect(results.find((r) => r.custom_id === 'denied')!.result.type).toBe('errored');
    expect(results.filter((r) => r.result.type === 'succeeded')).toHaveLength(11);
    const smallResults = [];
    for await (const result of await sdk.messages.batches.results(small)) smallResults.push(result.custom_id);
    expect(smallResults.sort()).toEqual(['small-0', 'small-1', 'small-2']);
  });

  it('removes the file of a deleted batch', async () => {
    const id = await endedBatch(userRequests(12, 'gone'));
    await pollUntil(async () => existsSync(resultsFile(id)), Boolean, { what: 'the results file' });
    await sdk.messages.batches.delete(id);
    await pollUntil(async () => existsSync(resultsFile(id)), (exists) => !exists, { what: 'the file to be removed' });
    expect((await client.get(`/v1/messages/batches/${id}/results`)).status).toBe(404);
  });
});
