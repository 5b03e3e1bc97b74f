import { BatchdClient, type MessageBatch, type MessageBatchProcessingStatus } from '@batchd/sdk';
import { describe, expect, it } from 'vitest';
import { loadListView, PAGE_SIZE } from '../src/list-view.js';

/** Batches newest first, as the server lists them. */
function batches(statuses: MessageBatchProcessingStatus[]): MessageBatch[] {
  return statuses.map((status, i) => ({
    id: `msgbatch_${String(statuses.length - i).padStart(4, '0')}`,
    type: 'message_batch',
    processing_status: status,
    request_counts: { processing: 0, succeeded: 1, errored: 0, canceled: 0, expired: 0 },
    ended_at: null,
    created_at: '2026-01-01T00:00:00Z',
    expires_at: '2026-01-02T00:00:00Z',
    archived_at: null,
    cancel_initiated_at: null,
    results_url: null,
  }));
}

/** A client whose list endpoint pages over `all` with `after_id` and `limit`, counting calls. */
function fakeClient(all: MessageBatch[]): { client: BatchdClient; calls: string[] } {
  const calls: string[] = [];
  const fetch = async (input: string) => {
    const url = new URL(input);
    calls.push(url.search);
    const after = url.searchParams.get('after_id');
    const limit = Number(url.searchParams.get('limit'));
    const start = after === null ? 0 : all.findIndex((b) => b.id === after) + 1;
    const data = all.slice(start, start + limit);
    const body = { data, has_more: start + limit < all.length, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null };
    return new Response(JSON.stringify(body), { headers: { 'content-type': 'application/json' } });
  };
  return { client: new BatchdClient({ apiKey: 'k', baseURL: 'http://batchd.test', fetch }), calls };
}

const signal = new AbortController().signal;

describe('loadListView', () => {
  it('shows one API page at a time without a filter', async () => {
    const all = batches(Array.from({ length: 45 }, () => 'ended'));
    const { client, calls } = fakeClient(all);
    const first = await loadListView(client, { after: undefined, status: null }, signal);
    expect(first.batches.map((b) => b.id)).toEqual(all.slice(0, PAGE_SIZE).map((b) => b.id));
    expect(first.nextAfter).toBe(all[PAGE_SIZE - 1]!.id);
    const third = await loadListView(client, { after: all[2 * PAGE_SIZE - 1]!.id, status: null }, signal);
    expect(third.batches).toHaveLength(5);
    expect(third.nextAfter).toBeNull();
    expect(calls).toHaveLength(2);
  });

  it('walks the cursors until a filtered page is full, and continues after its last batch', async () => {
    // 150 ended batches with one in progress every tenth: 15 in progress, spread over two API pages.
    const all = batches(Array.from({ length: 150 }, (_, i) => (i % 10 === 0 ? 'in_progress' : 'ended')));
    const { client, calls } = fakeClient(all);
    const view = await loadListView(client, { after: undefined, status: 'in_progress' }, signal);
    expect(view.batches.map((b) => b.id)).toEqual(all.filter((b) => b.processing_status === 'in_progress').map((b) => b.id));
    expect(view.nextAfter).toBeNull();
    expect(calls).toEqual(['?limit=100', `?after_id=${all[99]!.id}&limit=100`]);

    const ended = await loadListView(client, { after: undefined, status: 'ended' }, signal);
    expect(ended.batches).toHaveLength(PAGE_SIZE);
    expect(ended.batches.every((b) => b.processing_status === 'ended')).toBe(true);
    const next = await loadListView(client, { after: ended.nextAfter!, status: 'ended' }, signal);
    expect(next.batches[0]!.id).toBe(all.filter((b) => b.processing_status === 'ended')[PAGE_SIZE]!.id);
  });

  it('ends a filtered page when no later batch matches', async () => {
    const all = batches(['canceling', ...Array.from({ length: 30 }, (): MessageBatchProcessingStatus => 'ended')]);
    const { client } = fakeClient(all);
    const view = await loadListView(client, { after: undefined, status: 'canceling' }, signal);
    expect(view.batches.map((b) => b.id)).toEqual([all[0]!.id]);
    expect(view.nextAfter).toBeNull();
  });
});
