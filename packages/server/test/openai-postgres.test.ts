import { toFile } from 'openai';
import { afterAll, describe, expect, it } from 'vitest';
import { createTestDatabase, postgresUnavailable, type TestDatabase } from '../test-support/postgres/test-database.js';
import { startServer } from '../test-support/process/server-process.js';
import { chatLine, expectResponse, fileLines, openAIClient, waitForBatch } from '../test-support/api/openai.js';

/** The OpenAI Files and Batch APIs on a PostgreSQL store, driven with the official `openai` SDK. */

const unavailable = postgresUnavailable();
let database: TestDatabase | undefined;
afterAll(async () => {
  await database?.drop();
});

describe('OpenAI batches on PostgreSQL', () => {
  it.skipIf(unavailable !== null)('stores files in chunks, runs a batch from one and serves its result files', async () => {
    database = await createTestDatabase();
    const server = await startServer({ flags: { db: database.url } });
    const client = openAIClient(server.url);
    const lines = Array.from({ length: 3000 }, (_, i) => chatLine(`r${i}`, i === 7 ? 'emulator:error=invalid_request_error' : `${i} ${'x'.repeat(400)}`));
    const text = lines.map((line) => JSON.stringify(line)).join('\n');
    const file = await client.files.create({ file: await toFile(Buffer.from(text), 'pg.jsonl'), purpose: 'batch' });
    expect(file.bytes).toBe(Buffer.byteLength(text));
    expect(await (await client.files.content(file.id)).text()).toBe(text);

    const batch = await client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' });
    const done = await waitForBatch(client, batch.id);
    expect(done).toMatchObject({ status: 'completed', request_counts: { total: 3000, completed: 2999, failed: 1 } });
    const output = await fileLines(client, done.output_file_id!);
    expect(output).toHaveLength(2999);
    expect(expectResponse(output[0]!, 'r0', 200)).toMatchObject({ object: 'chat.completion' });
    const [errored] = await fileLines(client, done.error_file_id!);
    expect(expectResponse(errored!, 'r7', 400)).toMatchObject({ error: { type: 'invalid_request_error' } });
    expect((await client.batches.list()).data.map((b) => b.id)).toEqual([batch.id]);
    await client.files.delete(file.id);
    expect((await client.files.list()).data).toEqual([]);
  });
});
