import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { afterAll } from 'vitest';
import { ModelCatalog } from '../../src/backends/model-catalog.js';
import { systemClock } from '../../src/clock.js';
import { Lanes } from '../../src/engine/lanes.js';
import { buildApp, type AppDeps } from '../../src/http/app.js';
import { BatchIdGenerator } from '../../src/ids.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';

/** batchd's HTTP application on `store`, without backends or an engine, keys not checked unless `overrides` says so. */
export function buildTestApp(store: AppDeps['store'], overrides: Partial<AppDeps> = {}): FastifyInstance {
  return buildApp({
    store,
    lanes: new Lanes([]),
    models: new ModelCatalog([], { clock: systemClock, logger: pino({ level: 'silent' }) }),
    clock: systemClock,
    logger: pino({ level: 'silent' }),
    ids: new BatchIdGenerator(),
    batchTtlMs: 3_600_000,
    resultsTtlMs: 7_200_000,
    publicUrl: () => '',
    onCreated: () => undefined,
    onCanceled: () => undefined,
    auth: 'none',
    webhookTargets: 'any',
    uploadTimeoutMs: 60_000,
    maxFollowsPerWorkspace: 32,
    maxResultsStreamsPerWorkspace: 32,
    maxConnections: 4_096,
    minFreeDiskBytes: 0,
    ...overrides,
  });
}

/**
 * The test app on a new SQLite store in a directory of its own, listening on loopback; closed, and
 * the directory removed, once the test file's tests have run (call it at the file's top level).
 */
export async function listenTestApp(name: string): Promise<{ app: FastifyInstance; store: SqliteStore; url: string }> {
  const dir = mkdtempSync(join(tmpdir(), `batchd-${name}-`));
  const store = new SqliteStore(join(dir, 'db.sqlite'));
  const app = buildTestApp(store);
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  afterAll(async () => {
    await app.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { app, store, url };
}
