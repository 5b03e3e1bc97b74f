import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBatch, pollUntil, userRequests } from '../../test-support/api/batches.js';
import { createKey, withKey } from '../../test-support/api/keys.js';
import { openAIClient, uploadLines } from '../../test-support/api/openai.js';
import { startServer, type ServerHandle } from '../../test-support/process/server-process.js';

/**
 * Readers that ask for results and never read them: each holds a stream, and the buffer it is
 * blocked on, for as long as it likes. A workspace may hold at most
 * `--max-results-streams-per-workspace` such streams (a batch's results, whole or partial, and
 * OpenAI file contents count together). A reader past the bound waits for a place and is answered
 * 429 in its route's envelope when none frees within 10 s; other workspaces keep their own places,
 * and a reader that goes hands its place to the next one waiting.
 */

const MAX_STREAMS = 3;

interface StalledReader {
  status: number;
  head: string;
  socket: Socket;
}

/** Sends a GET and reads no further than the first bytes of the answer, then stops reading. */
function stalledGet(url: string, path: string, key: string): Promise<StalledReader> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    socket.once('error', reject);
    socket.once('data', (chunk: Buffer) => {
      socket.pause();
      const head = chunk.toString('latin1');
      resolve({ status: Number(head.slice(9, 12)), head, socket });
    });
    socket.write(`GET ${path} HTTP/1.1\r\nhost: ${hostname}:${port}\r\nx-api-key: ${key}\r\nauthorization: Bearer ${key}\r\n\r\n`);
  });
}

/** Input lines of about `megabytes` MB, so a reader that never reads their content blocks the stream long before its end. */
function bulkyLines(megabytes: number): unknown[] {
  const text = 'a long question, repeated so the file is large. '.repeat(200);
  const count = Math.ceil((megabytes * 1024 * 1024) / text.length);
  return Array.from({ length: count }, (_, i) => ({ custom_id: `c${i}`, method: 'POST', url: '/v1/chat/completions', body: { model: 'gpt-4o-mini', messages: [{ role: 'user', content: text }] } }));
}

describe('readers that never read', () => {
  let server: ServerHandle;
  const readers: StalledReader[] = [];

  beforeAll(async () => {
    server = await startServer({ flags: { auth: 'keys', 'max-results-streams-per-workspace': MAX_STREAMS, 'log-level': 'warn' } });
  });

  afterAll(async () => {
    for (const reader of readers) reader.socket.destroy();
    await server.kill();
  });

  it('hold at most the workspace bound of results streams; more wait for a place, then answer 429 in their API\'s envelope', async () => {
    const alice = createKey(server.dbPath, 'team-a').key;
    const bob = createKey(server.dbPath, 'team-b').key;
    const file = await uploadLines(openAIClient(server.url, alice), bulkyLines(48));
    const batch = await createBatch(withKey(server.url, alice), userRequests(3, 'small'));
    await pollUntil(() => withKey(server.url, alice).get(`/v1/messages/batches/${batch.id}`), (response) => (response.body as { processing_status: string }).processing_status === 'ended');

    for (let i = 0; i < MAX_STREAMS; i++) readers.push(await stalledGet(server.url, `/v1/files/${file.id}/content`, alice));
    expect(readers.map((reader) => reader.status)).toEqual([200, 200, 200]);

    // Past the bound, readers wait; a batch's results share it with file contents. Another
    // workspace has places of its own meanwhile.
    const content = fetch(`${server.url}/v1/files/${file.id}/content`, { headers: { authorization: `Bearer ${alice}` } });
    const results = ['', '?partial=true'].map((query) => fetch(`${server.url}/v1/messages/batches/${batch.id}/results${query}`, { headers: { 'x-api-key': alice } }));
    const bobs = await createBatch(withKey(server.url, bob), userRequests(1, 'other'));
    await pollUntil(() => withKey(server.url, bob).get(`/v1/messages/batches/${bobs.id}`), (response) => (response.body as { processing_status: string }).processing_status === 'ended');
    expect((await fetch(`${server.url}/v1/messages/batches/${bobs.id}/results`, { headers: { 'x-api-key': bob } })).status).toBe(200);

    // No place frees: each waiting reader is answered 429 in its API's envelope.
    const refused = await content;
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('1');
    expect(((await refused.json()) as { error: { type: string; message: string } }).error).toMatchObject({ type: 'rate_limit_error', message: expect.stringMatching(/3 results streams open/) });
    for (const answer of await Promise.all(results)) {
      expect(answer.status).toBe(429);
      expect(await answer.json()).toMatchObject({ type: 'error', error: { type: 'rate_limit_error' } });
    }

    // A reader that goes hands its place to the next one waiting, which reads the results whole.
    const waiting = fetch(`${server.url}/v1/messages/batches/${batch.id}/results`, { headers: { 'x-api-key': alice } });
    readers.shift()!.socket.destroy();
    const served = await waiting;
    expect(served.status).toBe(200);
    expect((await served.text()).trim().split('\n')).toHaveLength(3);
  });
});
