import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Gauge, Registry } from 'prom-client';
import type { Lanes } from '../engine/lanes.js';
import type { BatchStore } from '../store/store.js';
import { notFound } from './api-error.js';

export interface ExtensionRouteDeps {
  store: BatchStore;
  lanes: Lanes;
  workspaceOf: (request: FastifyRequest) => string;
}

/** What a backend lane is doing, for the dashboard and operators. */
function laneStatus(lanes: Lanes) {
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
 * batchd's own endpoints beside the official API: a batch's token usage, the backends'
 * state, and Prometheus metrics. None of them changes an official response shape.
 */
export function registerExtensionRoutes(app: FastifyInstance, deps: ExtensionRouteDeps): void {
  const registry = metricsRegistry(deps.lanes);

  app.get<{ Params: { id: string } }>('/v1/messages/batches/:id/usage', async (request) => {
    const batch = await deps.store.getBatch(deps.workspaceOf(request), request.params.id);
    if (!batch || batch.dialect !== 'messages') throw notFound(`No message batch with id ${JSON.stringify(request.params.id)}.`);
    return { id: batch.id, type: 'message_batch_usage', usage: batch.usage };
  });

  app.get('/v1/batchd/backends', async () => ({ data: laneStatus(deps.lanes) }));

  app.get('/metrics', async (_request, reply) => {
    reply.header('content-type', registry.contentType);
    return registry.metrics();
  });
}
