import type { BackendReplicaStatus, BackendStatus } from '@batchd/sdk';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { Gauge, Registry } from 'prom-client';
import type { Lanes } from '../../engine/lanes.js';
import { newRequestId } from '../../ids.js';
import { notFound } from '../api-error.js';

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

function metricsRegistry(lanes: Lanes): Registry {
  const registry = new Registry();
  const perLane = (name: string, help: string, read: (status: BackendStatus) => number) =>
    new Gauge({
      name,
      help,
      labelNames: ['backend'],
      registers: [registry],
      collect() {
        for (const status of laneStatus(lanes)) this.set({ backend: status.name }, read(status));
      },
    });
  perLane('batchd_backend_concurrency_limit', 'Calls the adaptive limit allows in flight', (s) => s.concurrency_limit);
  perLane('batchd_backend_in_flight', 'Calls in flight', (s) => s.in_flight);
  perLane('batchd_backend_paused', '1 while a rate-limit budget is spent', (s) => (s.paused ? 1 : 0));
  perLane('batchd_backend_calls_total', 'Calls made', (s) => s.calls);
  perLane('batchd_backend_succeeded_total', 'Calls answered with a message', (s) => s.succeeded);
  perLane('batchd_backend_rate_limited_total', 'Calls answered 429', (s) => s.rateLimited);
  perLane('batchd_backend_overloaded_total', 'Calls answered 529 or 503', (s) => s.overloaded);
  perLane('batchd_backend_server_errors_total', 'Calls answered 5xx', (s) => s.serverErrors);
  perLane('batchd_backend_auth_failures_total', 'Calls answered 401 or 403: check the upstream key', (s) => s.authFailures);
  replicaGauge(registry, lanes, 'batchd_backend_replica_in_flight', 'Calls in flight to one replica of a backend', (r) => r.in_flight);
  replicaGauge(registry, lanes, 'batchd_backend_replica_up', '0 while a replica is skipped after failing', (r) => (r.up ? 1 : 0));
  return registry;
}

/**
 * `GET /metrics`, the lanes for Prometheus. On the API port it is an `operator` route: it needs
 * a key under `--auth keys`.
 */
export function registerMetricsRoute(app: FastifyInstance, lanes: Lanes): void {
  const registry = metricsRegistry(lanes);
  app.get('/metrics', { config: { access: 'operator' } }, async (_request, reply) => {
    reply.header('content-type', registry.contentType);
    return registry.metrics();
  });
}

/**
 * The listener of `--metrics-port`, for scrapers that hold no key: `GET /metrics` without one,
 * and nothing else.
 */
export function buildMetricsApp(lanes: Lanes, logger: Logger): FastifyInstance {
  const app = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    genReqId: () => newRequestId(),
    requestIdHeader: false,
  });
  app.setNotFoundHandler((request, reply) =>
    reply.status(404).send(notFound(`${request.method} ${request.url.split('?')[0]} does not exist; this listener serves GET /metrics.`).toEnvelope(request.id)),
  );
  registerMetricsRoute(app, lanes);
  return app;
}
