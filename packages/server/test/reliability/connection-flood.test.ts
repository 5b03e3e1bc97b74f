import { readdirSync, readlinkSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeProvider } from '../../test-support/fakes/fake-provider.js';
import { api } from '../../test-support/api/api.js';
import { createBatch, pollUntil, userRequests, waitUntilEnded } from '../../test-support/api/batches.js';
import { startServer, type ServerHandle } from '../../test-support/process/server-process.js';

/**
 * A connection flood: clients that connect, send half a request line and then nothing, from one
 * loopback address and then another (Linux routes all of 127.0.0.0/8 to loopback). batchd holds
 * at most `--max-connections`, one address at most half of them, so another address still gets
 * in, and the connections it holds never take the file descriptors its engine needs.
 */

const MAX_CONNECTIONS = 40;
const FLOOD = 60;

interface Flood {
  /** Connections the server has not closed. */
  open(): number;
  /** Connections the server closed. */
  closed(): number;
  end(): void;
}

function flood(server: ServerHandle, from: string, count: number): Flood {
  const { port } = new URL(server.url);
  const sockets: Socket[] = [];
  let closed = 0;
  for (let i = 0; i < count; i++) {
    const socket = connect({ port: Number(port), host: '127.0.0.1', localAddress: from }, () => socket.write('GET /health HTTP/1.1\r\nHost: x\r\n'));
    socket.on('error', () => undefined);
    socket.on('close', () => closed++);
    sockets.push(socket);
  }
  return { open: () => count - closed, closed: () => closed, end: () => sockets.forEach((socket) => socket.destroy()) };
}

/** Settles once the server has answered or closed a fresh connection from 127.0.0.1: true if it answered. */
function healthAnswers(server: ServerHandle): Promise<boolean> {
  const { port } = new URL(server.url);
  return new Promise((resolve) => {
    let answer = '';
    const socket = connect(Number(port), '127.0.0.1', () => socket.write('GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n'));
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString()));
    socket.on('error', () => undefined);
    socket.on('close', () => resolve(answer.startsWith('HTTP/1.1 200')));
  });
}

/** The sockets a process holds open (its database files, logs and threads' handles are not counted). */
const openSockets = (pid: number) => readdirSync(`/proc/${pid}/fd`).filter((fd) => readlinkOrNull(`/proc/${pid}/fd/${fd}`)?.startsWith('socket:')).length;

function readlinkOrNull(path: string): string | null {
  try {
    return readlinkSync(path);
  } catch {
    // Closed between the listing and the read.
    return null;
  }
}

describe('a connection flood', () => {
  const floods: Flood[] = [];
  let fake: FakeProvider | undefined;
  afterEach(async () => {
    floods.splice(0).forEach((f) => f.end());
    await fake?.close();
  });

  it('is held to --max-connections, half of them per address, while the engine runs a batch', async () => {
    fake = await FakeProvider.start({ shape: 'anthropic', latencyMs: 20 });
    const server = await startServer({ flags: { backend: 'anthropic', 'backend-url': fake.url, concurrency: 8, 'max-connections': MAX_CONNECTIONS, 'log-level': 'warn' } });
    const socketsBefore = openSockets(server.pid);

    const first = flood(server, '127.0.0.2', FLOOD);
    floods.push(first);
    await pollUntil(async () => first.closed(), (closed) => closed >= FLOOD - MAX_CONNECTIONS / 2, { what: 'the connections past one address’s half to be closed' });
    expect(first.open()).toBe(MAX_CONNECTIONS / 2);
    expect(await healthAnswers(server), 'another address is still served').toBe(true);

    const created = await createBatch(api(server.url), userRequests(400, 'flood'));
    const second = flood(server, '127.0.0.3', FLOOD);
    floods.push(second);
    await pollUntil(async () => second.closed(), (closed) => closed >= FLOOD - MAX_CONNECTIONS / 2, { what: 'the second address’s connections past its half to be closed' });
    // The test's own API client may hold a connection of the total too.
    expect(second.open()).toBeLessThanOrEqual(MAX_CONNECTIONS / 2);
    expect(first.open() + second.open()).toBeGreaterThanOrEqual(MAX_CONNECTIONS - 1);
    expect(await healthAnswers(server), 'a connection past --max-connections is closed').toBe(false);
    // The engine keeps its connections to the provider: the batch runs while the API is full.
    await pollUntil(async () => fake!.requests.filter((call) => call.answered).length, (answered) => answered >= 400, { timeoutMs: 60_000, what: 'every request to reach the provider' });
    expect(openSockets(server.pid) - socketsBefore, 'sockets held beyond the start').toBeLessThanOrEqual(MAX_CONNECTIONS + 16);

    floods.splice(0).forEach((f) => f.end());
    const ended = await waitUntilEnded(api(server.url), created.id, 400, { timeoutMs: 30_000 });
    expect(ended.request_counts.succeeded).toBe(400);
  }, 120_000);
});
