import { once } from 'node:events';
import { createServer, type ServerResponse } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { writeChunks } from './write-chunks.js';

/** `writeChunks` over real HTTP on loopback, read by a raw socket that reads or does not. */

const CHUNK = Buffer.alloc(64 * 1024, 'x');
/** Chunks a source offers at most: 128 MB, far past what the socket buffers of loopback hold. */
const OFFERED = 2_000;

interface Source {
  pulled: number;
  closed: boolean;
}

async function* chunksOf(source: Source, count: number): AsyncGenerator<Buffer> {
  try {
    for (; source.pulled < count; source.pulled++) yield CHUNK;
  } finally {
    source.closed = true;
  }
}

const servers: Array<ReturnType<typeof createServer>> = [];
afterEach(() => {
  for (const server of servers.splice(0)) server.close();
});

/** A server answering its request with `writeChunks` of `chunks`; the response and its outcome once asked. */
async function serve(chunks: AsyncIterable<Buffer>) {
  let answered: { response: ServerResponse; stop: AbortController; done: Promise<unknown> } | undefined;
  const server = createServer((_request, response) => {
    const stop = new AbortController();
    response.on('close', () => stop.abort());
    answered = { response, stop, done: writeChunks(chunks, response, stop.signal).then(() => 'returned', (error: Error) => error.message) };
  });
  servers.push(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const socket = connect((server.address() as AddressInfo).port, '127.0.0.1');
  socket.write('GET / HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n');
  await vi.waitFor(() => expect(answered).toBeDefined());
  return { socket, answered: answered! };
}

describe('writeChunks', () => {
  it('writes every chunk once and ends the response', async () => {
    const source = { pulled: 0, closed: false };
    const { socket, answered } = await serve(chunksOf(source, 40));
    let bytes = 0;
    socket.on('data', (data: Buffer) => (bytes += data.length));
    await once(socket, 'end');
    expect(await answered.done).toBe('returned');
    expect(answered.response.writableFinished).toBe(true);
    expect(source).toEqual({ pulled: 40, closed: true });
    // The body (40 chunks of 64 KB, chunked) and the head: nothing more.
    expect(bytes).toBeGreaterThan(40 * CHUNK.length);
    expect(bytes).toBeLessThan(40 * (CHUNK.length + 16) + 1024);
  });

  it('stops taking chunks while the reader does not read, and lets them go when it leaves', async () => {
    const source = { pulled: 0, closed: false };
    const { socket, answered } = await serve(chunksOf(source, OFFERED));
    socket.pause();
    await vi.waitFor(() => expect(answered.response.writableNeedDrain).toBe(true));
    const held = source.pulled;
    // The kernel's socket buffers on loopback hold a few MB: far fewer chunks than offered.
    expect(held).toBeLessThan(OFFERED / 4);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(source.pulled).toBe(held);
    socket.destroy();
    expect(await answered.done).toBe('returned');
    expect(answered.stop.signal.aborted).toBe(true);
    expect(source.closed).toBe(true);
    expect(source.pulled).toBe(held);
  });

  it('throws the error of its chunks and leaves the response to the caller', async () => {
    const source = { pulled: 0, closed: false };
    async function* failing(): AsyncGenerator<Buffer> {
      yield* chunksOf(source, 2);
      throw new Error('read failed');
    }
    const { socket, answered } = await serve(failing());
    expect(await answered.done).toBe('read failed');
    expect(source).toEqual({ pulled: 2, closed: true });
    expect(answered.response.writableEnded).toBe(false);
    socket.destroy();
  });
});
