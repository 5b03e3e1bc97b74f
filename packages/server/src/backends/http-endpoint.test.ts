import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpEndpoint } from './http-endpoint.js';

/**
 * A provider on loopback whose answers to `/long` never end (a megabyte a turn until the client
 * goes), whose answers to `/slow` come after 200 ms, and whose other answers are a small JSON object.
 */
let provider: Server;
let url: string;
/** Calls the provider received at `/v1/short`. */
let shortCalls = 0;
beforeAll(async () => {
  provider = createServer((request, response) => {
    request.resume();
    if (request.url === '/v1/slow') return void setTimeout(() => response.end('{"slow":true}'), 200);
    if (request.url === '/v1/short') shortCalls += 1;
    if (request.url !== '/v1/long') return void response.end('{"ok":true}');
    response.writeHead(200, { 'content-type': 'application/json' });
    const megabyte = Buffer.alloc(1024 * 1024, 0x61);
    const more = () => {
      while (!response.destroyed && response.write(megabyte));
      if (!response.destroyed) response.once('drain', more);
    };
    response.once('close', () => response.off('drain', more));
    more();
  });
  await new Promise<void>((resolve) => provider.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(provider.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => provider.close(() => resolve())));

describe('HttpEndpoint', () => {
  it('stops reading an answer past its bound and fails the call for good, then serves the next call', async () => {
    const endpoint = new HttpEndpoint({ url, path: '/v1/short', headers: {}, now: Date.now, maxAnswerBytes: 4 * 1024 * 1024 });
    try {
      const long = await endpoint.post('{}', new AbortController().signal, '/v1/long');
      expect(long).toEqual({ kind: 'error', retryable: false, status: 0, errorType: 'api_error', message: expect.stringContaining('longer than batchd reads') });
      expect(await endpoint.post('{}', new AbortController().signal)).toMatchObject({ kind: 'response', status: 200, text: '{"ok":true}' });
    } finally {
      await endpoint.close();
    }
  });

  it('ends a call aborted while it waits for a connection once its turn comes, without sending it', async () => {
    const endpoint = new HttpEndpoint({ url, path: '/v1/short', headers: {}, now: Date.now, connections: 1 });
    try {
      const before = shortCalls;
      const slow = endpoint.post('{}', new AbortController().signal, '/v1/slow');
      const caller = new AbortController();
      const queued = endpoint.post('{}', caller.signal);
      caller.abort();
      expect(await queued).toMatchObject({ kind: 'error', retryable: true, status: 0, message: 'request aborted' });
      expect(await slow).toMatchObject({ kind: 'response', status: 200, text: '{"slow":true}' });
      expect(await endpoint.post('{}', new AbortController().signal)).toMatchObject({ kind: 'response', status: 200, text: '{"ok":true}' });
      expect(shortCalls - before).toBe(1);
    } finally {
      await endpoint.close();
    }
  });
});
