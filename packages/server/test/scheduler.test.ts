import Anthropic from '@anthropic-ai/sdk';
import Database from 'better-sqlite3';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeProvider, type FakeProviderOptions } from '../test-support/fakes/fake-provider.js';
import { api, type Api } from '../test-support/api/api.js';
import {
  createBatch,
  fetchResults,
  pollUntil,
  resultsById,
  retrieveBatch,
  tally,
  userRequests,
  waitUntilEnded,
} from '../test-support/api/batches.js';
import { restartServer, startServer, type ServerHandle } from '../test-support/process/server-process.js';

/**
 * The engine against fake providers that are real HTTP servers on loopback: faults, permanent
 * errors, crashes, fairness, rate limits and interactive priority, through the batchd process.
 */

const UPSTREAM_KEY = 'sk-upstream-secret-0123456789';
const providers: FakeProvider[] = [];
afterEach(async () => {
  for (const provider of providers.splice(0)) await provider.close();
});

async function provider(options: Partial<FakeProviderOptions> = {}): Promise<FakeProvider> {
  const fake = await FakeProvider.start({ shape: 'anthropic', apiKey: UPSTREAM_KEY, ...options });
  providers.push(fake);
  return fake;
}

async function serverFor(fake: FakeProvider, flags: Record<string, string | number> = {}): Promise<{ server: ServerHandle; client: Api }> {
  const server = await startServer({
    flags: { backend: fake.url.endsWith('/v1') ? 'openai' : 'anthropic', 'backend-url': fake.url, ...flags },
    env: { BATCHD_BACKEND_API_KEY: UPSTREAM_KEY },
  });
  return { server, client: api(server.url) };
}

describe('scheduler against fake providers', () => {
  it('ends every request succeeded under 20% transient faults, sending params unchanged', async () => {
    const fake = await provider({ latencyMs: 5, faults: { rate: 0.2, kinds: [429, 529, 500, 503, 'drop', 'garbage'], seed: 7 } });
    const { server, client } = await serverFor(fake, { concurrency: 16, 'max-attempts': 12 });
    const requests = userRequests(150, 'flaky').map((r, i) => ({ ...r, params: { ...r.params, temperature: 0.5, metadata: { user_id: `u${i}` }, system: [{ type: 'text', text: 'Be brief.' }] } }));
    const batch = await createBatch(client, requests);
    const ended = await waitUntilEnded(client, batch.id, requests.length, { timeoutMs: 120_000 });
    expect(ended.request_counts.succeeded).toBe(150);
    const results = resultsById(await fetchResults(client, ended), requests.map((r) => r.custom_id));
    expect(results.size).toBe(150);
    // Every distinct body the provider received is exactly one of the submitted params.
    const submitted = new Map(requests.map((r) => [JSON.stringify(r.params.metadata), r.params]));
    for (const received of fake.requests) {
      const body = received.body as { metadata: unknown };
      expect(body).toEqual(submitted.get(JSON.stringify(body.metadata)));
      expect(received.headers['x-api-key']).toBe(UPSTREAM_KEY);
    }
    expect(fake.requests.length).toBeGreaterThan(150);
    const { stdout, stderr } = server.output();
    expect(stdout + stderr).not.toContain(UPSTREAM_KEY);
  });

  it('reports permanent provider errors with their type and message, without retrying them', async () => {
    const fake = await provider();
    fake.inject(400, 403, 404, 422);
    const { server, client } = await serverFor(fake, { concurrency: 1 });
    const batch = await createBatch(client, userRequests(5, 'perm'));
    const ended = await waitUntilEnded(client, batch.id, 5);
    const results = await fetchResults(client, ended);
    expect(tally(results)).toMatchObject({ succeeded: 1, errored: 4 });
    const types = results.filter((r) => r.result.type === 'errored').map((r) => (r.result.type === 'errored' ? r.result.error.error.type : ''));
    expect(types.sort()).toEqual(['invalid_request_error', 'invalid_request_error', 'not_found_error', 'permission_error']);
    expect(fake.requests.length).toBe(5);
    expect(JSON.stringify(results)).not.toContain(UPSTREAM_KEY);
    void server;
  });

  it('raises an alarm when the provider rejects the upstream key', async () => {
    const fake = await provider({ apiKey: 'a-different-key' });
    const { server, client } = await serverFor(fake, { concurrency: 2 });
    const batch = await createBatch(client, userRequests(2, 'auth'));
    const ended = await waitUntilEnded(client, batch.id, 2);
    const results = await fetchResults(client, ended);
    expect(results.every((r) => r.result.type === 'errored' && r.result.error.error.type === 'authentication_error')).toBe(true);
    expect(JSON.stringify(results)).not.toContain(UPSTREAM_KEY);
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toMatch(/batchd_backend_auth_failures_total\{backend="anthropic"\} 2/);
    expect(server.output().stderr).toContain('backend rejected our credentials');
    expect(server.output().stderr).not.toContain(UPSTREAM_KEY);
  });

  it('recovers from kill -9: every request ends exactly once, re-sending only calls in flight', async () => {
    const fake = await provider({ latencyMs: 100 });
    const { server, client } = await serverFor(fake, { concurrency: 16 });
    const batch = await createBatch(client, userRequests(300, 'crash'));
    await pollUntil(() => retrieveBatch(client, batch.id), (b) => b.request_counts.succeeded >= 60, { timeoutMs: 60_000 });
    await server.kill();
    const sentBeforeKill = fake.requests.length;
    // In flight at the kill: sent, with no result committed. A call answered in the few
    // milliseconds before its result's write counts too, so at most two per slot.
    const db = new Database(server.dbPath, { readonly: true, fileMustExist: true });
    const committed = db.prepare(`SELECT count(*) FROM requests WHERE state = 'done'`).pluck().get() as number;
    db.close();
    const inFlightAtKill = sentBeforeKill - committed;
    expect(inFlightAtKill).toBeLessThanOrEqual(2 * 16);
    const restarted = await restartServer(server);
    const again = api(restarted.url);
    const ended = await waitUntilEnded(again, batch.id, 300, { timeoutMs: 120_000 });
    expect(ended.request_counts.succeeded).toBe(300);
    const results = await fetchResults(again, ended);
    resultsById(results, userRequests(300, 'crash').map((r) => r.custom_id));
    expect(results).toHaveLength(300);
    expect(sentBeforeKill).toBeGreaterThan(60);
    expect(fake.requests.length).toBeLessThanOrEqual(300 + inFlightAtKill);
  });

  it('on SIGTERM lets calls in flight finish, so nothing is sent twice', async () => {
    const fake = await provider({ latencyMs: 80 });
    const { server, client } = await serverFor(fake, { concurrency: 8 });
    const batch = await createBatch(client, userRequests(80, 'term'));
    await pollUntil(() => retrieveBatch(client, batch.id), (b) => b.request_counts.succeeded >= 10, { timeoutMs: 60_000 });
    const exit = await server.stop();
    expect(exit.code).toBe(0);
    const restarted = await restartServer(server);
    const again = api(restarted.url);
    const ended = await waitUntilEnded(again, batch.id, 80, { timeoutMs: 60_000 });
    expect(ended.request_counts.succeeded).toBe(80);
    expect(fake.requests.length).toBe(80);
  });

  it('serves a small batch created behind a large one within its own turn', async () => {
    const fake = await provider({ latencyMs: 20 });
    const { client } = await serverFor(fake, { concurrency: 8 });
    const big = await createBatch(client, userRequests(4000, 'big'));
    await pollUntil(() => retrieveBatch(client, big.id), (b) => b.request_counts.succeeded >= 50);
    const small = await createBatch(client, userRequests(10, 'small'));
    await waitUntilEnded(client, small.id, 10);
    const bigNow = await retrieveBatch(client, big.id);
    expect(bigNow.processing_status).toBe('in_progress');
    expect(bigNow.request_counts.processing).toBeGreaterThan(2000);
    await client.post(`/v1/messages/batches/${big.id}/cancel`);
  });

  it('pauses on an exhausted rate-limit budget instead of collecting 429s', async () => {
    const fake = await provider({ latencyMs: 2, rateLimit: { requests: 25, windowMs: 400 } });
    const { client } = await serverFor(fake, { concurrency: 8 });
    const batch = await createBatch(client, userRequests(100, 'budget'));
    const ended = await waitUntilEnded(client, batch.id, 100, { timeoutMs: 60_000 });
    expect(ended.request_counts.succeeded).toBe(100);
    const lanes = (await client.get('/v1/batchd/backends')).body.data as Array<{ rateLimited: number; calls: number }>;
    // Without the pause every call made while the budget is spent would be a 429; with it, only the
    // calls already in flight when a window ran out can be.
    const windows = Math.ceil(100 / 25);
    expect(lanes[0]!.rateLimited).toBeLessThanOrEqual(windows * 8);
    expect(lanes[0]!.calls).toBe(100 + lanes[0]!.rateLimited);
  });

  it('finds a provider\'s capacity and holds at it, probing above it rarely', async () => {
    const fake = await provider({ latencyMs: 20, capacity: 8, capacityRetryAfterMs: 200 });
    const { client } = await serverFor(fake, { concurrency: 64 });
    const batch = await createBatch(client, userRequests(1200, 'capacity'));
    const ended = await waitUntilEnded(client, batch.id, 1200, { timeoutMs: 60_000 });
    expect(ended.request_counts.succeeded).toBe(1200);
    const [lane] = (await client.get('/v1/batchd/backends')).body.data as Array<{ rateLimited: number; calls: number; concurrency_limit: number }>;
    expect(lane!.calls).toBe(1200 + lane!.rateLimited);
    // Slow start overshoots by a call, then each probe of the capacity costs about one 429, and
    // the probes grow further apart; a limit that kept probing would collect hundreds here.
    expect(lane!.rateLimited).toBeLessThanOrEqual(12);
    expect(lane!.concurrency_limit).toBeGreaterThanOrEqual(7);
    expect(lane!.concurrency_limit).toBeLessThanOrEqual(9);
  });

  it('lets an interactive /v1/messages call go ahead of queued batch work', async () => {
    const fake = await provider({ latencyMs: 60 });
    const { client } = await serverFor(fake, { concurrency: 4 });
    const batch = await createBatch(client, userRequests(200, 'queued'));
    await pollUntil(() => retrieveBatch(client, batch.id), (b) => b.request_counts.succeeded >= 8);
    const before = fake.requests.length;
    const reply = await client.post('/v1/messages', { model: 'claude-sonnet-4-5', max_tokens: 32, messages: [{ role: 'user', content: 'interactive hello' }] });
    expect(reply.status).toBe(200);
    expect(reply.body.type).toBe('message');
    const position = fake.requests.findIndex((r) => JSON.stringify(r.body).includes('interactive hello'));
    expect(position).toBeGreaterThanOrEqual(before);
    // It took the first slot that came free: at most one slot's worth of batch calls started first.
    expect(position - before).toBeLessThanOrEqual(4);
    const status = await retrieveBatch(client, batch.id);
    expect(status.request_counts.processing).toBeGreaterThan(100);
    await client.post(`/v1/messages/batches/${batch.id}/cancel`);
  });

  it('streams an interactive call from the Anthropic backend as server-sent events, readable by the official SDK', async () => {
    const fake = await provider();
    const { server } = await serverFor(fake, { concurrency: 2 });
    const anthropic = new Anthropic({ baseURL: server.url, apiKey: 'test-key' });
    const stream = anthropic.messages.stream({ model: 'claude-sonnet-4-5', max_tokens: 64, messages: [{ role: 'user', content: 'stream me' }] });
    const deltas: string[] = [];
    stream.on('text', (text) => deltas.push(text));
    const message = await stream.finalMessage();
    expect(deltas.join('')).toContain('stream me');
    expect(message.content[0]).toMatchObject({ type: 'text' });
    expect(fake.requests.at(-1)!.body).toMatchObject({ stream: true, messages: [{ role: 'user', content: 'stream me' }] });
  });

  it('routes models to several backends from a config file and keeps usage totals per batch', async () => {
    const claude = await provider({ latencyMs: 2 });
    const local = await provider({ shape: 'openai', latencyMs: 2, apiKey: undefined });
    const dir = mkdtempSync(join(tmpdir(), 'batchd-config-'));
    const configFile = join(dir, 'batchd.json');
    writeFileSync(configFile, JSON.stringify({
      backends: [
        { name: 'hosted', type: 'anthropic', url: claude.url, api_key_env: 'HOSTED_KEY', models: ['claude-*'], concurrency: 4 },
        { name: 'gpu', type: 'openai', url: local.url, models: ['llama-*', 'qwen-*'], concurrency: 4 },
        { name: 'local-emulator', type: 'emulator', models: ['emu-*'] },
      ],
    }));
    const server = await startServer({ flags: { config: configFile }, env: { HOSTED_KEY: UPSTREAM_KEY } });
    const client = api(server.url);
    const requests = [
      ...userRequests(3, 'c'),
      ...userRequests(3, 'l').map((r) => ({ ...r, params: { ...r.params, model: 'llama-3.1-8b' } })),
      ...userRequests(2, 'e').map((r) => ({ ...r, params: { ...r.params, model: 'emu-small' } })),
      ...userRequests(1, 'x').map((r) => ({ ...r, params: { ...r.params, model: 'unknown-model' } })),
    ];
    const batch = await createBatch(client, requests);
    const ended = await waitUntilEnded(client, batch.id, requests.length);
    expect(ended.request_counts).toMatchObject({ succeeded: 8, errored: 1 });
    expect(claude.requests).toHaveLength(3);
    expect(local.requests.map((r) => (r.body as { model: string }).model)).toEqual(['llama-3.1-8b', 'llama-3.1-8b', 'llama-3.1-8b']);
    const byId = resultsById(await fetchResults(client, ended));
    const unknown = byId.get('x-0')!.result;
    expect(unknown.type === 'errored' && unknown.error.error).toMatchObject({ type: 'not_found_error', message: expect.stringContaining('unknown-model') });
    const usage = await client.get(`/v1/messages/batches/${batch.id}/usage`);
    expect(usage.body).toMatchObject({ id: batch.id, type: 'message_batch_usage' });
    const perResult = [...byId.values()].reduce((sum, r) => sum + (r.result.type === 'succeeded' ? r.result.message.usage.input_tokens : 0), 0);
    expect(usage.body.usage.input_tokens).toBe(perResult);
    expect(usage.body.usage.output_tokens).toBeGreaterThan(0);
    const lanes = (await client.get('/v1/batchd/backends')).body.data as Array<{ name: string; calls: number }>;
    expect(lanes.map((l) => [l.name, l.calls])).toEqual([['hosted', 3], ['gpu', 3], ['local-emulator', 2]]);
  });

  it('keeps answering the API while a backend that answers at once runs a large batch', async () => {
    const server = await startServer({ flags: { concurrency: 256 } });
    const client = api(server.url);
    const batch = await createBatch(client, userRequests(20_000, 'busy'));
    // Each retrieve is answered between engine turns, so some see the batch part way.
    const seen = [];
    for (let i = 0; i < 200; i++) {
      const current = await retrieveBatch(client, batch.id);
      seen.push(current);
      if (current.processing_status === 'ended') break;
    }
    expect(seen.some((b) => b.processing_status === 'in_progress' && b.request_counts.succeeded > 0)).toBe(true);
    await waitUntilEnded(client, batch.id, 20_000, { timeoutMs: 120_000 });
  });

  it('drives an OpenAI-compatible provider and translates the answers', async () => {
    const fake = await provider({ shape: 'openai', latencyMs: 2 });
    const { client } = await serverFor(fake, { concurrency: 4 });
    const requests = userRequests(20, 'oa');
    const batch = await createBatch(client, requests);
    const ended = await waitUntilEnded(client, batch.id, 20);
    const results = await fetchResults(client, ended);
    expect(tally(results).succeeded).toBe(20);
    for (const received of fake.requests) {
      expect(received.path).toBe('/v1/chat/completions');
      expect(received.headers.authorization).toBe(`Bearer ${UPSTREAM_KEY}`);
    }
    const first = results[0]!;
    expect(first.result.type === 'succeeded' && first.result.message.type).toBe('message');
  });
});
