import { describe, expect, it } from 'vitest';
import { TEST_API_KEY } from '../../test-support/api/api.js';
import { errorType, rawRequest } from '../../test-support/process/raw-http.js';
import { startServer } from '../../test-support/process/server-process.js';

/**
 * DNS rebinding. Without keys (`--auth none`, the default on loopback) a web page that points a
 * name of its own at 127.0.0.1 could drive the API from the user's browser; its requests name
 * that page's host, so batchd answers only requests naming a loopback host or its `--public-url`
 * host. The requests go over raw sockets with the Host header a browser would send.
 */

describe('the Host check on loopback without keys', () => {
  it('refuses requests naming any other host with 403, and serves loopback names and the public URL host', async () => {
    const server = await startServer({ flags: { 'public-url': 'http://batches.example.test:9999' } });
    const port = new URL(server.url).port;
    for (const target of ['/v1/messages/batches', '/v1/batchd/backends', '/health', '/']) {
      const rebound = await rawRequest(server.url, 'GET', target, { host: `attacker.example:${port}`, 'x-api-key': TEST_API_KEY, origin: 'http://attacker.example' });
      expect(rebound.status, target).toBe(403);
      expect(errorType(rebound), target).toBe('permission_error');
    }
    const absolute = await rawRequest(server.url, 'GET', `http://attacker.example:${port}/v1/messages/batches`, { host: `attacker.example:${port}`, 'x-api-key': TEST_API_KEY });
    expect(absolute.status).toBe(403);
    for (const host of [`localhost:${port}`, 'localhost', `127.0.0.1:${port}`, `[::1]:${port}`, 'batches.example.test:9999', 'BATCHES.example.test']) {
      const served = await rawRequest(server.url, 'GET', '/v1/messages/batches', { host, 'x-api-key': TEST_API_KEY });
      expect(served.status, host).toBe(200);
    }
  });

  it('does not apply where keys are required', async () => {
    const server = await startServer({ flags: { auth: 'keys' } });
    const response = await rawRequest(server.url, 'GET', '/v1/messages/batches', { host: 'attacker.example', 'x-api-key': 'bk_unknown' });
    expect(response.status).toBe(401);
    expect((await rawRequest(server.url, 'GET', '/health', { host: 'batches.example.com' })).status).toBe(200);
  });
});
