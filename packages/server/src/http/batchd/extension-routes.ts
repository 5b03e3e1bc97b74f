import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Lanes } from '../../engine/lanes.js';
import type { ProviderBatchStore } from '../../store/provider-batch-store.js';
import type { BatchesStore } from '../../store/store.js';
import { batchUsage } from '../../wire/batch-usage.js';
import { providerBatchJson } from '../../wire/provider-batch.js';
import { notFound } from '../api-error.js';
import { laneStatus, registerMetricsRoute } from './lane-metrics.js';

export interface ExtensionRouteDeps {
  store: BatchesStore & { providerBatches: Pick<ProviderBatchStore, 'batchSubmissions'> };
  lanes: Lanes;
  workspaceOf: (request: FastifyRequest) => string;
}

/**
 * batchd's own endpoints beside the official API: a batch's token usage, cost and provider
 * batches, the backends' state, and Prometheus metrics. None of them changes an official response shape.
 */
export function registerExtensionRoutes(app: FastifyInstance, deps: ExtensionRouteDeps): void {
  app.get<{ Params: { id: string } }>('/v1/messages/batches/:id/usage', async (request) => {
    const batch = await deps.store.getBatch(deps.workspaceOf(request), request.params.id);
    if (!batch || batch.dialect !== 'messages') throw notFound(`No message batch with id ${JSON.stringify(request.params.id)}.`);
    return batchUsage(batch);
  });

  app.get<{ Params: { id: string } }>('/v1/messages/batches/:id/provider_batches', async (request) => {
    const batch = await deps.store.getBatch(deps.workspaceOf(request), request.params.id);
    if (!batch || batch.dialect !== 'messages') throw notFound(`No message batch with id ${JSON.stringify(request.params.id)}.`);
    return { data: (await deps.store.providerBatches.batchSubmissions(batch.id)).map(providerBatchJson) };
  });

  app.get('/v1/batchd/backends', async () => ({ data: laneStatus(deps.lanes) }));
  registerMetricsRoute(app, deps.lanes, () => deps.store.freeBytes());
}
