import type { MessageBatch } from '@batchd/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, type Api } from '../test-support/api/api.js';
import { createBatch, expectApiError, listBatches, userRequests } from '../test-support/api/batches.js';
import { startServer, type ServerHandle } from '../test-support/process/server-process.js';

/**
 * `GET /v1/messages/batches`: newest first; `limit` 1..1000 (default 20); `after_id` pages toward
 * older batches, `before_id` returns the page immediately newer than the cursor; `data`,
 * `has_more`, `first_id` and `last_id` are always present.
 */

const COUNT = 25;

let server: ServerHandle;
let client: Api;
/** Ids of the batches created here, newest first. */
let newestFirst: string[];

beforeAll(async () => {
  server = await startServer({ flags: { 'log-level': 'warn' } });
  client = api(server.url);
  const created: MessageBatch[] = [];
  for (let i = 0; i < COUNT; i++) created.push(await createBatch(client, userRequests(1, `list-${i}`)));
  newestFirst = created.map((batch) => batch.id).reverse();
});

afterAll(async () => {
  await server.stop();
});

function ids(page: { data: MessageBatch[] }): string[] {
  return page.data.map((batch) => batch.id);
}

describe('list', () => {
  it('returns 20 batches by default, newest first', async () => {
    const page = await listBatches(client);
    expect(ids(page)).toEqual(newestFirst.slice(0, 20));
    expect(page.has_more).toBe(true);
    expect(page.first_id).toBe(newestFirst[0]);
    expect(page.last_id).toBe(newestFirst[19]);
  });

  it('returns everything within limit=1000, with has_more false', async () => {
    const page = await listBatches(client, '?limit=1000');
    expect(ids(page)).toEqual(newestFirst);
    expect(page.has_more).toBe(false);
    expect(page.first_id).toBe(newestFirst[0]);
    expect(page.last_id).toBe(newestFirst[COUNT - 1]);
  });

  it('pages toward older batches with after_id = last_id', async () => {
    const walked: string[] = [];
    let query = '?limit=7';
    for (let pages = 0; pages < 10; pages++) {
      const page = await listBatches(client, query);
      walked.push(...ids(page));
      if (!page.has_more) break;
      query = `?limit=7&after_id=${page.last_id}`;
    }
    expect(walked).toEqual(newestFirst);
  });

  it('returns the page immediately newer than before_id, still newest first', async () => {
    const cursor = newestFirst[10]!;
    const page = await listBatches(client, `?limit=3&before_id=${cursor}`);
    expect(ids(page)).toEqual(newestFirst.slice(7, 10));
    expect(page.has_more).toBe(true);
    expect(page.first_id).toBe(newestFirst[7]);
    expect(page.last_id).toBe(newestFirst[9]);

    const top = await listBatches(client, `?limit=5&before_id=${newestFirst[2]}`);
    expect(ids(top)).toEqual(newestFirst.slice(0, 2));
    expect(top.has_more).toBe(false);
  });

  it('pages back toward newer batches with before_id = first_id', async () => {
    const walked: string[] = [];
    let query = `?limit=4&before_id=${newestFirst[COUNT - 1]}`;
    for (let pages = 0; pages < 10; pages++) {
      const page = await listBatches(client, query);
      walked.unshift(...ids(page));
      if (!page.has_more) break;
      query = `?limit=4&before_id=${page.first_id}`;
    }
    expect(walked).toEqual(newestFirst.slice(0, COUNT - 1));
  });

  it('answers an empty page past the oldest batch, with null ids', async () => {
    const page = await listBatches(client, `?after_id=${newestFirst[COUNT - 1]}`);
    expect(page).toEqual({ data: [], has_more: false, first_id: null, last_id: null });
  });

  it('rejects limit outside 1..1000', async () => {
    for (const limit of ['0', '1001', '-1']) {
      expectApiError(await client.get(`/v1/messages/batches?limit=${limit}`), 400, 'invalid_request_error');
    }
    expect(ids(await listBatches(client, '?limit=1'))).toEqual(newestFirst.slice(0, 1));
  });

  it('rejects after_id and before_id together', async () => {
    expectApiError(
      await client.get(`/v1/messages/batches?after_id=${newestFirst[5]}&before_id=${newestFirst[1]}`),
      400,
      'invalid_request_error',
    );
  });
});
