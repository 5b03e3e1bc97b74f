import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { MODEL } from '../../test-support/api/batches.js';
import { createKey, withKey } from '../../test-support/api/keys.js';
import { errorType, rawRequest, type RawResponse } from '../../test-support/process/raw-http.js';
import { registeredRoutes, type RegisteredRoute } from '../../test-support/api/registered-routes.js';
import { MAIN_JS, makeTempDir, startServer, type ServerHandle } from '../../test-support/process/server-process.js';

/**
 * No way in without a key under `--auth keys`: authentication and the rate limit are decided on
 * the route the router matched, so no spelling of a path (percent-escapes, dot segments, doubled
 * slashes, case, absolute-form request targets) reaches a route without a key. Requests go over
 * raw sockets, so the request line is exactly what an attacker would send.
 */

/** Routes that answer without a key: health and the dashboard's files. */
const PUBLIC_ROUTES = new Set(['/health', '*']);

/** The spellings of `path` a client could send, each of which must not reach a route without a key. */
function spellings(path: string, origin: string): string[] {
  const segments = path.split('/').slice(1);
  const hex = (char: string, upper = true) => `%${char.charCodeAt(0).toString(16)[upper ? 'toUpperCase' : 'toLowerCase']()}`;
  const withSegment = (index: number, spelled: string) => `/${segments.map((segment, i) => (i === index ? spelled : segment)).join('/')}`;
  const [first = '', second = ''] = segments;
  return [
    path,
    ...segments.map((segment, i) => withSegment(i, hex(segment[0]!) + segment.slice(1))),
    ...segments.map((segment, i) => withSegment(i, hex(segment[0]!, false) + segment.slice(1))),
    path.replace(/\d/, (digit) => hex(digit)),
    path.replace(/[^/]/g, (char) => hex(char)),
    `/${path}`,
    path.replace(`/${first}/`, `/${first}//`),
    `${path}//`,
    path.replace(`/${first}/`, `/${first}/./`),
    `/.${path}`,
    path.replace(`/${first}/`, `/${first}/x/../`),
    `/x/..${path}`,
    `/..${path}`,
    path.replace(`/${first}/`, `/${first}/%2e%2e/`),
    path.replace(`/${first}/`, `/${first}%2F`),
    path.toUpperCase(),
    withSegment(0, first.toUpperCase()),
    second === '' ? path : withSegment(1, second[0]!.toUpperCase() + second.slice(1)),
    `${path}/`,
    `${path}?`,
    `${path}/?`,
    `${path}?x=1`,
    `${path}#`,
    `${path};x`,
    `${path}%20`,
    `http://x${path}`,
    `${origin}${path}`,
    `HTTP://X${path}`,
    `http://x/${path}`,
  ];
}

/** A path of the route with its parameters filled in. */
function concrete(route: RegisteredRoute): string {
  return route.path.replace(/:\w+/g, 'msgbatch_01Corpus').replace('*', 'anything');
}

describe('no way in without a key (--auth keys)', () => {
  let server: ServerHandle;
  let key: string;

  beforeAll(async () => {
    server = await startServer({ flags: { auth: 'keys', 'metrics-port': 0, 'log-level': 'warn' } });
    key = createKey(server.dbPath, 'team-a').key;
  });

  it('answers 401 to the escaped and absolute-form spellings that reached routes without a key', async () => {
    const attacks: Array<[string, string, string?]> = [
      ['GET', '/%761/messages/batches'],
      ['POST', '/%761/messages', JSON.stringify({ model: MODEL, max_tokens: 16, messages: [{ role: 'user', content: 'spend the upstream key' }] })],
      ['GET', '/%761/files'],
      ['POST', '/v1/chat/%63ompletions', JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: 'spend the upstream key' }] })],
      ['GET', '/%761/batches'],
      ['GET', '/%761/batchd/webhooks'],
      ['POST', '/%761/batchd/webhooks', JSON.stringify({ url: 'https://example.com/hook' })],
      ['GET', '/%761/batchd/backends'],
      ['GET', 'http://x/v1/messages/batches'],
      ['POST', 'http://x/v1/messages', JSON.stringify({ model: MODEL, max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] })],
      ['GET', '/metrics'],
      ['GET', '/%6Detrics'],
    ];
    for (const [method, target, body] of attacks) {
      const response = await rawRequest(server.url, method, target, body ? { 'content-type': 'application/json' } : {}, body);
      expect(response.status, `${method} ${target}: ${response.body}`).toBe(401);
      // OpenAI's routes answer in OpenAI's envelope, where a missing key is `invalid_api_key`.
      expect(['authentication_error', 'invalid_api_key'], `${method} ${target}`).toContain(errorType(response));
    }
    // Nothing reached the backend, and the same spellings work as usual with a key.
    const backends = await withKey(server.url, key).get('/%761/batchd/backends');
    expect(backends.status).toBe(200);
    expect(backends.body.data[0].calls).toBe(0);
    const keyed = await rawRequest(server.url, 'GET', 'http://x/v1/messages/batches', { 'x-api-key': key });
    expect(keyed.status).toBe(200);
  });

  it('answers 401 or 404 to every spelling of every route without a key', async () => {
    const routes = (await registeredRoutes()).filter((route) => !PUBLIC_ROUTES.has(route.path));
    // The enumeration itself: the routes an attacker would aim at are all in it.
    expect(routes.map((route) => `${route.method} ${route.path}`)).toEqual(
      expect.arrayContaining(['GET /v1/messages/batches', 'POST /v1/messages', 'POST /v1/messages/count_tokens', 'POST /v1/chat/completions', 'GET /v1/models', 'GET /v1/models/:id', 'GET /v1/files/:id/content', 'POST /v1/batchd/webhooks', 'GET /metrics']),
    );
    const failures: string[] = [];
    let sent = 0;
    for (const route of routes) {
      const path = concrete(route);
      const plain = await rawRequest(server.url, route.method, path);
      if (plain.status !== 401) failures.push(`${route.method} ${path} as registered → ${plain.status}`);
      const answers = await Promise.all(
        spellings(path, server.url).map(async (target): Promise<[string, RawResponse]> => [target, await rawRequest(server.url, route.method, target, { 'content-type': 'application/json' }, route.method === 'POST' ? '{}' : '')]),
      );
      for (const [target, response] of answers) {
        sent++;
        if (response.status !== 401 && response.status !== 404) failures.push(`${route.method} ${target} → ${response.status} ${response.body.slice(0, 120)}`);
      }
    }
    expect(failures).toEqual([]);
    expect(sent).toBeGreaterThan(routes.length * 30);
  });

  it('serves /metrics on the API port only with a key, and without one on --metrics-port', async () => {
    const metricsUrl = /batchd metrics on (\S+)/.exec(server.output().stdout)?.[1];
    expect(metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    const scraped = await fetch(metricsUrl!);
    expect(scraped.status).toBe(200);
    expect(await scraped.text()).toContain('batchd_backend_calls_total{backend="emulator"}');
    const keyed = await withKey(server.url, key).get('/metrics');
    expect(keyed.status).toBe(200);
    expect(keyed.text).toContain('batchd_backend_calls_total');
    // The scrape listener serves nothing else.
    const other = await rawRequest(metricsUrl!, 'GET', '/v1/messages/batches');
    expect(other.status).toBe(404);
    expect(errorType(other)).toBe('not_found_error');
  });

  it('serves /metrics without a key on the --metrics-port of a worker', async () => {
    const dir = await makeTempDir();
    const worker = spawn(process.execPath, [MAIN_JS, 'worker', '--db', join(dir, 'worker.sqlite'), '--metrics-port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      const metricsUrl = await new Promise<string>((resolve, reject) => {
        let seen = '';
        worker.stdout.on('data', (chunk: Buffer) => {
          seen += chunk.toString();
          const match = /batchd metrics on (\S+)/.exec(seen);
          if (match) resolve(match[1]!);
        });
        worker.once('exit', (code) => reject(new Error(`worker exited with ${code}: ${seen}`)));
      });
      const scraped = await fetch(metricsUrl);
      expect(scraped.status).toBe(200);
      expect(await scraped.text()).toContain('batchd_backend_in_flight{backend="emulator"} 0');
    } finally {
      worker.kill('SIGKILL');
    }
  });

  it('leaves health and the dashboard open', async () => {
    expect((await rawRequest(server.url, 'GET', '/health')).status).toBe(200);
    const page = await rawRequest(server.url, 'GET', '/');
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
  });
});

describe('--rate-limit-rpm on the route that matched', () => {
  it('counts requests however their path is spelled', async () => {
    const server = await startServer({ flags: { auth: 'keys', 'rate-limit-rpm': 3 } });
    const { key } = createKey(server.dbPath, 'team-a');
    const statuses = [];
    for (const target of ['/v1/%6Dessages/batches', '/%761/messages/batches', 'http://x/v1/messages/batches', '/v1/messages/batches']) {
      statuses.push((await rawRequest(server.url, 'GET', target, { 'x-api-key': key })).status);
    }
    expect(statuses).toEqual([200, 200, 200, 429]);
    // OpenAI's batch endpoints draw on the same budget; batchd's other routes do not.
    expect((await rawRequest(server.url, 'GET', '/%761/files', { 'x-api-key': key })).status).toBe(429);
    expect((await rawRequest(server.url, 'GET', '/v1/batchd/backends', { 'x-api-key': key })).status).toBe(200);
  });
});
