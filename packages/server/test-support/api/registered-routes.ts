import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { buildTestApp } from './test-app.js';

export interface RegisteredRoute {
  method: string;
  /** The route's pattern as registered, e.g. `/v1/messages/batches/:id`. */
  path: string;
}

/**
 * Every route batchd's HTTP application registers, read from the application itself (its route
 * tree as `printRoutes` draws it), so a route added later is listed without naming it here.
 */
export async function registeredRoutes(): Promise<RegisteredRoute[]> {
  const dir = mkdtempSync(join(tmpdir(), 'batchd-routes-'));
  const store = new SqliteStore(join(dir, 'routes.sqlite'));
  const app = buildTestApp(store, { auth: 'keys' });
  try {
    await app.ready();
    return routesOf(app);
  } finally {
    await app.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The routes of a ready app, read from the router's printed tree (`├── /path (METHOD, …)`, four columns a level). */
export function routesOf(app: FastifyInstance): RegisteredRoute[] {
  const routes: RegisteredRoute[] = [];
  const segments: string[] = [];
  for (const line of app.printRoutes({ commonPrefix: false }).split('\n')) {
    const node = /^((?:[│ ] {3})*)[├└]── (\S+)(?: \(([^)]+)\))?$/.exec(line);
    if (!node) continue;
    segments.length = node[1]!.length / 4;
    segments.push(node[2]!);
    for (const method of node[3]?.split(', ') ?? []) routes.push({ method, path: segments.join('') });
  }
  return routes;
}
