import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import OpenAI, { toFile } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isObject, type Json } from '../src/json.js';
import { openAICompletion } from '../test-support/fakes/fake-answers.js';
import { FakeProvider } from '../test-support/fakes/fake-provider.js';
import { createTestDatabase, postgresUnavailable, type TestDatabase } from '../test-support/postgres/test-database.js';
import { makeTempDir, startServer } from '../test-support/process/server-process.js';
import { chatLine, fileLines, openAIClient, uploadLines, waitForBatch } from '../test-support/api/openai.js';

/**
 * The fields of OpenAI's batch and file objects batchd keeps and answers (`model`, `usage`,
 * `metadata`, `output_expires_after`, files' `expires_after` and the file list), driven with the
 * official `openai` SDK against `batchd serve` on SQLite and on PostgreSQL. `gpt-*` models go to a
 * fake chat completions server that reports cached and reasoning tokens, `emu-*` to the emulator.
 */

const FAKE_MODEL = 'gpt-fields';
const EMULATED_MODEL = 'emu-fields';
const HOUR = 3600;

/** The usage the fake server reports for a request whose body carries `seed`: every figure differs per request. */
function reportedUsage(body: unknown): Json {
  const seed = isObject(body) && typeof body.seed === 'number' ? body.seed : 0;
  const prompt = 100 + seed;
  const completion = 40 + 3 * seed;
  return {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: prompt + completion,
    prompt_tokens_details: { cached_tokens: 10 * seed },
    completion_tokens_details: { reasoning_tokens: 2 * seed },
  };
}

let provider: FakeProvider;
let config: string;
const unavailable = postgresUnavailable();
let database: TestDatabase | undefined;

beforeAll(async () => {
  provider = await FakeProvider.start({ shape: 'openai', respond: (body) => ({ ...openAICompletion(body), usage: reportedUsage(body) }) });
  config = join(await makeTempDir('batchd-openai-fields-'), 'batchd.json');
  const backends = [
    { name: 'gpu', type: 'openai', url: provider.url, models: ['gpt-*'] },
    { name: 'emu', type: 'emulator', models: ['emu-*'] },
  ];
  await writeFile(config, JSON.stringify({ backends }));
});

afterAll(async () => {
  await provider.close();
  await database?.drop();
});

/** The usage a batch must report: the sums of what its output file's responses say. */
function summedUsage(output: Array<Record<string, unknown>>) {
  const sum = { input: 0, cached: 0, output: 0, reasoning: 0 };
  for (const line of output) {
    const usage = ((line.response as { body: Json }).body.usage ?? {}) as Json;
    sum.input += usage.prompt_tokens as number;
    sum.cached += ((usage.prompt_tokens_details as Json | undefined)?.cached_tokens as number | undefined) ?? 0;
    sum.output += usage.completion_tokens as number;
    sum.reasoning += ((usage.completion_tokens_details as Json | undefined)?.reasoning_tokens as number | undefined) ?? 0;
  }
  return {
    input_tokens: sum.input,
    input_tokens_details: { cached_tokens: sum.cached },
    output_tokens: sum.output,
    output_tokens_details: { reasoning_tokens: sum.reasoning },
    total_tokens: sum.input + sum.output,
  };
}

const stores = [
  { store: 'SQLite', skip: false, db: async () => ({}) },
  { store: 'PostgreSQL', skip: unavailable !== null, db: async () => ({ db: (database = await createTestDatabase()).url }) },
];

describe.each(stores)('OpenAI batch and file fields on $store', ({ skip, db }) => {
  let client: OpenAI;
  beforeAll(async () => {
    if (skip) return;
    client = openAIClient((await startServer({ flags: { config, ...(await db()) } })).url);
  });

  const create = async (file: string, extra: Partial<OpenAI.Batches.BatchCreateParams> = {}) =>
    client.batches.create({ input_file_id: file, endpoint: '/v1/chat/completions', completion_window: '24h', ...extra });

  it.skipIf(skip)('reports the model, metadata and the usage its backends reported, summed exactly', async () => {
    const metadata = Object.fromEntries(Array.from({ length: 16 }, (_, i) => [`${i}`.padEnd(64, 'k'), `${i}`.padEnd(512, 'v')]));
    const lines = [
      ...[1, 2, 3].map((seed) => chatLine(`fake-${seed}`, `question ${seed}`, { model: FAKE_MODEL, seed })),
      chatLine('emulated', 'Hello from the emulator', { model: EMULATED_MODEL }),
      chatLine('refused', 'emulator:error=invalid_request_error', { model: EMULATED_MODEL }),
    ];
    const file = await uploadLines(client, lines);
    const batch = await create(file.id, { metadata, output_expires_after: { anchor: 'created_at', seconds: HOUR } });
    expect(batch).toMatchObject({ model: FAKE_MODEL, metadata, output_expires_after: { anchor: 'created_at', seconds: HOUR } });

    const done = await waitForBatch(client, batch.id);
    expect(done).toMatchObject({ status: 'completed', request_counts: { total: 5, completed: 4, failed: 1 }, model: FAKE_MODEL, metadata });
    const output = await fileLines(client, done.output_file_id!);
    expect(output).toHaveLength(4);
    expect(done.usage).toEqual(summedUsage(output));
    // The fake server's figures, seeds 1 to 3: cached 10 per seed, reasoning 2 per seed.
    expect(done.usage!.input_tokens_details.cached_tokens).toBe(60);
    expect(done.usage!.output_tokens_details.reasoning_tokens).toBe(12);

    const listed = (await client.batches.list({ limit: 5 })).data.find((b) => b.id === batch.id);
    expect(listed).toEqual(done);
    for (const id of [done.output_file_id!, done.error_file_id!]) {
      expect(await client.files.retrieve(id)).toMatchObject({ purpose: 'batch_output', expires_at: done.completed_at! + HOUR });
    }
  });

  it.skipIf(skip)('keeps the results TTL for output files when no output_expires_after is given', async () => {
    const file = await uploadLines(client, [chatLine('plain', 'x', { model: EMULATED_MODEL })]);
    const done = await waitForBatch(client, (await create(file.id)).id);
    expect(done).toMatchObject({ model: EMULATED_MODEL, metadata: null, output_expires_after: null });
    expect((await client.files.retrieve(done.output_file_id!)).expires_at).toBe(done.created_at + 29 * 24 * HOUR);
  });

  it.skipIf(skip)('refuses metadata and expiry policies beyond OpenAI’s limits, naming the param, and stores no batch', async () => {
    const file = await uploadLines(client, [chatLine('never', 'x', { model: EMULATED_MODEL })]);
    const before = (await client.batches.list({ limit: 100 })).data.length;
    const pairs = (count: number) => Object.fromEntries(Array.from({ length: count }, (_, i) => [`k${i}`, 'v']));
    const refusals: Array<[Partial<OpenAI.Batches.BatchCreateParams>, string, RegExp]> = [
      [{ metadata: pairs(17) }, 'metadata', /at most 16 keys/],
      [{ metadata: { ['k'.repeat(65)]: 'v' } }, 'metadata', /longer than 64 characters/],
      [{ metadata: { key: 'v'.repeat(513) } }, 'metadata', /longer than 512 characters/],
      [{ output_expires_after: { anchor: 'created_at', seconds: HOUR - 1 } }, 'output_expires_after.seconds', /3600 \(1 hour\) to 2592000 \(30 days\)/],
      [{ output_expires_after: { anchor: 'created_at', seconds: 30 * 24 * HOUR + 1 } }, 'output_expires_after.seconds', /got 2592001/],
      [{ output_expires_after: { anchor: 'expires_at' as 'created_at', seconds: HOUR } }, 'output_expires_after.anchor', /"created_at"/],
    ];
    for (const [extra, param, message] of refusals) {
      const refused = await create(file.id, extra).catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(OpenAI.BadRequestError);
      expect((refused as InstanceType<typeof OpenAI.BadRequestError>).error).toMatchObject({ type: 'invalid_request_error', param, message: expect.stringMatching(message) });
    }
    expect((await client.batches.list({ limit: 100 })).data).toHaveLength(before);
  });

  it.skipIf(skip)('sets an uploaded file’s expires_at from expires_after (30 days without one), and refuses a policy out of bounds', async () => {
    const upload = async (name: string, seconds: number) =>
      client.files.create({ file: await toFile(Buffer.from('{}\n'), name), purpose: 'batch', expires_after: { anchor: 'created_at', seconds } });
    const expiring = await upload('expiring.jsonl', 2 * HOUR);
    expect(expiring.expires_at).toBe(expiring.created_at + 2 * HOUR);
    expect(await client.files.retrieve(expiring.id)).toEqual(expiring);
    const plain = await client.files.create({ file: await toFile(Buffer.from('{}\n'), 'plain.jsonl'), purpose: 'batch' });
    expect(plain.expires_at).toBe(plain.created_at + 30 * 24 * HOUR);
    expect(await client.files.retrieve(plain.id)).toEqual(plain);

    for (const seconds of [HOUR - 1, 30 * 24 * HOUR + 1]) {
      await expect(upload('refused.jsonl', seconds)).rejects.toMatchObject({ status: 400, error: { param: 'expires_after.seconds' } });
    }
    expect((await client.files.list()).data.map((f) => f.filename)).not.toContain('refused.jsonl');
  });

  it.skipIf(skip)('lists files in cursor pages, in either order and by purpose, refusing bad options', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await client.files.create({ file: await toFile(Buffer.from('{}\n'), `page-${i}.jsonl`), purpose: 'batch' })).id);
    const first = await client.files.list({ limit: 2 });
    expect(first.data.map((f) => f.id)).toEqual([ids[4], ids[3]]);
    expect(first.has_more).toBe(true);
    const second = await client.files.list({ limit: 2, after: ids[3] });
    expect(second.data.map((f) => f.id)).toEqual([ids[2], ids[1]]);
    const ascending = await client.files.list({ order: 'asc', limit: 3, after: ids[0] });
    expect(ascending.data.map((f) => f.id)).toEqual([ids[1], ids[2], ids[3]]);
    expect(ascending.has_more).toBe(true);
    const last = await client.files.list({ order: 'asc', limit: 3, after: ids[3] });
    expect(last.data.map((f) => f.id)).toEqual([ids[4]]);
    expect(last.has_more).toBe(false);

    const paged: string[] = [];
    for await (const file of client.files.list({ limit: 2 })) paged.push(file.id);
    expect(paged).toEqual((await client.files.list()).data.map((f) => f.id));
    expect(paged.slice(0, 5)).toEqual([...ids].reverse());
    expect((await client.files.list({ purpose: 'batch', limit: 5 })).data.map((f) => f.id)).toEqual([...ids].reverse());
    expect(await client.files.list({ purpose: 'fine-tune' })).toMatchObject({ data: [], has_more: false });

    for (const [query, param] of [[{ limit: 0 }, 'limit'], [{ limit: 10_001 }, 'limit'], [{ order: 'up' }, 'order']] as const) {
      await expect(client.files.list(query as OpenAI.Files.FileListParams)).rejects.toMatchObject({ status: 400, error: { param } });
    }
  });
});
