import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
    auth: 'keys',
    webhookTargets: 'any',
    uploadTimeoutMs: 60_000,
  });
  try {
    await app.ready();
    const routes: RegisteredRoute[] = [];
    // Each line is a tree prefix (4 characters a level), a path segment and its methods.
    const prefixes: string[] = [];
    for (const line of app.printRoutes({ commonPrefix: false }).split('\n')) {
      const match = /^([│ ├└─]*)(\S.*?) \(([A-Z, ]+)\)$/.exec(line);
      if (!match) continue;
      const depth = match[1]!.length / 4 - 1;
      const path = (prefixes[depth - 1] ?? '') + match[2]!;
      prefixes[depth] = path;
      for (const method of match[3]!.split(', ')) routes.push({ method, path });
    }
    return routes;
  } finally {
    await app.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
