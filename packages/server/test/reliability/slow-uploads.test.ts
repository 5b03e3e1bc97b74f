import { connect, type Socket } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { createTestDatabase, postgresUnavailable, type TestDatabase } from '../../test-support/postgres/test-database.js';
import { api } from '../../test-support/api/api.js';
import { createBatch, userRequests } from '../../test-support/api/batches.js';
import { createKey, withKey } from '../../test-support/api/keys.js';
import { startServer, type ServerHandle } from '../../test-support/process/server-process.js';

/**
 * Slow uploads, sent as a client on a raw socket would: one byte a second, never idle long enough
 * for the idle timeout. `--upload-timeout` cuts each of them and nothing of them is stored. On
 * PostgreSQL, more of them than the pool has connections leave other workspaces answered.
 */

/** Longest a test waits on a dribbled upload before calling it still open. */
const HANG_GUARD_MS = 60_000;
const BYTE_EVERY_MS = 1000;

const CREATE_BODY = JSON.stringify({ requests: userRequests(1, 'slow') });
const CHAT_LINE = JSON.stringify({ custom_id: 'slow', method: 'POST', url: '/v1/chat/completions', body: { model: 'gpt-4o-mini', messages: [] } });
const MULTIPART_BODY = [
  '--x\r\ncontent-disposition: form-data; name="purpose"\r\n\r\nbatch\r\n',
  '--x\r\ncontent-disposition: form-data; name="file"; filename="in.jsonl"\r\ncontent-type: application/jsonl\r\n\r\n',
  `${CHAT_LINE}\n\r\n--x--\r\n`,
].join('');
const CHAT_CREATE_BODY = JSON.stringify({ input_file_id: 'file-01none', endpoint: '/v1/chat/completions', completion_window: '24h' });

interface Dribble {
  /** Settles when the server closes the connection (true), or after the hang guard (false). */
  closed: Promise<boolean>;
  /** Bytes of the body written so far. */
  sent(): number;
  stop(): void;
}

/** Sends the request's headers, then its body one byte every second, until the server closes the connection. */
function dribble(server: ServerHandle, path: string, body: string, headers: Record<string, string>): Dribble {
  const { port } = new URL(server.url);
  let sent = 0;
  let timer: NodeJS.Timeout | undefined;
  const socket: Socket = connect(Number(port), '127.0.0.1', () => {
    const head = Object.entries({ host: '127.0.0.1', 'content-length': String(Buffer.byteLength(body)), ...headers }).map(([name, value]) => `${name}: ${value}\r\n`);
    socket.write(`POST ${path} HTTP/1.1\r\n${head.join('')}\r\n`);
    timer = setInterval(() => {
      if (sent < body.length) socket.write(body[sent++]!);
    }, BYTE_EVERY_MS);
  });
  socket.on('error', () => undefined);
  const closed = new Promise<boolean>((resolve) => {
    const guard = setTimeout(() => resolve(false), HANG_GUARD_MS);
    socket.on('close', () => {
      clearTimeout(guard);
      resolve(true);
    });
  }).finally(() => clearInterval(timer));
  return { closed, sent: () => sent, stop: () => socket.destroy() };
}

const unavailable = postgresUnavailable();
const databases: TestDatabase[] = [];
afterAll(async () => {
  for (const database of databases) await database.drop();
});

async function storeFlags(store: string): Promise<Record<string, string>> {
  if (store === 'SQLite') return {};
  const database = await createTestDatabase();
  databases.push(database);
  return { db: database.url };
}

describe.each(['SQLite', 'PostgreSQL'])('slow uploads on %s', (store) => {
  const skip = store === 'PostgreSQL' && unavailable !== null;

  it.skipIf(skip)('cuts a create, a file upload and an OpenAI create still arriving at --upload-timeout, and stores nothing', async () => {
    const server = await startServer({ flags: { ...(await storeFlags(store)), 'upload-timeout': '3s', 'log-level': 'error' } });
    const json = { 'x-api-key': 'k', 'content-type': 'application/json' };
    const uploads = [
      { what: 'create', body: CREATE_BODY, run: dribble(server, '/v1/messages/batches', CREATE_BODY, json) },
      { what: 'file upload', body: MULTIPART_BODY, run: dribble(server, '/v1/files', MULTIPART_BODY, { 'x-api-key': 'k', 'content-type': 'multipart/form-data; boundary=x' }) },
      { what: 'OpenAI create', body: CHAT_CREATE_BODY, run: dribble(server, '/v1/batches', CHAT_CREATE_BODY, json) },
    ];
    for (const upload of uploads) {
      expect(await upload.run.closed, `${upload.what}: still open`).toBe(true);
      expect(upload.run.sent(), `${upload.what}: cut before its body was sent`).toBeLessThan(upload.body.length);
    }
    const client = api(server.url);
    expect((await client.get('/v1/messages/batches')).body.data).toEqual([]);
    expect((await client.get('/v1/files')).body.data).toEqual([]);
    expect((await client.get('/v1/batches')).body.data).toEqual([]);
    // Uploads within the deadline still pass.
    expect((await createBatch(client, userRequests(2, 'quick'))).request_counts.processing).toBeGreaterThanOrEqual(0);
  }, 120_000);
});

describe('slow uploads on PostgreSQL', () => {
  it.skipIf(unavailable !== null)('leave other workspaces answered while more of them than pooled connections trickle in', async () => {
    const flags = await storeFlags('PostgreSQL');
    const server = await startServer({ flags: { ...flags, auth: 'keys', 'log-level': 'error' } });
    const slowKey = createKey(flags.db!, 'slow').key;
    const otherKey = createKey(flags.db!, 'other').key;
    const other = withKey(server.url, otherKey);
    const slow = Array.from({ length: 14 }, () =>
      dribble(server, '/v1/messages/batches', CREATE_BODY, { 'x-api-key': slowKey, 'content-type': 'application/json' }),
    );
    try {
      // Each slow create has reached its handler and is reading its body.
      await new Promise((resolve) => setTimeout(resolve, 3 * BYTE_EVERY_MS));
      const created = await createBatch(other, userRequests(3, 'other'));
      expect((await other.get(`/v1/messages/batches/${created.id}`)).status).toBe(200);
      const listed = await other.get('/v1/messages/batches');
      expect(listed.body.data.map((batch: { id: string }) => batch.id)).toEqual([created.id]);
      const form = new FormData();
      form.append('purpose', 'batch');
      form.append('file', new Blob([`${CHAT_LINE}\n`]), 'in.jsonl');
      const uploaded = await fetch(`${server.url}/v1/files`, { method: 'POST', body: form, headers: { 'x-api-key': otherKey } });
      expect(uploaded.status).toBe(200);
      const file = (await uploaded.json()) as { id: string };
      expect((await other.get('/v1/files')).body.data.map((listed: { id: string }) => listed.id)).toEqual([file.id]);
      expect(slow.every((upload) => upload.sent() < CREATE_BODY.length)).toBe(true);
    } finally {
      for (const upload of slow) upload.stop();
    }
  }, 120_000);
});
