import { open } from 'node:fs/promises';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * The attainable limit of a results stream over HTTP on loopback: a bare Node HTTP server that
 * answers every GET with one file as it is, with its length, written as batchd writes a results
 * file (one 1 MiB buffer, read into again once its write has gone to the socket). No framework,
 * no database, no auth: what it loses against a file read is the socket and the client's HTTP
 * parsing, which every server pays.
 *
 * Run as its own process: `node bare-file-server.js PATH`; prints its URL on stdout once it
 * listens, and stops on SIGTERM.
 */

const CHUNK_BYTES = 1024 * 1024;
const path = process.argv[2];
if (!path) throw new Error('usage: bare-file-server PATH');

const written = (response: ServerResponse, chunk: Buffer) => new Promise<void>((resolve, reject) => response.write(chunk, (error) => (error ? reject(error) : resolve())));

async function send(response: ServerResponse): Promise<void> {
  const file = await open(path!, 'r');
  try {
    const { size } = await file.stat();
    response.writeHead(200, { 'content-type': 'application/x-jsonl', 'content-length': size });
    const buffer = Buffer.allocUnsafeSlow(CHUNK_BYTES);
    for (let sent = 0; sent < size; ) {
      const { bytesRead } = await file.read(buffer, 0, Math.min(CHUNK_BYTES, size - sent), sent);
      if (bytesRead === 0) throw new Error(`${path} ended after ${sent} of ${size} bytes`);
      await written(response, buffer.subarray(0, bytesRead));
      sent += bytesRead;
    }
    response.end();
  } finally {
    await file.close();
  }
}

const server = createServer((request, response) => {
  request.resume();
  send(response).catch((error: unknown) => response.destroy(error as Error));
});
server.listen(0, '127.0.0.1', () => console.log(`http://127.0.0.1:${(server.address() as AddressInfo).port}`));
process.once('SIGTERM', () => server.close(() => process.exit(0)));
