import Anthropic from '@anthropic-ai/sdk';
import { describe, expect, it } from 'vitest';
import { api } from '../test-support/api/api.js';
import { createBatch, pollUntil, userRequests, waitUntilEnded } from '../test-support/api/batches.js';
import { createKey, keysCli, withKey } from '../test-support/api/keys.js';
import { startServer } from '../test-support/process/server-process.js';

/** Workspaces and API keys: each key opens one workspace, and no workspace sees another's batches. */

describe('workspaces and keys', () => {
  it('scopes every endpoint to the workspace of the key, and never stores or logs the key', async () => {
    const server = await startServer({ flags: { auth: 'keys', 'emulator-latency-ms': 20 } });
    const a = createKey(server.dbPath, 'team-a');
    const b = createKey(server.dbPath, 'team-b');
    expect(a.key).toMatch(/^bk_[0-9A-Za-z]{40}$/);
    const alice = withKey(server.url, a.key);
    const bob = withKey(server.url, b.key);

    const batch = await createBatch(alice, userRequests(3, 'a'));
    await waitUntilEnded(alice, batch.id, 3);
    for (const [method, path] of [
      ['get', `/v1/messages/batches/${batch.id}`],
      ['get', `/v1/messages/batches/${batch.id}/results`],
      ['get', `/v1/messages/batches/${batch.id}/usage`],
      ['post', `/v1/messages/batches/${batch.id}/cancel`],
      ['delete', `/v1/messages/batches/${batch.id}`],
    ] as const) {
      const response = method === 'post' ? await bob.post(path) : method === 'delete' ? await bob.delete(path) : await bob.get(path);
      expect(response.status, `${method} ${path}`).toBe(404);
      expect(response.body.error.type).toBe('not_found_error');
    }
    expect((await bob.get('/v1/messages/batches')).body.data).toEqual([]);
    expect((await alice.get('/v1/messages/batches')).body.data.map((x: { id: string }) => x.id)).toEqual([batch.id]);

    // The official SDK sends the key as a bearer token; it opens the same workspace.
    const sdk = new Anthropic({ baseURL: server.url, apiKey: a.key });
    expect((await sdk.messages.batches.retrieve(batch.id)).id).toBe(batch.id);
    await expect(new Anthropic({ baseURL: server.url, apiKey: 'bk_not-a-real-key' }).messages.batches.retrieve(batch.id)).rejects.toBeInstanceOf(
      Anthropic.AuthenticationError,
    );

    const listed = keysCli(server.dbPath, 'list', '--json');
    expect(listed.stdout).not.toContain(a.key);
    expect(JSON.parse(listed.stdout).data.map((k: { workspace: string }) => k.workspace)).toEqual(['team-a', 'team-b']);
    const { stdout, stderr } = server.output();
    expect(stdout + stderr).not.toContain(a.key);
  });

  it('answers 401 to a missing, unknown or revoked key', async () => {
    const server = await startServer({ flags: { auth: 'keys' } });
    const { id, key } = createKey(server.dbPath, 'team-a');
    expect((await api(server.url).get('/v1/messages/batches', { headers: { 'x-api-key': null } })).status).toBe(401);
    expect((await withKey(server.url, 'bk_unknown').get('/v1/messages/batches')).status).toBe(401);
    expect((await withKey(server.url, key).get('/v1/messages/batches')).status).toBe(200);
    expect(keysCli(server.dbPath, 'revoke', id).status).toBe(0);
    expect(keysCli(server.dbPath, 'revoke', 'key_missing').status).toBe(1);
    const after = await pollUntil(() => withKey(server.url, key).get('/v1/messages/batches'), (r) => r.status === 401, { timeoutMs: 15_000, intervalMs: 200 });
    expect(after.body.error.type).toBe('authentication_error');
  });

  it('requires keys by default on an address other machines can reach', async () => {
    const server = await startServer({ flags: { host: '0.0.0.0' } });
    const response = await withKey(server.url, 'any-key-at-all').get('/v1/messages/batches');
    expect(response.status).toBe(401);
  });

  it('limits the requests a workspace may queue, without touching other workspaces', async () => {
    const server = await startServer({ flags: { auth: 'keys', 'max-queued-requests': 10, 'emulator-latency-ms': 5000, concurrency: 1 } });
    const alice = withKey(server.url, createKey(server.dbPath, 'team-a').key);
    const bob = withKey(server.url, createKey(server.dbPath, 'team-b').key);
    await createBatch(alice, userRequests(8, 'first'));
    const over = await alice.post('/v1/messages/batches', { requests: userRequests(5, 'second') });
    expect(over.status).toBe(429);
    expect(over.body.error.type).toBe('rate_limit_error');
    expect(over.headers.get('retry-after')).toBe('60');
    expect((await alice.get('/v1/messages/batches')).body.data).toHaveLength(1);
    expect((await bob.post('/v1/messages/batches', { requests: userRequests(10, 'other') })).status).toBe(200);
    await server.kill();
  });

  it('limits batch-endpoint requests per minute per workspace', async () => {
    const server = await startServer({ flags: { auth: 'keys', 'rate-limit-rpm': 5 } });
    const alice = withKey(server.url, createKey(server.dbPath, 'team-a').key);
    const bob = withKey(server.url, createKey(server.dbPath, 'team-b').key);
    const statuses = [];
    for (let i = 0; i < 6; i++) statuses.push((await alice.get('/v1/messages/batches')).status);
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429]);
    const limited = await alice.get('/v1/messages/batches');
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(limited.body.error.type).toBe('rate_limit_error');
    expect((await bob.get('/v1/messages/batches')).status).toBe(200);
  });
});
