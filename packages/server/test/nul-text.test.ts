import { afterAll, describe, expect, it } from 'vitest';
import { createTestDatabase, postgresUnavailable, type TestDatabase } from '../test-support/postgres/test-database.js';
import { api } from '../test-support/api/api.js';
import { chatLine } from '../test-support/api/openai.js';
import { startServer, type ServerHandle } from '../test-support/process/server-process.js';

/**
 * A NUL character, which PostgreSQL cannot keep in text, wherever a client can put one into
 * something stored or looked up: refused with 400 on both stores, nothing stored.
 */

const unavailable = postgresUnavailable();
const databases: TestDatabase[] = [];
afterAll(async () => {
  for (const database of databases) await database.drop();
});

async function serve(store: string): Promise<ServerHandle> {
  if (store === 'SQLite') return startServer({ flags: { 'log-level': 'error' } });
  const database = await createTestDatabase();
  databases.push(database);
  return startServer({ flags: { db: database.url, 'log-level': 'error' } });
}

async function upload(server: ServerHandle, text: string, filename: string): Promise<{ status: number; body: any }> {
  const form = new FormData();
  form.append('purpose', 'batch');
  form.append('file', new Blob([text]), filename);
  const response = await fetch(`${server.url}/v1/files`, { method: 'POST', body: form, headers: { authorization: 'Bearer k' } });
  return { status: response.status, body: await response.json() };
}

function expectOpenAIInvalid(response: { status: number; body: any }, what: string): void {
  expect(response.status, `${what}: ${JSON.stringify(response.body)}`).toBe(400);
  expect(response.body.error).toMatchObject({ type: 'invalid_request_error' });
  expect(response.body.error.message).toMatch(/NUL/);
}

describe.each(['SQLite', 'PostgreSQL'])('NUL characters on %s', (store) => {
  it.skipIf(store === 'PostgreSQL' && unavailable !== null)('are refused with 400 in a custom_id, a file name, an input_file_id and a URL', async () => {
    const server = await serve(store);
    const client = api(server.url);

    const input = [chatLine('fine', 'hello'), chatLine('nul\u0000id', 'hello')].map((line) => JSON.stringify(line)).join('\n');
    const file = await upload(server, input, 'input.jsonl');
    expect(file.status).toBe(200);
    const create = { input_file_id: file.body.id, endpoint: '/v1/chat/completions', completion_window: '24h' };
    expectOpenAIInvalid(await client.post('/v1/batches', create), 'custom_id');
    expectOpenAIInvalid(await client.post('/v1/batches', { ...create, input_file_id: 'file-\u0000' }), 'input_file_id');
    expect((await client.get('/v1/batches')).body.data).toEqual([]);

    expectOpenAIInvalid(await upload(server, input, 'in\u0000put.jsonl'), 'file name');
    expect((await client.get('/v1/files')).body.data.map((listed: { id: string }) => listed.id)).toEqual([file.body.id]);

    for (const path of ['/v1/messages/batches/msgbatch_%00', '/v1/messages/batches?after_id=a%00', '/v1/batches/batch_%00', '/v1/files/file-%00']) {
      const answered = await client.get(path);
      expect(answered.status, `${path}: ${answered.text}`).toBe(400);
      expect(answered.text).toMatch(/NUL/);
    }
  }, 60_000);
});
