import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { Gauge, Registry } from 'prom-client';
import type { Lanes } from '../../engine/lanes.js';
import { newRequestId } from '../../ids.js';
import { notFound } from '../api-error.js';

/** What a backend lane is doing, for the dashboard and operators. */
export function laneStatus(lanes: Lanes) {
  return lanes.all.map((lane) => ({
    name: lane.name,
    type: lane.backend.name,
    concurrency_limit: lane.limit.limit,
    in_flight: lane.inFlight,
    paused: lane.paused,
    ...lane.stats,
  }));
}

function metricsRegistry(lanes: Lanes): Registry {
  const registry = new Registry();
  const perLane = (name: string, help: string, read: (status: ReturnType<typeof laneStatus>[number]) => number) =>
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
