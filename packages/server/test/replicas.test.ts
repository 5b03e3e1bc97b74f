import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import Anthropic from '@anthropic-ai/sdk';
import type { BackendStatus } from '@batchd/sdk';
import { afterAll, describe, expect, it } from 'vitest';
import { pollUntil } from '../test-support/api/batches.js';
import { FakeProvider } from '../test-support/fakes/fake-provider.js';
import { createTestDatabase, postgresUnavailable, type TestDatabase } from '../test-support/postgres/test-database.js';
import { makeTempDir, startServer } from '../test-support/process/server-process.js';

/**
 * A `batchd serve` whose one backend lists four OpenAI-compatible replicas (fake ones, real HTTP
 * servers): requests that share a system prompt go to one replica, and a replica that goes down
 * hands its share to the others without a request failing.
 */

const PROMPTS = Array.from({ length: 12 }, (_, i) => `You are reviewer ${i}. ${'Read the contract below with care. '.repeat(40)}`);
const fakes: FakeProvider[] = [];
const databases: TestDatabase[] = [];

afterAll(async () => {
  await Promise.all(fakes.map((fake) => fake.close()));
  await Promise.all(databases.map((database) => database.drop()));
});

async function startReplicas(latencyMs: number): Promise<FakeProvider[]> {
  const replicas = await Promise.all([0, 1, 2, 3].map(() => FakeProvider.start({ shape: 'openai', latencyMs })));
  fakes.push(...replicas);
  return replicas;
}

async function startBatchd(replicas: FakeProvider[], concurrency: number, db?: string) {
  const dir = await makeTempDir('batchd-replicas-');
  const config = join(dir, 'batchd.json');
  await writeFile(config, JSON.stringify({ backends: [{ name: 'gpu', type: 'openai', urls: replicas.map((r) => r.url), concurrency }] }));
  const server = await startServer({ flags: { config, 'max-attempts': 5, ...(db ? { db } : {}) } });
  return { server, client: new Anthropic({ baseURL: server.url, apiKey: 'test-key' }) };
}

/** `count` requests cycling through the prompts, each asking its own question. */
function requests(tag: string, count: number, prompts = PROMPTS) {
  return Array.from({ length: count }, (_, i) => ({
    custom_id: `${tag}-${i}`,
    params: { model: 'llama', max_tokens: 16, system: prompts[i % prompts.length]!, messages: [{ role: 'user' as const, content: `Question ${i}?` }] },
  }));
}

async function runBatch(client: Anthropic, batch: ReturnType<typeof requests>) {
  const created = await client.messages.batches.create({ requests: batch });
  return pollUntil(() => client.messages.batches.retrieve(created.id), (b) => b.processing_status === 'ended', { timeoutMs: 120_000, what: 'batch end' });
}

/** For each system prompt, the replicas (indexes) that answered a request carrying it, from the `from`-th request each received. */
function replicasByPrompt(replicas: FakeProvider[], from: number[] = [0, 0, 0, 0]): Map<string, Set<number>> {
  const byPrompt = new Map<string, Set<number>>();
  replicas.forEach((replica, index) => {
    for (const request of replica.requests.slice(from[index])) {
      if (!request.answered) continue;
      const system = (request.body as { messages: Array<{ content: string }> }).messages[0]!.content;
      byPrompt.set(system, (byPrompt.get(system) ?? new Set()).add(index));
    }
  });
  return byPrompt;
}

async function backendStatus(url: string): Promise<BackendStatus> {
  const response = await fetch(`${url}/v1/batchd/backends`, { headers: { 'x-api-key': 'test-key' } });
  return ((await response.json()) as { data: BackendStatus[] }).data[0]!;
}

describe('a backend of four replicas', () => {
  it('sends the requests that share a prefix to one replica, and moves only a dead replica’s prefixes', async () => {
    const replicas = await startReplicas(0);
    const { server, client } = await startBatchd(replicas, 1);
    const first = await runBatch(client, requests('first', 120));
    expect(first.request_counts).toMatchObject({ succeeded: 120, errored: 0 });
    const before = replicasByPrompt(replicas);
    expect(before.size).toBe(PROMPTS.length);
    for (const owners of before.values()) expect(owners.size).toBe(1);
    const owner = (prompt: string) => [...before.get(prompt)!][0]!;
    const used = new Set(PROMPTS.map(owner));
    expect(used.size).toBeGreaterThanOrEqual(3);
    const status = await backendStatus(server.url);
    expect(status.replicas!.map((r) => [r.url, r.calls, r.in_flight, r.up])).toEqual(replicas.map((r) => [r.url, r.received, 0, true]));

    const busiest = [...used].sort((a, b) => PROMPTS.filter((p) => owner(p) === b).length - PROMPTS.filter((p) => owner(p) === a).length)[0]!;
    const received = replicas.map((r) => r.requests.length);
    await replicas[busiest]!.close();
    const second = await runBatch(client, requests('second', 120));
    expect(second.request_counts).toMatchObject({ succeeded: 120, errored: 0 });
    const after = replicasByPrompt(replicas, received);
    for (const prompt of PROMPTS) {
      const now = [...after.get(prompt)!];
      expect(now).toHaveLength(1);
      if (owner(prompt) === busiest) expect(now[0]).not.toBe(busiest);
      else expect(now[0]).toBe(owner(prompt));
    }
    expect((await backendStatus(server.url)).replicas![busiest]!.failures).toBeGreaterThan(0);
  });

  const stores = [
    { store: 'SQLite', skip: null },
    { store: 'PostgreSQL', skip: postgresUnavailable() },
  ];
  it.each(stores)('finishes every request when a replica dies under load, on $store', async ({ store, skip }) => {
    if (skip !== null) return;
    const database = store === 'PostgreSQL' ? await createTestDatabase() : undefined;
    if (database) databases.push(database);
    const replicas = await startReplicas(20);
    const { server, client } = await startBatchd(replicas, 16, database?.url);
    const created = await client.messages.batches.create({ requests: requests('load', 400) });
    await pollUntil(async () => replicas[2]!.received, (n) => n >= 10, { what: 'replica 2 busy' });
    await replicas[2]!.close();
    const ended = await pollUntil(() => client.messages.batches.retrieve(created.id), (b) => b.processing_status === 'ended', { timeoutMs: 120_000 });
    expect(ended.request_counts).toMatchObject({ succeeded: 400, errored: 0 });
    const answered = replicas.map((r) => r.requests.filter((request) => request.answered).length);
    expect(answered.reduce((a, b) => a + b)).toBeGreaterThanOrEqual(400);
    for (const index of [0, 1, 3]) expect(answered[index]).toBeGreaterThan(answered[2]!);
    const status = await backendStatus(server.url);
    expect(status.replicas![2]!.failures).toBeGreaterThan(0);
    expect(status.replicas!.map((r) => r.in_flight)).toEqual([0, 0, 0, 0]);
  });
});
