import type { Logger } from 'pino';
import { createBackend } from './backends/create-backend.js';
import { systemClock, type Clock } from './clock.js';
import type { ResolvedConfig } from './config.js';
import { BackendLane } from './engine/backend-lane.js';
import { Lanes } from './engine/lanes.js';
import { Engine } from './engine/engine.js';
import { Maintenance } from './engine/maintenance.js';
import { DEFAULT_RETRY_POLICY } from './engine/outcome.js';
import { buildApp } from './http/app.js';
import { BatchIdGenerator, newOwnerId } from './ids.js';
import { SqliteStore } from './store/sqlite/sqlite-store.js';

export interface RunningServer {
  /** Where the server listens, e.g. `http://127.0.0.1:8787`. */
  url: string;
  /** Stops accepting requests, lets calls in flight finish for up to `graceMs`, closes the store. */
  close(graceMs?: number): Promise<void>;
}

export interface ServerDeps {
  logger: Logger;
  clock?: Clock;
}

/** Wires store, backend, engine, maintenance and HTTP together and starts listening. */
export async function startServer(config: ResolvedConfig, deps: ServerDeps): Promise<RunningServer> {
  const { logger, clock = systemClock } = deps;
  const store = new SqliteStore(config.db);
  const lanes = new Lanes(
    config.backends.map(
      (spec) =>
        new BackendLane({
          name: spec.name,
          backend: createBackend(spec),
          models: spec.models,
          ceiling: spec.concurrency,
          now: () => clock.now(),
          onAuthFailure: (lane, outcome) =>
            logger.error({ backend: lane, status: outcome.kind === 'error' ? outcome.status : 0 }, 'backend rejected our credentials: check its API key'),
        }),
    ),
  );
  const engine = new Engine({
    store,
    lanes,
    clock,
    logger,
    owner: newOwnerId(),
    maxHeld: 2 * config.backends.reduce((sum, spec) => sum + spec.concurrency, 0),
    leaseMs: config.leaseMs,
    retry: { ...DEFAULT_RETRY_POLICY, maxAttempts: config.maxAttempts },
  });
  const maintenance = new Maintenance({
    store,
    clock,
    logger,
    intervalMs: config.maintenanceIntervalMs,
    onRequeue: () => engine.wake(),
  });
  let publicUrl = config.publicUrl ?? '';
  const app = buildApp({
    store,
    lanes,
    clock,
    logger,
    ids: new BatchIdGenerator(),
    batchTtlMs: config.batchTtlMs,
    resultsTtlMs: config.resultsTtlMs,
    publicUrl: () => publicUrl,
    onCreated: () => engine.wake(),
  });
  await app.listen({ host: config.host, port: config.port });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  const url = `http://${host}:${port}`;
  if (!config.publicUrl) publicUrl = url;
  engine.start();
  maintenance.start();
  return {
    url,
    async close(graceMs = 10_000) {
      await app.close();
      await maintenance.stop();
      await engine.stop(graceMs);
      await lanes.close();
      await store.close();
    },
  };
}
