import type { FastifyInstance } from 'fastify';
import type { ListedModel, ModelCatalog } from '../backends/model-catalog.js';
import { invalidRequest, notFound } from './api-error.js';
import { singleValues } from './query-params.js';

/** Most models one page lists; a list asked for without `limit` is one page of this many. */
const MAX_PAGE = 1000;

/** A model as both APIs describe one: OpenAI's `object`, `created` and `owned_by`, Anthropic's `type`, `created_at` and `display_name`. */
function modelJson(model: ListedModel) {
  return {
    id: model.id,
    object: 'model',
    type: 'model',
    created: model.created,
    created_at: new Date(model.created * 1000).toISOString(),
    display_name: model.displayName,
    owned_by: model.backend,
  };
}

function parseLimit(raw: string | undefined): number {
  if (raw === undefined) return MAX_PAGE;
  const limit = Number(raw);
  if (!/^\d+$/.test(raw) || limit < 1 || limit > MAX_PAGE) throw invalidRequest(`limit: Input should be an integer between 1 and ${MAX_PAGE}`);
  return limit;
}

/**
 * `GET /v1/models` and `GET /v1/models/{model_id}`, as both SDKs' `models.list` and
 * `models.retrieve` call them (`model-catalog.ts` says which models are listed). One answer
 * serves both: each model carries both APIs' fields, and the list is OpenAI's `object: "list"`
 * with Anthropic's `has_more`, `first_id` and `last_id`, paged by `limit`, `after_id` and
 * `before_id` as the Models API pages (all models, up to 1,000, when no `limit` is given, as
 * OpenAI's list answers). A model no listed name has but a backend's pattern serves is retrieved
 * too; one no backend serves is 404.
 */
export function registerModelRoutes(app: FastifyInstance, catalog: ModelCatalog): void {
  app.get<{ Querystring: Record<string, unknown> }>('/v1/models', async (request) => {
    const query = singleValues(request.query, ['limit', 'after_id', 'before_id'] as const);
    const limit = parseLimit(query.limit);
    if (query.after_id !== undefined && query.before_id !== undefined) throw invalidRequest('before_id and after_id cannot be used together');
    const models = await catalog.list();
    const at = (id: string) => models.findIndex((model) => model.id === id);
    let page: ListedModel[];
    let hasMore: boolean;
    if (query.before_id !== undefined) {
      const before = models.slice(0, Math.max(0, at(query.before_id)));
      page = before.slice(-limit);
      hasMore = before.length > page.length;
    } else {
      const after = query.after_id === undefined ? models : at(query.after_id) === -1 ? [] : models.slice(at(query.after_id) + 1);
      page = after.slice(0, limit);
      hasMore = after.length > page.length;
    }
    return { object: 'list', data: page.map(modelJson), has_more: hasMore, first_id: page[0]?.id ?? null, last_id: page.at(-1)?.id ?? null };
  });

  app.get<{ Params: { id: string } }>('/v1/models/:id', async (request) => {
    const model = await catalog.find(request.params.id);
    if (!model) throw notFound(`model: ${request.params.id} is not served by any configured backend`);
    return modelJson(model);
  });
}
