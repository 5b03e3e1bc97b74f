import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { isProviderBatch, type BackendSpec, type ProviderBatchType } from './backends/backend-spec.js';
import { createBackend } from './backends/create-backend.js';
import { createProviderBatchClient } from './backends/provider-batch/create-provider-batch-client.js';
import { TokenCounters } from './backends/token-counters.js';
import { systemClock, type Clock } from './clock.js';
import { isLoopback, type ResolvedConfig } from './config.js';
import { BackendLane } from './engine/backend-lane.js';
import { Engine, LIMITS_CLAIMED } from './engine/engine.js';
import { Lanes } from './engine/lanes.js';
import { ModelCatalog } from './backends/model-catalog.js';
import { PriceList } from './pricing/price-list.js';
import { Maintenance } from './engine/maintenance.js';
import { ProviderBatchStats } from './engine/provider-batch-stats.js';
import { ProviderBatches } from './engine/provider-batches.js';
import { providerAtCreate } from './engine/provider-routing.js';
import { DEFAULT_RETRY_POLICY } from './engine/retry-policy.js';
import { buildApp } from './http/app.js';
import { defaultMaxConnections } from './http/connection-limits.js';
import { loopbackHostCheck } from './http/host-check.js';
import { buildMetricsApp } from './http/batchd/lane-metrics.js';
import { BatchIdGenerator, newOwnerId } from './ids.js';
import { matchesAnyModel } from './model-pattern.js';
import { openStore } from './store/open-store.js';
import type { BatchStore, QueueStore } from './store/store.js';
import { publicOnlyFetch } from './webhooks/public-fetch.js';
import { retryScaleFor } from './webhooks/retry-schedule.js';
import { WebhookDispatcher } from './webhooks/webhook-dispatcher.js';

export interface RunningServer {
  /** Where the server listens, e.g. `http://127.0.0.1:8787`. */
  url: string;
  /** Where the `--metrics-port` listener listens, when there is one. */
  metricsUrl?: string;
  /** Stops accepting requests, lets calls in flight finish for up to `graceMs`, closes the store. */
  close(graceMs?: number): Promise<void>;
}

export interface RunningWorker {
  /** Where the `--metrics-port` listener listens, when there is one. */
  metricsUrl?: string;
  /** Stops claiming, lets calls in flight finish for up to `graceMs`, closes the store. */
  close(graceMs?: number): Promise<void>;
}

export interface ServerDeps {
  logger: Logger;
  clock?: Clock;
  /** False for an API-only node (`serve --no-engine`): batches are run by `batchd worker` nodes. */
  runEngine?: boolean;
}

const MIB = 1024 * 1024;

/** Requests one provider-batch backend holds at once while routing them (they are not called, only handed over). */
const PROVIDER_ROUTING_SLOTS = 4096;

function directSpecs(config: ResolvedConfig): Array<BackendSpec & { type: Exclude<BackendSpec['type'], ProviderBatchType> }> {
  return config.backends.filter((spec): spec is BackendSpec & { type: Exclude<BackendSpec['type'], ProviderBatchType> } => !isProviderBatch(spec));
}

/**
 * The provider-batch backend a model goes to: the first configured backend that serves the
 * model, when it is of a provider-batch kind; undefined when a direct backend (a lane) serves it first.
 */
function providerRoute(config: ResolvedConfig): (model: string) => string | undefined {
  const routes = config.backends.map((spec) => ({ serves: matchesAnyModel(spec.models), provider: isProviderBatch(spec) ? spec.name : undefined }));
  return (model) => routes.find((route) => route.serves(model))?.provider;
}

/** The provider-batch backend that serves every model when it comes first in the config (`"*"` among its models). */
function providerForAll(config: ResolvedConfig): string | undefined {
  const first = config.backends[0];
  return first && isProviderBatch(first) && first.models.includes('*') ? first.name : undefined;
}

function buildLanes(config: ResolvedConfig, store: QueueStore, clock: Clock, logger: Logger): Lanes {
  return new Lanes(
    directSpecs(config).map(
      (spec) =>
        new BackendLane({
          name: spec.name,
          backend: createBackend(spec),
          kind: spec.type,
          models: spec.models,
          ceiling: spec.concurrency,
          prefixCache: spec.cacheAware ? { breakpointsOnly: spec.type === 'anthropic', capacityTokens: spec.prefixCacheTokens } : undefined,
          now: () => clock.now(),
          onPause: (lane, until) => void store.pauseBackend?.(lane, until).catch((error: unknown) => logger.warn({ err: error }, 'recording a backend pause failed')),
          onAuthFailure: (lane, outcome) =>
            logger.error({ backend: lane, status: outcome.kind === 'error' ? outcome.status : 0 }, 'backend rejected our credentials: check its API key'),
        }),
    ),
    config.backends.filter(isProviderBatch).map((spec) => new ProviderBatchStats(spec.name)),
  );
}

/** `http://HOST:PORT`, with an IPv6 host in brackets. */
function httpUrl(host: string, port: number): string {
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/** Starts `app` listening; returns its URL as bound. */
async function listen(app: FastifyInstance, host: string, port: number): Promise<string> {
  await app.listen({ host, port });
  const address = app.server.address();
  return httpUrl(host, typeof address === 'object' && address ? address.port : port);
}

/** The `--metrics-port` listener, when one is asked for. */
async function startMetrics(config: ResolvedConfig, lanes: Lanes, store: BatchStore, logger: Logger): Promise<{ app: FastifyInstance; url: string } | undefined> {
  if (config.metricsPort === null) return undefined;
  const app = buildMetricsApp(lanes, () => store.freeBytes(), logger);
  return { app, url: await listen(app, config.metricsHost, config.metricsPort) };
}

interface EngineParts {
  wake(routed: boolean): void;
  batchCanceling(batchId: string): void;
  stop(graceMs: number): Promise<void>;
}

/**
 * Starts the engine, the maintenance loop and the webhook dispatcher on `store`, the engine woken
 * by the store's notifications when it has them. `publicUrl` is the base of `results_url` in events.
 */
function startEngine(config: ResolvedConfig, store: BatchStore, lanes: Lanes, clock: Clock, logger: Logger, publicUrl: () => string): EngineParts {
  const owner = newOwnerId();
  const providerSpecs = config.backends.filter(isProviderBatch);
  const providerSlots = PROVIDER_ROUTING_SLOTS * providerSpecs.length;
  const prices = new PriceList(config.prices);
  const providers = providerSpecs.map(
    (spec) =>
      new ProviderBatches({
        name: spec.name,
        type: spec.type,
        client: createProviderBatchClient(spec),
        store: store.providerBatches,
        clock,
        logger,
        owner,
        pollIntervalMs: config.providerPollIntervalMs,
        leaseMs: Math.max(config.leaseMs, 2 * config.providerPollIntervalMs),
        prices,
        stats: lanes.providers.find((stats) => stats.name === spec.name)!,
      }),
  );
  const engine = new Engine({
    store,
    lanes,
    clock,
    logger,
    owner,
    maxHeld: LIMITS_CLAIMED * directSpecs(config).reduce((sum, spec) => sum + spec.concurrency, 0) + providerSlots,
    providerRoute: providerSpecs.length > 0 ? providerRoute(config) : undefined,
    providerSlots,
    providerForAll: providerForAll(config),
    onRouted: (drained) => providers.forEach((provider) => provider.routed(drained)),
    clusterLimit: config.clusterConcurrency ?? undefined,
    leaseMs: config.leaseMs,
    retry: { ...DEFAULT_RETRY_POLICY, maxAttempts: config.maxAttempts },
    prices,
  });
  const maintenance = new Maintenance({ store, clock, logger, intervalMs: config.maintenanceIntervalMs, onRequeue: () => engine.wake() });
  const webhooks = new WebhookDispatcher({
    store: store.webhooks,
    clock,
    logger,
    owner,
    publicUrl,
    intervalMs: config.maintenanceIntervalMs,
    timeoutMs: config.webhookTimeoutMs,
    retryScale: retryScaleFor(config.webhookRetryBaseMs),
    fetch: config.webhookTargets === 'public' ? publicOnlyFetch() : undefined,
  });
  const unsubscribe = store.subscribeWork?.(() => engine.wake());
  engine.start();
  for (const provider of providers) provider.start();
  maintenance.start();
  webhooks.start();
  return {
    wake: (routed) => engine.wake(routed),
    batchCanceling: (batchId) => engine.batchCanceling(batchId),
    async stop(graceMs) {
      unsubscribe?.();
      await maintenance.stop();
      await webhooks.stop();
      await Promise.all(providers.map((provider) => provider.stop()));
      await engine.stop(graceMs);
    },
  };
}

/** Wires store, backends, engine, maintenance and HTTP together and starts listening. */
export async function startServer(config: ResolvedConfig, deps: ServerDeps): Promise<RunningServer> {
  const { logger, clock = systemClock } = deps;
  const store = await openStore(config.db, logger, { resultsFileMinRequests: config.resultsFileMinRequests, minFreeDiskBytes: config.minFreeDiskMb * MIB, clock });
  const lanes = buildLanes(config, store, clock, logger);
  const counters = new TokenCounters(config.backends, (name) => lanes.all.find((lane) => lane.name === name)!.backend);
  let engine: EngineParts | undefined;
  let publicUrl = config.publicUrl ?? '';
  const app = buildApp({
    store,
    lanes,
    models: new ModelCatalog(config.backends, { clock, logger }),
    tokenCounter: (model) => counters.for(model),
    clock,
    logger,
    ids: new BatchIdGenerator(),
    batchTtlMs: config.batchTtlMs,
    resultsTtlMs: config.resultsTtlMs,
    publicUrl: () => publicUrl,
    onCreated: (routed) => engine?.wake(routed),
    providerAtCreate: providerAtCreate(providerForAll(config)),
    onCanceled: (batchId) => engine?.batchCanceling(batchId),
    auth: config.auth,
    webhookTargets: config.webhookTargets,
    rateLimitPerMinute: config.rateLimitRpm ?? undefined,
    maxQueuedRequests: config.maxQueuedRequests ?? undefined,
    maxFollowsPerWorkspace: config.maxFollowsPerWorkspace,
    maxResultsStreamsPerWorkspace: config.maxResultsStreamsPerWorkspace,
    minFreeDiskBytes: config.minFreeDiskMb * MIB,
    maxFileBytesPerWorkspace: config.maxFileStorageMbPerWorkspace === null ? undefined : config.maxFileStorageMbPerWorkspace * MIB,
    // Without keys, a page the user opens could reach a loopback server through a name of its own.
    hostAllowed: config.auth === 'none' && isLoopback(config.host) ? loopbackHostCheck(config.publicUrl) : undefined,
    uploadTimeoutMs: config.uploadTimeoutMs,
    maxConnections: config.maxConnections ?? defaultMaxConnections(),
  });
  if (config.auth === 'none' && !isLoopback(config.host)) logger.warn({ host: config.host }, 'authentication is off (--auth none) on an address other machines can reach');
  const url = await listen(app, config.host, config.port);
  const metrics = await startMetrics(config, lanes, store, logger);
  if (!config.publicUrl) publicUrl = url;
  if (deps.runEngine !== false) engine = startEngine(config, store, lanes, clock, logger, () => publicUrl);
  return {
    url,
    metricsUrl: metrics?.url,
    async close(graceMs = 10_000) {
      await metrics?.app.close();
      await app.close();
      await engine?.stop(graceMs);
      await Promise.all([lanes.close(), counters.close()]);
      await store.close();
    },
  };
}

/** A node that only runs batches (`batchd worker`): the engine and maintenance, no HTTP. */
export async function startWorker(config: ResolvedConfig, deps: ServerDeps): Promise<RunningWorker> {
  const { logger, clock = systemClock } = deps;
  const store = await openStore(config.db, logger, { resultsFileMinRequests: config.resultsFileMinRequests, minFreeDiskBytes: config.minFreeDiskMb * MIB, clock });
  const lanes = buildLanes(config, store, clock, logger);
  const publicUrl = config.publicUrl ?? httpUrl(config.host, config.port);
  const engine = startEngine(config, store, lanes, clock, logger, () => publicUrl);
  const metrics = await startMetrics(config, lanes, store, logger);
  return {
    metricsUrl: metrics?.url,
    async close(graceMs = 10_000) {
      await metrics?.app.close();
      await engine.stop(graceMs);
      await lanes.close();
      await store.close();
    },
  };
}
