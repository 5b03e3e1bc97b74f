import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { systemClock } from '../../src/clock.js';
import { Lanes } from '../../src/engine/lanes.js';
import { buildApp, type AppDeps } from '../../src/http/app.js';
import { BatchIdGenerator } from '../../src/ids.js';

/** batchd's HTTP application on `store`, without backends or an engine, keys not checked unless `overrides` says so. */
export function buildTestApp(store: AppDeps['store'], overrides: Partial<AppDeps> = {}): FastifyInstance {
  return buildApp({
    store,
    lanes: new Lanes([]),
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
    ...overrides,
  });
}
