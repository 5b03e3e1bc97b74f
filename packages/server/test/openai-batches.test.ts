import { spawnSync } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import OpenAI, { toFile } from 'openai';
import { beforeAll, describe, expect, it } from 'vitest';
import { MAIN_JS, makeTempDir, startServer, type ServerHandle } from '../test-support/process/server-process.js';
import {
  CHAT_MODEL,
  chatLine,
  expectNotRun,
  expectResponse,
  fileLines,
  openAIClient,
  uploadLines,
  waitForBatch,
} from '../test-support/api/openai.js';

/**
 * The OpenAI Files and Batch APIs, driven with the official `openai` SDK against a real batchd
 * (emulator backend, one slot so slow requests hold the others back, batches expiring after 3 s,
 * at most 20 requests queued per workspace).
 */

let server: ServerHandle;
let client: OpenAI;
let otherWorkspace: OpenAI;

function createKey(workspace: string): string {
  const run = spawnSync(process.execPath, [MAIN_JS, 'keys', 'create', '--workspace', workspace, '--json', '--db', server.dbPath], { encoding: 'utf8' });
  expect(run.status).toBe(0);
  return (JSON.parse(run.stdout) as { key: string }).key;
}

beforeAll(async () => {
  server = await startServer({ flags: { auth: 'keys', concurrency: 1, 'batch-ttl': '3s', 'maintenance-interval': '200ms', 'max-queued-requests': 20 } });
  client = openAIClient(server.url, createKey('team-a'));
  otherWorkspace = openAIClient(server.url, createKey('team-b'));
});

async function runBatch(lines: unknown[], metadata?: Record<string, string>) {
  const file = await uploadLines(client, lines);
  const batch = await client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h', metadata });
  return { file, batch };
}

describe('OpenAI files', () => {
  it('uploads, lists, retrieves, reads and deletes input files', async () => {
    const text = `${JSON.stringify(chatLine('a', 'héllo'))}\n${JSON.stringify(chatLine('b', 'there'))}\n`;
    const path = join(await makeTempDir(), 'in-0.jsonl');
    await writeFile(path, text);
    const uploaded = [await client.files.create({ file: createReadStream(path), purpose: 'batch' })];
    for (let i = 1; i < 3; i++) uploaded.push(await client.files.create({ file: await toFile(Buffer.from(text), `in-${i}.jsonl`), purpose: 'batch' }));
    expect(uploaded[0]).toMatchObject({ object: 'file', bytes: Buffer.byteLength(text), filename: 'in-0.jsonl', purpose: 'batch', status: 'processed' });
    expect(uploaded[0]!.id).toMatch(/^file-\w+$/);

    expect(await client.files.retrieve(uploaded[1]!.id)).toEqual(uploaded[1]);
    expect(await (await client.files.content(uploaded[2]!.id)).text()).toBe(text);
    const listed = [];
    for await (const file of client.files.list({ limit: 2 })) listed.push(file.id);
    expect(listed.slice(0, 3)).toEqual(uploaded.map((f) => f.id).reverse());
    const ascending = await client.files.list({ order: 'asc', after: uploaded[0]!.id, purpose: 'batch' });
    expect(ascending.data.map((f) => f.id)).toEqual([uploaded[1]!.id, uploaded[2]!.id]);

    const large = Array.from({ length: 12_000 }, (_, i) => JSON.stringify(chatLine(`big-${i}`, 'x'.repeat(200)))).join('\n');
    const big = await client.files.create({ file: await toFile(Buffer.from(large), 'big.jsonl'), purpose: 'batch' });
    expect(big.bytes).toBe(Buffer.byteLength(large));
    expect(await (await client.files.content(big.id)).text()).toBe(large);

    expect(await client.files.delete(uploaded[0]!.id)).toEqual({ id: uploaded[0]!.id, object: 'file', deleted: true });
    await expect(client.files.retrieve(uploaded[0]!.id)).rejects.toBeInstanceOf(OpenAI.NotFoundError);
  });

  it('rejects files that cannot be batch input, in OpenAI error bodies', async () => {
    const fineTune = client.files.create({ file: await toFile(Buffer.from('{}\n'), 'x.jsonl'), purpose: 'fine-tune' });
    await expect(fineTune).rejects.toMatchObject({ status: 400, error: { type: 'invalid_request_error', param: 'purpose' } });
    const tooLong = client.files.create({ file: await toFile(Buffer.from('{}\n'.repeat(50_001)), 'long.jsonl'), purpose: 'batch' });
    await expect(tooLong).rejects.toMatchObject({ status: 400, error: { message: expect.stringContaining('50000 lines') } });
    const upload = async (form: FormData | string) => {
      const response = await fetch(`${server.url}/v1/files`, { method: 'POST', body: form, headers: { authorization: `Bearer ${client.apiKey}` } });
      return { status: response.status, body: (await response.json()) as { error: { message: string; param: string | null } } };
    };
    const form = (...files: Array<[string, string]>) => {
      const data = new FormData();
      for (const [field, name] of files) data.append(field, new Blob(['{}\n']), name);
      data.append('purpose', 'batch');
      return data;
    };
    expect(await upload('plain text')).toMatchObject({ status: 400, body: { error: { message: expect.stringContaining('multipart/form-data') } } });
    expect(await upload(form())).toMatchObject({ status: 400, body: { error: { param: 'file' } } });
    expect(await upload(form(['data', 'wrong-field.jsonl']))).toMatchObject({ status: 400, body: { error: { param: 'data' } } });
    expect(await upload(form(['file', 'one.jsonl'], ['file', 'two.jsonl']))).toMatchObject({ status: 400, body: { error: { param: 'file', message: expect.stringContaining('one file') } } });
    const crowded = form(['file', 'crowded.jsonl']);
    for (let i = 0; i < 1_000; i++) crowded.append(`extra${i}`, 'x');
    expect(await upload(crowded)).toMatchObject({ status: 400, body: { error: { message: expect.stringContaining('more than 8 fields') } } });
    const kept = (await client.files.list()).data.map((f) => f.filename);
    expect(kept).not.toContain('wrong-field.jsonl');
    expect(kept).not.toContain('one.jsonl');
    expect(kept).not.toContain('crowded.jsonl');
    expect(kept).not.toContain('long.jsonl');
    expect(kept).not.toContain('x.jsonl');
  });
});

describe('OpenAI batches', () => {
  it('runs a batch and serves its output and error files in OpenAI line formats', async () => {
    const { file, batch } = await runBatch(
      [
        chatLine('ok-1', 'Hello'),
        chatLine('bad', 'emulator:error=invalid_request_error'),
        chatLine('untranslatable', 'Hi', { n: 2 }),
        chatLine('ok-2', 'Second', { temperature: 0.5 }),
      ],
      { purpose: 'test' },
    );
    expect(batch).toMatchObject({ object: 'batch', endpoint: '/v1/chat/completions', input_file_id: file.id, completion_window: '24h', metadata: { purpose: 'test' } });
    expect(batch.id).toMatch(/^batch_\w+$/);
    expect(['validating', 'in_progress', 'completed']).toContain(batch.status);

    const done = await waitForBatch(client, batch.id);
    expect(done).toMatchObject({ status: 'completed', request_counts: { total: 4, completed: 2, failed: 2 }, errors: null, failed_at: null });
    expect(done.completed_at).toBeGreaterThanOrEqual(done.created_at);
    expect(done.usage!.input_tokens).toBeGreaterThan(0);
    expect(done.usage!.total_tokens).toBe(done.usage!.input_tokens + done.usage!.output_tokens);

    const output = await fileLines(client, done.output_file_id!);
    expect(output.map((line) => line.custom_id)).toEqual(['ok-1', 'ok-2']);
    const completion = expectResponse(output[0]!, 'ok-1', 200) as { object: string; model: string; choices: Array<{ message: { content: string }; finish_reason: string }> };
    expect(completion).toMatchObject({ object: 'chat.completion', model: CHAT_MODEL });
    expect(completion.choices[0]).toMatchObject({ message: { role: 'assistant', content: '[emulator] Hello' }, finish_reason: 'stop' });

    const errors = await fileLines(client, done.error_file_id!);
    expect(errors.map((line) => line.custom_id)).toEqual(['bad', 'untranslatable']);
    expect(expectResponse(errors[0]!, 'bad', 400)).toMatchObject({ error: { type: 'invalid_request_error', message: expect.any(String) } });
    expect(expectResponse(errors[1]!, 'untranslatable', 400)).toMatchObject({ error: { type: 'invalid_request_error', param: 'n' } });

    const outputFile = await client.files.retrieve(done.output_file_id!);
    const outputText = await (await client.files.content(done.output_file_id!)).text();
    expect(outputFile).toMatchObject({ object: 'file', purpose: 'batch_output', bytes: Buffer.byteLength(outputText) });
  });

  it('fails a batch whose input file has bad lines, listing each one', async () => {
    const { batch } = await runBatch([
      chatLine('a', 'fine'),
      'not json',
      { ...chatLine('b', 'x'), url: '/v1/embeddings' },
      chatLine('a', 'repeated id'),
      { ...chatLine('c', 'x'), body: { messages: [] } },
    ]);
    expect(batch.status).toBe('failed');
    expect(batch.failed_at).toBe(batch.created_at);
    expect(batch.request_counts).toEqual({ total: 0, completed: 0, failed: 0 });
    expect(batch.errors!.data!.map((error) => [error.line, error.code, error.param])).toEqual([
      [2, 'invalid_json_line', null],
      [3, 'invalid_url', 'url'],
      [4, 'duplicate_custom_id', 'custom_id'],
      [5, 'missing_required_parameter', 'body.model'],
    ]);
    const again = await client.batches.retrieve(batch.id);
    expect(again).toEqual(batch);
    expect(again._request_id).toMatch(/^req_\w+$/);
  });

  it('lists batches newest first in cursor pages, apart from message batches', async () => {
    const ids = [];
    for (let i = 0; i < 3; i++) ids.push((await runBatch([chatLine(`l${i}`, 'list me')])).batch.id);
    const listed = [];
    for await (const batch of client.batches.list({ limit: 2 })) listed.push(batch.id);
    expect(listed.slice(0, 3)).toEqual(ids.reverse());
    const messageBatches = await fetch(`${server.url}/v1/messages/batches`, { headers: { authorization: `Bearer ${client.apiKey}` } });
    expect(((await messageBatches.json()) as { data: unknown[] }).data).toEqual([]);
    const asMessageBatch = await fetch(`${server.url}/v1/messages/batches/${ids[0]}`, { headers: { authorization: `Bearer ${client.apiKey}` } });
    expect(asMessageBatch.status).toBe(404);
  });

  it('cancels a batch: requests not sent end in the error file as batch_cancelled', async () => {
    const lines = [chatLine('slow', 'emulator:latency=1500'), ...Array.from({ length: 4 }, (_, i) => chatLine(`c${i}`, 'quick'))];
    const { batch } = await runBatch(lines);
    const cancelling = await client.batches.cancel(batch.id);
    // A cancel answers `cancelling`, even one that comes before the engine has sent any request and ends the batch at once.
    expect(cancelling.status).toBe('cancelling');
    expect(cancelling.cancelling_at).toBeGreaterThanOrEqual(batch.created_at);
    const done = await waitForBatch(client, batch.id);
    expect(done.status).toBe('cancelled');
    const { completed, failed, total } = done.request_counts!;
    expect(total).toBe(5);
    expect(completed + failed).toBe(5);
    const errors = await fileLines(client, done.error_file_id!);
    expect(errors).toHaveLength(failed);
    for (const line of errors) expectNotRun(line, line.custom_id as string, 'batch_cancelled');
    expect(errors.map((line) => line.custom_id)).toContain('c3');
    await expect(client.batches.cancel(batch.id)).rejects.toMatchObject({ status: 400, error: { type: 'invalid_request_error' } });
  });

  it('expires a batch: requests not sent in time end in the error file as batch_expired', async () => {
    const { batch } = await runBatch([chatLine('slow', 'emulator:latency=4000'), chatLine('late-1', 'x'), chatLine('late-2', 'y')]);
    const done = await waitForBatch(client, batch.id);
    expect(done).toMatchObject({ status: 'expired', request_counts: { total: 3, completed: 1, failed: 2 } });
    expect(done.expired_at).toBeGreaterThanOrEqual(done.created_at);
    expect((await fileLines(client, done.output_file_id!)).map((line) => line.custom_id)).toEqual(['slow']);
    const errors = await fileLines(client, done.error_file_id!);
    expect(errors.map((line) => line.custom_id)).toEqual(['late-1', 'late-2']);
    for (const line of errors) expectNotRun(line, line.custom_id as string, 'batch_expired');
  });

  it('keeps files and batches to the workspace of the key, and answers errors in OpenAI envelopes', async () => {
    const { file, batch } = await runBatch([chatLine('mine', 'private')]);
    const done = await waitForBatch(client, batch.id);
    for (const call of [
      () => otherWorkspace.files.retrieve(file.id),
      () => otherWorkspace.files.content(file.id),
      () => otherWorkspace.files.delete(file.id),
      () => otherWorkspace.files.content(done.output_file_id!),
      () => otherWorkspace.batches.retrieve(batch.id),
      () => otherWorkspace.batches.cancel(batch.id),
      () => otherWorkspace.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' }),
    ]) {
      await expect(call()).rejects.toMatchObject({ status: 404, error: { type: 'invalid_request_error' } });
    }
    expect((await otherWorkspace.batches.list()).data).toEqual([]);
    expect((await otherWorkspace.files.list()).data).toEqual([]);

    const noKey = await fetch(`${server.url}/v1/batches`);
    expect(noKey.status).toBe(401);
    expect(await noKey.json()).toEqual({ error: { message: expect.any(String), type: 'invalid_request_error', param: null, code: 'invalid_api_key' } });
    const repeated = await fetch(`${server.url}/v1/files?after=a&after=b`, { headers: { authorization: `Bearer ${client.apiKey}` } });
    expect(repeated.status).toBe(400);
    expect(await repeated.json()).toMatchObject({ error: { type: 'invalid_request_error', param: 'after' } });
    const tooMany = await uploadLines(client, Array.from({ length: 21 }, (_, i) => chatLine(`q${i}`, 'queued')));
    const overQueue = client.batches.create({ input_file_id: tooMany.id, endpoint: '/v1/chat/completions', completion_window: '24h' });
    await expect(overQueue).rejects.toMatchObject({ status: 429, error: { type: 'rate_limit_error' } });
    const badEndpoint = client.batches.create({ input_file_id: file.id, endpoint: '/v1/moderations' as '/v1/embeddings', completion_window: '24h' });
    await expect(badEndpoint).rejects.toMatchObject({ status: 400, error: { param: 'endpoint' } });
    await expect(client.batches.retrieve('batch_missing')).rejects.toBeInstanceOf(OpenAI.NotFoundError);
  });
});
