import { createHash } from 'node:crypto';
import OpenAI, { toFile } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, postgresUnavailable, type TestDatabase } from '../test-support/postgres/test-database.js';
import { startServer } from '../test-support/process/server-process.js';
import { chatLine, fileLines, openAIClient, waitForBatch } from '../test-support/api/openai.js';

/**
 * OpenAI's Uploads API (`client.uploads`) with the official `openai` SDK against `batchd serve`
 * on SQLite and on PostgreSQL: a batch input file sent in parts, completed into a file that a
 * batch then runs, and every way an upload is refused.
 */

const unavailable = postgresUnavailable();
let database: TestDatabase | undefined;

afterAll(async () => {
  await database?.drop();
});

const stores = [
  { store: 'SQLite', skip: false, db: async () => ({}) },
  { store: 'PostgreSQL', skip: unavailable !== null, db: async () => ({ db: (database = await createTestDatabase()).url }) },
];

/** A batch input file of `count` chat lines on the emulator. */
function inputFile(count: number): Buffer {
  const lines = Array.from({ length: count }, (_, i) => JSON.stringify(chatLine(`row-${i}`, `upload line ${i}`, { model: 'claude-sonnet-4-6' })));
  return Buffer.from(`${lines.join('\n')}\n`);
}

/** Sends `content` as the parts `cuts` make, in a shuffled order, and returns their ids in content order. */
async function sendParts(client: OpenAI, uploadId: string, content: Buffer, cuts: number[]): Promise<string[]> {
  const bounds = [0, ...cuts, content.length];
  const pieces = bounds.slice(1).map((end, i) => ({ index: i, bytes: content.subarray(bounds[i], end) }));
  const ids: string[] = [];
  for (const piece of [...pieces].reverse()) {
    const part = await client.uploads.parts.create(uploadId, { data: await toFile(piece.bytes, `part-${piece.index}`) });
    expect(part).toMatchObject({ object: 'upload.part', upload_id: uploadId, id: expect.stringMatching(/^part_/) });
    ids[piece.index] = part.id;
  }
  return ids;
}

describe.each(stores)('OpenAI uploads on $store', ({ skip, db }) => {
  let client: OpenAI;
  beforeAll(async () => {
    if (skip) return;
    client = openAIClient((await startServer({ flags: await db() })).url);
  });

  it.skipIf(skip)('assembles a file from parts in the order completion names, which a batch then runs', async () => {
    const content = inputFile(40);
    const upload = await client.uploads.create({ bytes: content.length, filename: 'parts.jsonl', mime_type: 'application/jsonl', purpose: 'batch', expires_after: { anchor: 'created_at', seconds: 7200 } });
    expect(upload).toMatchObject({ object: 'upload', bytes: content.length, filename: 'parts.jsonl', purpose: 'batch', status: 'pending', file: null, id: expect.stringMatching(/^upload_/) });
    expect(upload.expires_at - upload.created_at).toBe(3600);
    const partIds = await sendParts(client, upload.id, content, [1000, 1001, 2500]);
    const md5 = createHash('md5').update(content).digest('hex');
    const completed = await client.uploads.complete(upload.id, { part_ids: partIds, md5 });
    expect(completed).toMatchObject({ id: upload.id, status: 'completed', file: { object: 'file', purpose: 'batch', filename: 'parts.jsonl', bytes: content.length, status: 'processed' } });
    const file = completed.file!;
    expect(file.expires_at! - file.created_at).toBe(7200);
    expect(Buffer.from(await (await client.files.content(file.id)).arrayBuffer()).equals(content)).toBe(true);
    const batch = await client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' });
    const ended = await waitForBatch(client, batch.id);
    expect(ended.request_counts).toMatchObject({ total: 40, completed: 40, failed: 0 });
    expect((await fileLines(client, ended.output_file_id!)).map((line) => line.custom_id)).toEqual(Array.from({ length: 40 }, (_, i) => `row-${i}`));
    // The parts were files of the store only: gone once the upload completed, and never listed.
    await expect(client.files.retrieve(partIds[0]!)).rejects.toMatchObject({ status: 404 });
    const listed = await client.files.list();
    expect(listed.data.map((f) => f.id)).toContain(file.id);
    expect(listed.data.every((f) => f.purpose === 'batch')).toBe(true);
    await expect(client.uploads.complete(upload.id, { part_ids: partIds })).rejects.toMatchObject({ status: 400, error: { message: `Upload ${upload.id} is completed.` } });
  });

  it.skipIf(skip)('refuses parts past the upload, parts of other uploads, a wrong length or MD5, and uses after a cancel', async () => {
    const content = inputFile(3);
    const create = () => client.uploads.create({ bytes: content.length, filename: 'x.jsonl', mime_type: 'application/jsonl', purpose: 'batch' });
    const [upload, other] = [await create(), await create()];
    const [first] = await sendParts(client, upload.id, content.subarray(0, 10), []);
    const [foreign] = await sendParts(client, other.id, content.subarray(10), []);
    const refused = (status: number, message: string | RegExp) => ({ status, error: { message: typeof message === 'string' ? message : expect.stringMatching(message) } });
    await expect(client.uploads.parts.create(upload.id, { data: await toFile(Buffer.alloc(content.length + 1, 32), 'big') })).rejects.toMatchObject(refused(413, /^data: a part holds at most/));
    await expect(client.uploads.complete(upload.id, { part_ids: [first!, foreign!] })).rejects.toMatchObject(refused(400, `part_ids.1: "${foreign}" is no part of upload ${upload.id}.`));
    await expect(client.uploads.complete(upload.id, { part_ids: [first!] })).rejects.toMatchObject(refused(400, `part_ids: the parts hold 10 bytes; the upload was created for ${content.length}.`));
    const [rest] = await sendParts(client, upload.id, content.subarray(10), []);
    await expect(client.uploads.complete(upload.id, { part_ids: [first!, rest!], md5: '0'.repeat(32) })).rejects.toMatchObject(refused(400, /^md5: the parts' MD5 is [0-9a-f]{32}, not 0{32}\.$/));
    expect((await client.files.list()).data.filter((f) => f.filename === 'x.jsonl')).toEqual([]);
    const cancelled = await client.uploads.cancel(upload.id);
    expect(cancelled).toMatchObject({ id: upload.id, status: 'cancelled', file: null });
    await expect(client.uploads.parts.create(upload.id, { data: await toFile(Buffer.from('{}'), 'late') })).rejects.toMatchObject(refused(400, `Upload ${upload.id} is cancelled.`));
    await expect(client.uploads.complete('upload_none', { part_ids: [first!] })).rejects.toMatchObject({ status: 404 });
  });

  it.skipIf(skip)('frees the storage of its parts once an upload is cancelled or completed, named in its file or not', async () => {
    // A workspace bounded to 1 MiB of files: 600 KB of parts fit once at a time.
    const bounded = openAIClient((await startServer({ flags: { ...(await db()), 'max-file-storage-mb-per-workspace': 1 } })).url);
    const content = Buffer.from(`{"pad":"${'x'.repeat(5_990)}"}\n`.repeat(100));
    const start = () => bounded.uploads.create({ bytes: content.length, filename: 'held.jsonl', mime_type: 'application/jsonl', purpose: 'batch' });
    const cancelled = await start();
    await sendParts(bounded, cancelled.id, content, []);
    const refused = await start();
    await expect(sendParts(bounded, refused.id, content, [])).rejects.toMatchObject({ status: 400, error: { message: expect.stringMatching(/storage limit/) } });
    await bounded.uploads.cancel(cancelled.id);
    const completed = await start();
    const [whole] = await sendParts(bounded, completed.id, content, []);
    await sendParts(bounded, completed.id, content.subarray(0, 400_000), []);
    await expect(sendParts(bounded, completed.id, content, [])).rejects.toMatchObject({ status: 400 });
    await bounded.uploads.complete(completed.id, { part_ids: [whole!] });
    // The file now holds the 600 KB, and no part is left beside it, the 400 KB one never named included.
    const next = await start();
    await expect(sendParts(bounded, next.id, content.subarray(0, 300_000), [])).resolves.toHaveLength(1);
  });

  it.skipIf(skip)('checks an upload as a file: its purpose, length, name and lines', async () => {
    const params = { bytes: 10, filename: 'f.jsonl', mime_type: 'application/jsonl', purpose: 'batch' as const };
    await expect(client.uploads.create({ ...params, purpose: 'assistants' })).rejects.toMatchObject({ status: 400, error: { message: 'purpose: batchd keeps files for purpose "batch" only, got "assistants".' } });
    await expect(client.uploads.create({ ...params, bytes: 200 * 1024 * 1024 + 1 })).rejects.toMatchObject({ status: 400, error: { message: expect.stringMatching(/^bytes: a batch input file holds at most/) } });
    await expect(client.uploads.create({ ...params, filename: '' })).rejects.toMatchObject({ status: 400, error: { message: expect.stringMatching(/^filename: /) } });
    const lines = Buffer.from('{}\n'.repeat(50_001));
    const upload = await client.uploads.create({ ...params, bytes: lines.length });
    const ids = await sendParts(client, upload.id, lines, [lines.length >> 1]);
    await expect(client.uploads.complete(upload.id, { part_ids: ids })).rejects.toMatchObject({ status: 400, error: { message: 'File has more than the maximum of 50000 lines.' } });
    expect((await client.files.list()).data.filter((f) => f.filename === 'f.jsonl')).toEqual([]);
  });
});
