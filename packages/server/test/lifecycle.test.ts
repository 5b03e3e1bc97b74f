import type { MessageBatch } from '@batchd/sdk';
import { describe, expect, it } from 'vitest';
import { api } from '../test-support/api/api.js';
import {
  createBatch,
  expectApiError,
  expectBatchInvariants,
  expectOk,
  fetchResults,
  listBatches,
  parseResults,
  pollUntil,
  resultsById,
  retrieveBatch,
  tally,
  timestampMicros,
  userRequests,
  waitUntilEnded,
} from '../test-support/api/batches.js';
import { restartServer, startServer } from '../test-support/process/server-process.js';

/**
 * A batch's life after creation: cancel, delete, expiry at `expires_at`, archival of results at
 * created + results TTL, and recovery when the server restarts on the same database. The emulator
 * is slowed down (`--emulator-latency-ms`, `--concurrency`) so that batches are still running
 * when the tests act on them.
 */

const QUIET = { 'log-level': 'warn' };
const SECOND_MICROS = 1_000_000;

function idsOf(n: number, prefix: string): string[] {
  return Array.from({ length: n }, (_, i) => `${prefix}-${i}`);
}

describe('cancel', () => {
  it('cancels unsent requests, lets in-flight ones finish, then ends', async () => {
    const server = await startServer({ flags: { ...QUIET, 'emulator-latency-ms': 300, concurrency: 2 } });
    const client = api(server.url);
    const n = 40;
    const created = await createBatch(client, userRequests(n, 'cancel'));
    await pollUntil(
      () => retrieveBatch(client, created.id),
      (batch) => batch.request_counts.succeeded > 0,
      { what: 'a first request to succeed' },
    );

    const canceling = expectOk<MessageBatch>(await client.post(`/v1/messages/batches/${created.id}/cancel`), 'MessageBatch');
    expect(canceling.id).toBe(created.id);
    expect(canceling.processing_status).toBe('canceling');
    expect(canceling.cancel_initiated_at).not.toBeNull();
    expectBatchInvariants(canceling, n);

    const ended = await waitUntilEnded(client, created.id, n);
    const counts = ended.request_counts;
    expect(counts.succeeded).toBeGreaterThan(0);
    expect(counts.canceled).toBeGreaterThan(0);
    expect(counts.succeeded + counts.canceled).toBe(n);
    expect(counts.errored + counts.expired).toBe(0);
    expect(ended.cancel_initiated_at).toBe(canceling.cancel_initiated_at);
    expect(timestampMicros(ended.ended_at!)).toBeGreaterThanOrEqual(timestampMicros(ended.cancel_initiated_at!));

    const lines = await fetchResults(client, ended);
    resultsById(lines, idsOf(n, 'cancel'));
    expect(tally(lines)).toEqual({ succeeded: counts.succeeded, errored: 0, canceled: counts.canceled, expired: 0 });
    for (const line of lines) if (line.result.type === 'canceled') expect(line.result).toEqual({ type: 'canceled' });
    await server.stop();
  });

  it('refuses delete while running or canceling, answers a second cancel unchanged, refuses cancel once ended', async () => {
    // One request at a time, two seconds each: after the first success, the next one is in flight
    // long enough for the calls below to find the batch canceling.
    const server = await startServer({ flags: { ...QUIET, 'emulator-latency-ms': 2000, concurrency: 1 } });
    const client = api(server.url);
    const n = 6;
    const created = await createBatch(client, userRequests(n, 'twice'));

    expectApiError(await client.delete(`/v1/messages/batches/${created.id}`), 400, 'invalid_request_error');

    await pollUntil(
      () => retrieveBatch(client, created.id),
      (batch) => batch.request_counts.succeeded > 0,
      { what: 'a first request to succeed' },
    );
    const first = expectOk<MessageBatch>(await client.post(`/v1/messages/batches/${created.id}/cancel`), 'MessageBatch');
    expect(first.processing_status).toBe('canceling');
    const second = expectOk<MessageBatch>(await client.post(`/v1/messages/batches/${created.id}/cancel`), 'MessageBatch');
    const { request_counts: _firstCounts, ...firstRest } = first;
    const { request_counts: _secondCounts, ...secondRest } = second;
    expect(secondRest).toEqual(firstRest);
    expectBatchInvariants(second, n);

    expectApiError(await client.delete(`/v1/messages/batches/${created.id}`), 400, 'invalid_request_error');
    expect((await retrieveBatch(client, created.id)).processing_status).not.toBe('in_progress');

    const ended = await waitUntilEnded(client, created.id, n);
    expect(ended.request_counts.canceled).toBeGreaterThan(0);
    expectApiError(await client.post(`/v1/messages/batches/${created.id}/cancel`), 400, 'invalid_request_error');
    expect((await retrieveBatch(client, created.id)).processing_status).toBe('ended');
    await server.stop();
  });
});

describe('delete', () => {
  it('deletes only ended batches; a deleted batch is gone from every route and from the list', async () => {
    const server = await startServer({ flags: QUIET });
    const client = api(server.url);
    const kept = await waitUntilEnded(client, (await createBatch(client, userRequests(2, 'kept'))).id, 2);
    const doomed = await waitUntilEnded(client, (await createBatch(client, userRequests(3, 'doomed'))).id, 3);
    expect((await listBatches(client)).data.map((batch) => batch.id)).toEqual([doomed.id, kept.id]);

    const deleted = expectOk<{ id: string; type: string }>(await client.delete(`/v1/messages/batches/${doomed.id}`), 'DeleteMessageBatchResponse');
    expect(deleted).toEqual({ id: doomed.id, type: 'message_batch_deleted' });

    expectApiError(await client.get(`/v1/messages/batches/${doomed.id}`), 404, 'not_found_error');
    expectApiError(await client.post(`/v1/messages/batches/${doomed.id}/cancel`), 404, 'not_found_error');
    expectApiError(await client.delete(`/v1/messages/batches/${doomed.id}`), 404, 'not_found_error');
    expectApiError(await client.get(`/v1/messages/batches/${doomed.id}/results`), 404, 'not_found_error');
    const page = await listBatches(client);
    expect(page.data.map((batch) => batch.id)).toEqual([kept.id]);
    expect(page.first_id).toBe(kept.id);
    expect(page.last_id).toBe(kept.id);

    // The other batch is untouched.
    resultsById(await fetchResults(client, await retrieveBatch(client, kept.id)), idsOf(2, 'kept'));
    await server.stop();
  });
});

describe('expiry', () => {
  it('expires unsent requests at expires_at = created_at + --batch-ttl, then ends', async () => {
    const server = await startServer({
      flags: { ...QUIET, 'batch-ttl': '2s', 'emulator-latency-ms': 300, concurrency: 1, 'maintenance-interval': '200ms' },
    });
    const client = api(server.url);
    const n = 30;
    const created = await createBatch(client, userRequests(n, 'expiry'));
    expect(timestampMicros(created.expires_at) - timestampMicros(created.created_at)).toBe(2 * SECOND_MICROS);

    const ended = await waitUntilEnded(client, created.id, n);
    const counts = ended.request_counts;
    expect(counts.expired).toBeGreaterThan(0);
    expect(counts.succeeded + counts.expired).toBe(n);
    expect(counts.errored + counts.canceled).toBe(0);
    expect(ended.expires_at).toBe(created.expires_at);
    expect(ended.cancel_initiated_at).toBeNull();
    expect(timestampMicros(ended.ended_at!)).toBeGreaterThanOrEqual(timestampMicros(ended.expires_at));

    const lines = await fetchResults(client, ended);
    resultsById(lines, idsOf(n, 'expiry'));
    expect(tally(lines)).toEqual({ succeeded: counts.succeeded, errored: 0, canceled: 0, expired: counts.expired });
    for (const line of lines) if (line.result.type === 'expired') expect(line.result).toEqual({ type: 'expired' });
    await server.stop();
  });

  it('sets expires_at 24 hours after created_at by default', async () => {
    const server = await startServer({ flags: QUIET });
    const created = await createBatch(api(server.url), userRequests(1, 'default-ttl'));
    expect(timestampMicros(created.expires_at) - timestampMicros(created.created_at)).toBe(24 * 3600 * SECOND_MICROS);
    await server.stop();
  });
});

describe('configuration through the environment', () => {
  it('reads the batch TTL from BATCHD_BATCH_TTL', async () => {
    const server = await startServer({ flags: QUIET, env: { BATCHD_BATCH_TTL: '90m' } });
    const created = await createBatch(api(server.url), userRequests(1, 'env-ttl'));
    expect(timestampMicros(created.expires_at) - timestampMicros(created.created_at)).toBe(90 * 60 * SECOND_MICROS);
    await server.stop();
  });
});

describe('archival', () => {
  it('archives results at created_at + --results-ttl: archived_at is set and results answer 404', async () => {
    const server = await startServer({ flags: { ...QUIET, 'results-ttl': '3s', 'maintenance-interval': '200ms' } });
    const client = api(server.url);
    const created = await createBatch(client, userRequests(3, 'archive'));
    const ended = await waitUntilEnded(client, created.id, 3);
    expect(ended.archived_at).toBeNull();
    resultsById(await fetchResults(client, ended), idsOf(3, 'archive'));

    const archived = await pollUntil(
      async () => {
        const batch = await retrieveBatch(client, created.id);
        expectBatchInvariants(batch, 3);
        return batch;
      },
      (batch) => batch.archived_at !== null,
      { what: 'archived_at to be set', timeoutMs: 30_000 },
    );
    expect(archived.processing_status).toBe('ended');
    expect(archived.request_counts).toEqual(ended.request_counts);
    expect(timestampMicros(archived.archived_at!) - timestampMicros(archived.created_at)).toBeGreaterThanOrEqual(3 * SECOND_MICROS);
    expectApiError(await client.get(`/v1/messages/batches/${created.id}/results`), 404, 'not_found_error');
    // The batch itself stays visible.
    expect((await listBatches(client)).data.map((batch) => batch.id)).toContain(created.id);
    await server.stop();
  });
});

describe('restart recovery', () => {
  it('continues an unfinished batch after SIGKILL: every request ends exactly once', async () => {
    const flags = { ...QUIET, 'emulator-latency-ms': 200, concurrency: 4 };
    const first = await startServer({ flags });
    const before = api(first.url);

    const done = await waitUntilEnded(before, (await createBatch(before, userRequests(4, 'done'))).id, 4);
    const doneResults = (await before.get(`/v1/messages/batches/${done.id}/results`)).text;

    const n = 60;
    const running = await createBatch(before, userRequests(n, 'crash'));
    await pollUntil(
      () => retrieveBatch(before, running.id),
      (batch) => batch.request_counts.succeeded >= 8,
      { what: 'some requests to succeed before the crash' },
    );
    const exit = await first.kill();
    expect(exit.signal).toBe('SIGKILL');

    const second = await restartServer(first);
    const after = api(second.url);
    const resumed = await retrieveBatch(after, running.id);
    expectBatchInvariants(resumed, n);
    expect(resumed.request_counts.succeeded).toBeGreaterThanOrEqual(8);

    const ended = await waitUntilEnded(after, running.id, n, { timeoutMs: 120_000, intervalMs: 100 });
    expect(ended.request_counts).toEqual({ processing: 0, succeeded: n, errored: 0, canceled: 0, expired: 0 });
    const lines = await fetchResults(after, ended);
    expect(lines).toHaveLength(n);
    resultsById(lines, idsOf(n, 'crash'));

    // The batch that had ended before the crash is intact, and its results_url names the live server.
    const doneAfter = await retrieveBatch(after, done.id);
    expect(doneAfter.request_counts).toEqual(done.request_counts);
    expect(doneAfter.results_url).toBe(`${second.url}/v1/messages/batches/${done.id}/results`);
    const doneResultsAfter = parseResults(await after.get(`/v1/messages/batches/${done.id}/results`));
    expect(doneResultsAfter.map((line) => JSON.stringify(line)).sort()).toEqual(doneResults.trimEnd().split('\n').sort());
    await second.stop();
  }, 180_000);

  it('continues an unfinished batch after SIGTERM', async () => {
    const flags = { ...QUIET, 'emulator-latency-ms': 200, concurrency: 4 };
    const first = await startServer({ flags });
    const before = api(first.url);
    const n = 40;
    const running = await createBatch(before, userRequests(n, 'term'));
    await pollUntil(
      () => retrieveBatch(before, running.id),
      (batch) => batch.request_counts.succeeded >= 4,
      { what: 'some requests to succeed before shutdown' },
    );
    await first.stop();

    const second = await restartServer(first);
    const after = api(second.url);
    const ended = await waitUntilEnded(after, running.id, n, { timeoutMs: 120_000, intervalMs: 100 });
    expect(ended.request_counts).toEqual({ processing: 0, succeeded: n, errored: 0, canceled: 0, expired: 0 });
    resultsById(await fetchResults(after, ended), idsOf(n, 'term'));
    await second.stop();
  }, 180_000);
});
