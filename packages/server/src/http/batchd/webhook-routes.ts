import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Clock } from '../../clock.js';
import { formatTimestamp } from '../../clock.js';
import { newWebhookEndpointId, newWebhookSecret } from '../../ids.js';
import type { WebhookDeliveryRecord, WebhookEndpointRecord, WebhookStore } from '../../store/webhook-store.js';
import { refusedHost } from '../../webhooks/public-fetch.js';
import { invalidRequest, notFound } from '../api-error.js';

export interface WebhookRouteDeps {
  webhooks: WebhookStore;
  clock: Clock;
  workspaceOf: (request: FastifyRequest) => string;
  /** `public`: URLs naming this host or a private address are refused (see `public-fetch.ts`). */
  targets: 'any' | 'public';
}

const ENDPOINTS_PATH = '/v1/batchd/webhooks';
/** Endpoints one workspace may register: each ended batch is sent to every one of them. */
export const MAX_ENDPOINTS = 20;
const MAX_URL_LENGTH = 2048;
const MAX_DESCRIPTION_LENGTH = 500;

/** Ids as batchd makes them; anything else is answered without reaching the store. */
const ENDPOINT_ID = /^whep_[0-9A-Za-z]{1,64}$/;
const DELIVERY_ID = /^evt_[0-9A-Za-z]{1,64}$/;

const iso = (ms: number | null) => (ms === null ? null : formatTimestamp(ms));

/** An endpoint as the API shows it at `now`: a pause that has ended is no longer shown. */
function toEndpoint(endpoint: WebhookEndpointRecord, now: number) {
  const paused = endpoint.pausedUntil !== null && endpoint.pausedUntil > now;
  return {
    id: endpoint.id,
    type: 'webhook_endpoint',
    url: endpoint.url,
    description: endpoint.description,
    secret: endpoint.secret,
    created_at: formatTimestamp(endpoint.createdAt),
    consecutive_failures: endpoint.consecutiveFailures,
    paused_until: paused ? iso(endpoint.pausedUntil) : null,
    disabled_at: iso(endpoint.disabledAt),
  };
}

function toDelivery(delivery: WebhookDeliveryRecord) {
  return {
    id: delivery.id,
    type: 'webhook_delivery',
    endpoint_id: delivery.endpointId,
    event_type: delivery.eventType,
    batch_id: delivery.batchId,
    status: delivery.state,
    attempts: delivery.attempts,
    next_attempt_at: iso(delivery.nextAttemptAt),
    last_status_code: delivery.lastStatus,
    last_error: delivery.lastError,
    created_at: formatTimestamp(delivery.createdAt),
    delivered_at: iso(delivery.deliveredAt),
    attempt_log: delivery.attemptLog.map((attempt) => ({
      attempt: attempt.attempt,
      attempted_at: formatTimestamp(attempt.attemptedAt),
      status_code: attempt.status,
      error: attempt.error,
    })),
  };
}

/** The `{url, description?}` of a create, checked field by field. */
function parseCreate(body: unknown, targets: 'any' | 'public'): { url: string; description: string | null } {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw invalidRequest('The body must be a JSON object with a "url".');
  const { url, description, ...rest } = body as Record<string, unknown>;
  const unknown = Object.keys(rest)[0];
  if (unknown !== undefined) throw invalidRequest(`${JSON.stringify(unknown)}: unexpected field; a webhook endpoint has "url" and "description".`);
  if (typeof url !== 'string' || url === '') throw invalidRequest('"url": required, the http or https URL to POST events to.');
  if (url.length > MAX_URL_LENGTH) throw invalidRequest(`"url": at most ${MAX_URL_LENGTH} characters.`);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw invalidRequest(`"url": ${JSON.stringify(url)} is not an absolute URL.`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw invalidRequest(`"url": must be http or https, got ${parsed.protocol.replace(/:$/, '')}.`);
  if (parsed.username !== '' || parsed.password !== '') throw invalidRequest('"url": must not carry a user name or password.');
  if (targets === 'public' && refusedHost(parsed) !== null) {
    throw invalidRequest(`"url": ${parsed.hostname} is not a public address; this server sends webhooks to public addresses only.`);
  }
  if (description !== undefined && description !== null && typeof description !== 'string') throw invalidRequest('"description": must be a string.');
  if (typeof description === 'string' && description.length > MAX_DESCRIPTION_LENGTH) {
    throw invalidRequest(`"description": at most ${MAX_DESCRIPTION_LENGTH} characters.`);
  }
  if (typeof description === 'string' && description.includes('\u0000')) throw invalidRequest('"description": must not contain NUL characters.');
  return { url: parsed.href, description: description ?? null };
}

function parseLimit(raw: string | undefined): number {
  if (raw === undefined) return 20;
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || value < 1 || value > 100) throw invalidRequest('limit: expected an integer from 1 to 100.');
  return value;
}

/**
 * The webhook API, scoped to the workspace of the request's key: register, list and remove
 * endpoints, and read (or retry) each endpoint's deliveries. Other workspaces' endpoints are 404.
 */
export function registerWebhookRoutes(app: FastifyInstance, deps: WebhookRouteDeps): void {
  const { webhooks, clock, workspaceOf } = deps;
  const endpointOf = async (request: FastifyRequest, id: string) => {
    const endpoint = ENDPOINT_ID.test(id) ? await webhooks.getEndpoint(workspaceOf(request), id) : null;
    if (!endpoint) throw notFound(`No webhook endpoint with id ${JSON.stringify(id)}.`);
    return endpoint;
  };

  app.post(ENDPOINTS_PATH, async (request) => {
    const { url, description } = parseCreate(request.body, deps.targets);
    const workspaceId = workspaceOf(request);
    const createdAt = clock.now();
    const endpoint: WebhookEndpointRecord = {
      id: newWebhookEndpointId(),
      workspaceId,
      url,
      secret: newWebhookSecret(),
      description,
      createdAt,
      consecutiveFailures: 0,
      pausedUntil: null,
      disabledAt: null,
    };
    if (!(await webhooks.createEndpoint(endpoint, MAX_ENDPOINTS))) {
      throw invalidRequest(`This workspace already has ${MAX_ENDPOINTS} webhook endpoints, the most it may have; remove one first.`);
    }
    return toEndpoint(endpoint, createdAt);
  });

  app.get(ENDPOINTS_PATH, async (request) => {
    const now = clock.now();
    return { data: (await webhooks.listEndpoints(workspaceOf(request))).map((endpoint) => toEndpoint(endpoint, now)) };
  });

  app.get<{ Params: { id: string } }>(`${ENDPOINTS_PATH}/:id`, async (request) => toEndpoint(await endpointOf(request, request.params.id), clock.now()));

  app.delete<{ Params: { id: string } }>(`${ENDPOINTS_PATH}/:id`, async (request) => {
    const { id } = request.params;
    if (!ENDPOINT_ID.test(id) || !(await webhooks.deleteEndpoint(workspaceOf(request), id))) {
      throw notFound(`No webhook endpoint with id ${JSON.stringify(id)}.`);
    }
    return { id, type: 'webhook_endpoint_deleted' };
  });

  app.get<{ Params: { id: string }; Querystring: { limit?: string; after_id?: string } }>(`${ENDPOINTS_PATH}/:id/deliveries`, async (request) => {
    const endpoint = await endpointOf(request, request.params.id);
    const afterId = request.query.after_id;
    if (afterId !== undefined && !DELIVERY_ID.test(afterId)) throw invalidRequest('after_id: expected a delivery id (evt_…).');
    const page = await webhooks.listDeliveries(endpoint.workspaceId, endpoint.id, { limit: parseLimit(request.query.limit), afterId });
    const data = page.deliveries.map(toDelivery);
    return { data, has_more: page.hasMore, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null };
  });

  app.post<{ Params: { id: string; deliveryId: string } }>(`${ENDPOINTS_PATH}/:id/deliveries/:deliveryId/retry`, async (request) => {
    const endpoint = await endpointOf(request, request.params.id);
    if (endpoint.disabledAt !== null) {
      throw invalidRequest('This endpoint is disabled: its receiver answered 410 Gone. Register the URL again to receive events.');
    }
    const { deliveryId } = request.params;
    const delivery = DELIVERY_ID.test(deliveryId) ? await webhooks.retryDelivery(endpoint.workspaceId, endpoint.id, deliveryId, clock.now()) : null;
    if (!delivery) throw notFound(`No delivery with id ${JSON.stringify(deliveryId)} for this endpoint.`);
    return toDelivery(delivery);
  });
}
