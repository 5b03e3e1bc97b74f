import OpenAI, { toFile } from 'openai';
import type { Batch } from 'openai/resources/batches';
import { expect } from 'vitest';

/** The official `openai` client pointed at a batchd server, without retries so failures show at once. */
export function openAIClient(url: string, apiKey = 'any-key'): OpenAI {
  return new OpenAI({ baseURL: `${url}/v1`, apiKey, maxRetries: 0 });
}

export const CHAT_MODEL = 'gpt-4o-mini';

/**
 * Backends for OpenAI's endpoints: `gpu-*` to an OpenAI-compatible server at `gpuUrl`, `resp-*` to
 * the same server configured as serving the Responses API, `claude-*` to an Anthropic API at
 * `hostedUrl`, and every other model to the emulator.
 */
export function endpointBackends(gpuUrl: string, hostedUrl: string) {
  return [
    { name: 'gpu', type: 'openai', url: gpuUrl, models: ['gpu-*'] },
    { name: 'native', type: 'openai', url: gpuUrl, models: ['resp-*'], responses_api: true },
    { name: 'hosted', type: 'anthropic', url: hostedUrl, models: ['claude-*'] },
    { name: 'emu', type: 'emulator', models: ['*'] },
  ];
}

/** One line of a batch input file: a chat completions request for `text`. */
export function chatLine(customId: string, text: string, body: Record<string, unknown> = {}) {
  return {
    custom_id: customId,
    method: 'POST',
    url: '/v1/chat/completions',
    body: { model: CHAT_MODEL, messages: [{ role: 'user', content: text }], max_tokens: 64, ...body },
  };
}

/** Uploads `lines` as a JSONL batch input file. */
export async function uploadLines(client: OpenAI, lines: unknown[], filename = 'input.jsonl') {
  const text = lines.map((line) => (typeof line === 'string' ? line : JSON.stringify(line))).join('\n') + '\n';
  return client.files.create({ file: await toFile(Buffer.from(text), filename), purpose: 'batch' });
}

const FINAL: ReadonlySet<Batch['status']> = new Set(['completed', 'failed', 'expired', 'cancelled']);

const WAIT_MS = 60_000;

/** Polls a batch until its status is final. */
export async function waitForBatch(client: OpenAI, id: string): Promise<Batch> {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const batch = await client.batches.retrieve(id);
    if (FINAL.has(batch.status)) return batch;
    if (Date.now() > deadline) throw new Error(`batch ${id} did not finish within ${WAIT_MS} ms; last seen ${JSON.stringify(batch)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The lines of a file's content, parsed. */
export async function fileLines(client: OpenAI, fileId: string): Promise<Array<Record<string, unknown>>> {
  const text = await (await client.files.content(fileId)).text();
  expect(text.endsWith('\n')).toBe(true);
  return text
    .slice(0, -1)
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

/** A line of an output or error file, as OpenAI documents them: `{id, custom_id, response, error}`, nothing else. */
export function expectResultLine(line: Record<string, unknown>, customId: string): void {
  expect(Object.keys(line)).toEqual(['id', 'custom_id', 'response', 'error']);
  expect(line.id).toMatch(/^batch_req_\w+$/);
  expect(line.custom_id).toBe(customId);
}

/** A line whose request ran: its HTTP answer in `response`, and `error` null. */
export function expectResponse(line: Record<string, unknown>, customId: string, statusCode: number): Record<string, unknown> {
  expectResultLine(line, customId);
  expect(line.error).toBeNull();
  const response = line.response as { status_code: number; request_id: string; body: Record<string, unknown> };
  expect(Object.keys(response)).toEqual(['status_code', 'request_id', 'body']);
  expect(response.status_code).toBe(statusCode);
  expect(response.request_id).toMatch(/^\w+$/);
  return response.body;
}

/** A line whose request never ran: `response` null and `error` `{code, message}`. */
export function expectNotRun(line: Record<string, unknown>, customId: string, code: 'batch_expired' | 'batch_cancelled'): void {
  expectResultLine(line, customId);
  expect(line.response).toBeNull();
  expect(line.error).toEqual({ code, message: expect.any(String) });
}
