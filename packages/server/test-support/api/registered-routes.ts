import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { systemClock } from '../../src/clock.js';
import { Lanes } from '../../src/engine/lanes.js';
import { buildApp } from '../../src/http/app.js';
import { BatchIdGenerator } from '../../src/ids.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';

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
  const app = buildApp({
    store,
    lanes: new Lanes([]),
    clock: systemClock,
    logger: pino({ level: 'silent' }),
    ids: new BatchIdGenerator(),
    batchTtlMs: 60_000,
    resultsTtlMs: 60_000,
    publicUrl: () => '',
    onCreated: () => undefined,
    onCanceled: () => undefined,
    auth: 'keys',
    webhookTargets: 'any',
    uploadTimeoutMs: 60_000,
  });
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
