import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publicOnlyFetch, refusedHost } from './public-fetch.js';

describe('hosts refused when an endpoint is registered', () => {
  it.each([
    ['http://localhost:8080/', 'localhost'],
    ['http://LOCALHOST./', 'localhost'],
    ['http://api.localhost/', 'api.localhost'],
    ['http://[2002:7f00:1::]/', '2002:7f00:1::'],
    ['http://[::ffff:0:7f00:1]/', '::ffff:0:7f00:1'],
    ['http://0x7f.1/', '127.0.0.1'],
    ['http://example.com/', null],
    ['http://[64:ff9b::808:808]/', null],
  ])('%s: %s', (url, refused) => {
    expect(refusedHost(new URL(url))).toBe(refused);
  });
});

describe('fetch for public webhook targets', () => {
  let server: Server;
  let port: number;
  let hits = 0;
  beforeAll(async () => {
    server = createServer((_, response) => {
      hits += 1;
      response.end('ok');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('refuses a URL naming a loopback address before connecting, and a name that resolves to one when connecting', async () => {
    const fetch = publicOnlyFetch();
    await expect(fetch(`http://127.0.0.1:${port}/hook`, { method: 'POST', body: '{}' })).rejects.toThrow(/127\.0\.0\.1 is not a public address/);
    const byName = fetch(`http://localhost:${port}/hook`, { method: 'POST', body: '{}' });
    await expect(byName).rejects.toThrow();
    const cause = await byName.then(() => new Error('the fetch was answered'), (error: Error) => error.cause as Error);
    expect(cause.message).toMatch(/^host localhost resolves to an address that is not public/);
    expect(cause.message).not.toMatch(/127\.0\.0\.1|::1/);
    expect(hits).toBe(0);
    // The same receiver is reachable without the filter: the refusal is the filter's.
    expect((await globalThis.fetch(`http://127.0.0.1:${port}/hook`, { method: 'POST', body: '{}' })).status).toBe(200);
    expect(hits).toBe(1);
  });
});
