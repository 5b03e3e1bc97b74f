import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerDashboard } from '../../server/src/http/batchd/dashboard-route.js';
import { startServer, type ServerHandle } from '../../server/test-support/process/server-process.js';

const DIST = new URL('../dist/', import.meta.url);

let server: ServerHandle;

beforeAll(async () => {
  server = await startServer();
});

describe('batchd serving the dashboard', () => {
  it('serves index.html at / for revalidation and hashed assets as immutable, without an API key', async () => {
    const index = await fetch(`${server.url}/`);
    expect(index.status).toBe(200);
    expect(index.headers.get('content-type')).toMatch(/^text\/html/);
    expect(index.headers.get('cache-control')).toBe('no-cache');
    const html = await index.text();
    expect(html).toBe(await readFile(new URL('index.html', DIST), 'utf8'));

    const assets = [...html.matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)].map((match) => match[1]!);
    expect(assets.some((path) => /\/assets\/index-[\w-]{8}\.js$/.test(path))).toBe(true);
    expect(assets.some((path) => /\/assets\/index-[\w-]{8}\.css$/.test(path))).toBe(true);
    for (const path of assets) {
      const asset = await fetch(`${server.url}${path}`);
      expect(asset.status).toBe(200);
      expect(asset.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
      await asset.arrayBuffer();
    }
  });

  it('leaves the API, health and metrics routes as they were', async () => {
    expect(await (await fetch(`${server.url}/health`)).json()).toEqual({ status: 'ok' });
    expect((await fetch(`${server.url}/metrics`)).headers.get('content-type')).toMatch(/^text\/plain/);
    const noKey = await fetch(`${server.url}/v1/messages/batches`);
    expect(noKey.status).toBe(401);
    expect((await noKey.json()).error.type).toBe('authentication_error');
    const list = await fetch(`${server.url}/v1/messages/batches`, { headers: { 'x-api-key': 'k' } });
    expect((await list.json()).data).toEqual([]);
    for (const path of ['/v1/no-such-route', '/no-such-file.js']) {
      const missing = await fetch(`${server.url}${path}`, { headers: { 'x-api-key': 'k' } });
      expect(missing.status).toBe(404);
      expect((await missing.json()).error.type).toBe('not_found_error');
    }
  });

  describe('without a build', () => {
    let emptyDir: string;
    beforeAll(async () => {
      emptyDir = await mkdtemp(join(tmpdir(), 'batchd-no-dist-'));
    });
    afterAll(async () => {
      await rm(emptyDir, { recursive: true, force: true });
    });

    it('answers / with a plain-text hint', async () => {
      const app = Fastify();
      registerDashboard(app, emptyDir);
      const response = await app.inject({ method: 'GET', url: '/' });
      expect(response.statusCode).toBe(200);
      expect(response.headers['content-type']).toBe('text/plain; charset=utf-8');
      expect(response.body).toContain('dashboard has not been built');
      expect(response.body).toContain('npm run build');
      await app.close();
    });
  });
});
