import type { BackendReplicaStatus, BackendStatus } from '@batchd/sdk';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { Gauge, Registry } from 'prom-client';
import type { BackendLane, LaneTokens } from '../../engine/backend-lane.js';
import type { Lanes } from '../../engine/lanes.js';
import type { ProviderBatchStats } from '../../engine/provider-batch-stats.js';
import { newRequestId } from '../../ids.js';
import { notFound } from '../api-error.js';
import { largeJson, largeJsonWaiting } from '../large-json.js';

/** What a backend lane is doing, for the dashboard and operators; its replicas when it has several. */
export function laneStatus(lanes: Lanes): BackendStatus[] {
  return lanes.all.map((lane) => {
    const replicas = lane.backend.replicas?.() ?? [];
    return {
      name: lane.name,
      type: lane.backend.name,
      concurrency_limit: lane.limit.limit,
      in_flight: lane.inFlight,
      paused: lane.paused,
      ...lane.stats,
      ...(replicas.length > 1 ? { replicas } : {}),
    };
  });
}

function replicaGauge(registry: Registry, lanes: Lanes, name: string, help: string, read: (replica: BackendReplicaStatus) => number): void {
  new Gauge({
    name,
    help,
    labelNames: ['backend', 'replica'],
    registers: [registry],
    collect() {
      this.reset();
      for (const status of laneStatus(lanes)) for (const replica of status.replicas ?? []) this.set({ backend: status.name, replica: replica.url }, read(replica));
    },
  });
}

/** A gauge with a `backend` label, read from each of `backends` at every scrape. */
function backendGauge<T extends { name: string }>(registry: Registry, backends: T[], name: string, help: string, read: (backend: T) => number): void {
  new Gauge({
    name,
    help,
    labelNames: ['backend'],
    registers: [registry],
    collect() {
      for (const backend of backends) this.set({ backend: backend.name }, read(backend));
    },
  });
}

/** The counters of the provider-batch backends (`anthropic-batch`, `openai-batch`). */
function providerGauges(registry: Registry, providers: ProviderBatchStats[]): void {
  const perProvider = (name: string, help: string, read: (stats: ProviderBatchStats) => number) => backendGauge(registry, providers, name, help, read);
  perProvider('batchd_provider_batches_submitted_total', 'Provider batches created at the provider', (s) => s.submitted);
  perProvider('batchd_provider_requests_submitted_total', 'Requests sent in provider batches', (s) => s.requestsSubmitted);
  perProvider('batchd_provider_polls_total', 'Times a running provider batch was asked about', (s) => s.polls);
  perProvider('batchd_provider_call_failures_total', 'Provider calls that failed and are tried again after a back-off', (s) => s.callFailures);
  perProvider('batchd_provider_batches_held', 'Live provider batches this process holds', (s) => s.held);
  new Gauge({
    name: 'batchd_provider_results_total',
    help: 'Results read from provider batches, by type',
    labelNames: ['backend', 'type'],
    registers: [registry],
    collect() {
      for (const stats of providers) for (const [type, count] of Object.entries(stats.results)) this.set({ backend: stats.name, type }, count);
    },
  });
}

/** Bytes the store can still write; null when it cannot tell (see `BatchesStore.freeBytes`). */
export type FreeBytes = () => Promise<number | null>;

function metricsRegistry(lanes: Lanes, freeBytes: FreeBytes): Registry {
  const registry = new Registry();
  new Gauge({
    name: 'batchd_store_free_bytes',
    help: 'Bytes the store can still write on its disk (SQLite): creates and uploads are refused once they would leave less than --min-free-disk-mb',
    registers: [registry],
    async collect() {
      const free = await freeBytes();
      if (free !== null) this.set(free);
    },
  });
  const largeJsonGauge = (name: string, help: string, read: () => number) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        this.set(read());
      },
    });
  largeJsonGauge('batchd_large_json_bytes', 'Bytes of large request bodies and params held while they are read, parsed, and answered or stored', () => largeJson.taken);
  largeJsonGauge('batchd_large_json_waiting', 'Large request bodies and params left unread until the bytes held, or their client address\'s half of them, have room', () => largeJsonWaiting().waiting);
  largeJsonGauge('batchd_large_json_addresses', 'Client addresses holding or waiting for large JSON', () => largeJsonWaiting().addresses);
  const perLane = (name: string, help: string, read: (lane: BackendLane) => number) => backendGauge(registry, lanes.all, name, help, read);
  perLane('batchd_backend_concurrency_limit', 'Calls the adaptive limit allows in flight', (l) => l.limit.limit);
  perLane('batchd_backend_in_flight', 'Calls in flight', (l) => l.inFlight);
  perLane('batchd_backend_paused', '1 while a rate-limit budget is spent', (l) => (l.paused ? 1 : 0));
  perLane('batchd_backend_calls_total', 'Calls made', (l) => l.stats.calls);
  perLane('batchd_backend_succeeded_total', 'Calls answered with a message', (l) => l.stats.succeeded);
  perLane('batchd_backend_rate_limited_total', 'Calls answered 429', (l) => l.stats.rateLimited);
  perLane('batchd_backend_overloaded_total', 'Calls answered 529 or 503', (l) => l.stats.overloaded);
  perLane('batchd_backend_server_errors_total', 'Calls answered 5xx', (l) => l.stats.serverErrors);
  perLane('batchd_backend_auth_failures_total', 'Calls answered 401 or 403: check the upstream key', (l) => l.stats.authFailures);
  // Tokens of batch answers, direct or through provider batches, for a cache hit rate: read / (read + write + input).
  const withTokens: Array<{ name: string; tokens: LaneTokens }> = [...lanes.all, ...lanes.providers];
  const perBackendTokens = (name: string, help: string, read: (tokens: LaneTokens) => number) => backendGauge(registry, withTokens, name, help, (b) => read(b.tokens));
  perBackendTokens('batchd_backend_input_tokens_total', 'Uncached input tokens of batch answers', (t) => t.input);
  perBackendTokens('batchd_backend_output_tokens_total', 'Output tokens of batch answers', (t) => t.output);
  perBackendTokens('batchd_backend_cache_read_tokens_total', 'Input tokens of batch answers read from a prompt cache', (t) => t.cacheRead);
  perBackendTokens('batchd_backend_cache_write_tokens_total', 'Input tokens of batch answers written to a prompt cache', (t) => t.cacheWrite);
  providerGauges(registry, lanes.providers);
  replicaGauge(registry, lanes, 'batchd_backend_replica_in_flight', 'Calls in flight to one replica of a backend', (r) => r.in_flight);
  replicaGauge(registry, lanes, 'batchd_backend_replica_up', '0 while a replica is skipped after failing', (r) => (r.up ? 1 : 0));
  return registry;
}

/**
 * `GET /metrics`, the lanes and the store's free space for Prometheus. On the API port it is an
 * `operator` route: it needs a key under `--auth keys`.
 */
export function registerMetricsRoute(app: FastifyInstance, lanes: Lanes, freeBytes: FreeBytes): void {
  const registry = metricsRegistry(lanes, freeBytes);
  app.get('/metrics', { config: { access: 'operator' } }, async (_request, reply) => {
    reply.header('content-type', registry.contentType);
    return registry.metrics();
  });
}

/**
 * The listener of `--metrics-port`, for scrapers that hold no key: `GET /metrics` without one,
 * and nothing else.
 */
export function buildMetricsApp(lanes: Lanes, freeBytes: FreeBytes, logger: Logger): FastifyInstance {
  const app = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    genReqId: () => newRequestId(),
    requestIdHeader: false,
  });
  app.setNotFoundHandler((request, reply) =>
    reply.status(404).send(notFound(`${request.method} ${request.url.split('?')[0]} does not exist; this listener serves GET /metrics.`).toEnvelope(request.id)),
  );
  registerMetricsRoute(app, lanes, freeBytes);
  return app;
}
