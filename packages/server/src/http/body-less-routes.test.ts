import { describe, expect, it } from 'vitest';
import { routesOf } from '../../test-support/api/registered-routes.js';
import { listenTestApp } from '../../test-support/api/test-app.js';

/**
 * Every POST and DELETE route the app has, now or later, called as the official Python SDKs call
 * body-less operations: `Content-Type: application/json`, an empty body. None may answer with a
 * body-parsing error; each answers as it would to no body at all.
 */

const { app, url } = await listenTestApp('body-less');

const routes = routesOf(app).filter((route) => route.method === 'POST' || route.method === 'DELETE');

/** POSTs go with `Content-Length: 0`, DELETEs with no length: as the SDKs send them. */
async function send(method: string, path: string, contentType?: string) {
  const response = await fetch(`${url}${path}`, {
    method,
    headers: { 'x-api-key': 'k', ...(contentType ? { 'content-type': contentType } : {}) },
    body: method === 'POST' ? '' : undefined,
  });
  return { status: response.status, body: (await response.json()) as { error?: unknown } };
}

describe('body-less requests as the Python SDKs send them', () => {
  it('reach every POST and DELETE route', () => {
    const names = routes.map((route) => `${route.method} ${route.path}`);
    expect(names).toEqual(expect.arrayContaining(['POST /v1/messages/batches/:id/cancel', 'DELETE /v1/messages/batches/:id', 'POST /v1/batches/:id/cancel', 'DELETE /v1/files/:id']));
    expect(names).toEqual(expect.arrayContaining(['POST /v1/batchd/webhooks/:id/deliveries/:deliveryId/retry', 'DELETE /v1/batchd/webhooks/:id']));
  });

  it.each(routes)('$method $path answers as to no body', async ({ method, path }) => {
    const filled = path.replace(/:(\w+)/g, (_match, name: string) => `${name}_none`);
    const asPython = await send(method, filled, 'application/json');
    const bare = await send(method, filled);
    expect(bare.status, JSON.stringify(bare.body)).toBeLessThan(500);
    expect(JSON.stringify(asPython.body)).not.toMatch(/body cannot be empty/i);
    expect(asPython.status, JSON.stringify(asPython.body)).toBe(bare.status);
    expect(asPython.body.error).toEqual(bare.body.error);
  });
});
