import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance, type FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { DASHBOARD_DIR } from '../dashboard-dir.js';
import { newRequestId } from '../ids.js';
import { type ApiError, envelopeFor, invalidRequest, notFound, permissionError, rateLimitError, toApiError } from './api-error.js';
import { Authenticator, type AuthMode } from './authenticator.js';
import { registerBatchRoutes, type BatchRouteDeps } from './anthropic/batch-routes.js';
import { registerDashboard } from './batchd/dashboard-route.js';
import { answerClientError } from './client-error.js';
import { limitConnections } from './connection-limits.js';
import { acceptEmptyBodies } from './empty-body.js';
import { refuseBodyEncodings } from './body-encoding.js';
import { registerExtensionRoutes } from './batchd/extension-routes.js';
import { registerMessagesRoute } from './anthropic/messages-route.js';
import { registerOpenAIRoutes } from './openai/openai-routes.js';
import { RateLimiter } from './rate-limiter.js';
import { StreamSlots } from './stream-slots.js';
import { StorageReserve } from './storage-reserve.js';
import { UPLOAD_IDLE_MS, watchUploads } from './upload-watch.js';
import { registerWebhookRoutes } from './batchd/webhook-routes.js';
import type { Lanes } from '../engine/lanes.js';
import type { ModelCatalog } from '../backends/model-catalog.js';
import { registerModelRoutes } from './models-route.js';
import { counterOf, type TokenCounter } from '../backends/token-counters.js';
import type { BatchesStore, BatchStore } from '../store/store.js';

export interface AppDeps extends Omit<BatchRouteDeps, 'store' | 'workspaceOf' | 'callerOf' | 'keyStillOpens' | 'resultStreams' | 'storage'> {
  /** Batches, with the API keys that open workspaces and the webhooks kept beside them. */
  store: BatchesStore & Pick<BatchStore, 'apiKeys' | 'webhooks' | 'providerBatches'>;
  logger: Logger;
  lanes: Lanes;
  /** The models served by name, for `GET /v1/models`. */
  models: ModelCatalog;
  /** Who counts a model's tokens; the backend of the model's lane when absent. */
  tokenCounter?: (model: string) => TokenCounter | undefined;
  auth: AuthMode;
  /** Where webhooks may be sent: `public` refuses endpoints on this host or a private network. */
  webhookTargets: 'any' | 'public';
  /** Most batch-endpoint requests per minute for each workspace; none when absent. */
  rateLimitPerMinute?: number;
  /** When given, only requests whose Host it accepts are served; others get 403 (see `host-check.ts`). */
  hostAllowed?: (host: string) => boolean;
  /** Longest a request's body may take to arrive. */
  uploadTimeoutMs: number;
  /** Most connections held open; one client address may hold half. */
  maxConnections: number;
  /** Most results streams (other than follow streams) a workspace may hold open on this node. */
  maxResultsStreamsPerWorkspace: number;
  /** Free space on the store's disk that creates and uploads may not take (see `storage-reserve.ts`); 0 for none. */
  minFreeDiskBytes: number;
  /** Most bytes of uploaded files a workspace may store; none when absent. */
  maxFileBytesPerWorkspace?: number;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The workspace the request's key opens (set for every request that needs a key). */
    workspace: string;
    /** Who sent the request: the key's id, or its hash when keys are not checked (set for every request that needs a key). */
    caller: string;
  }
  interface FastifyContextConfig {
    /**
     * Who may call the route. `public`: anyone (health, the dashboard's files); `operator`: a key
     * only under `--auth keys` (metrics); absent: a key always. Decided on the route the router
     * matched, never on the raw URL.
     */
    access?: 'public' | 'operator';
    /** Counted by `--rate-limit-rpm` (set from the route's path when it is registered). */
    rateLimited?: boolean;
  }
}

/** The batch endpoints `--rate-limit-rpm` counts: these paths and every path below them. */
const LIMITED_PATHS = ['/v1/messages/batches', '/v1/batches', '/v1/files', '/v1/uploads'];

const routeMissing = (request: FastifyRequest) => notFound(`${request.method} ${request.url.split('?')[0]} does not exist.`);

/** `failure` in the envelope of the API whose path the request names. */
const envelopeOf = (request: FastifyRequest, failure: ApiError) => envelopeFor(request.url, failure, request.id);

/** Who counts `model`'s tokens when the app is given no `tokenCounter`: the backend of the lane serving it. */
function laneCounter(lanes: Lanes, model: string): TokenCounter | undefined {
  const lane = lanes.for(model);
  return lane && counterOf(lane.backend, lane.name);
}

/**
 * Builds the HTTP application (without listening): request ids, authentication, the error
 * envelope on every failure, and the routes.
 */
export function buildApp(deps: AppDeps): FastifyInstance {
  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    // Per-request lines would dominate the log at batch rates; failures are logged by the error handler.
    logController: new LogController({ disableRequestLogging: true }),
    genReqId: () => newRequestId(),
    requestIdHeader: false,
    // Batch ids are short; this bounds what a hostile client can make the router hold.
    routerOptions: { maxParamLength: 200 },
    // Requests the HTTP parser refuses, and those the router cannot even read (a bad percent-encoding), still get the envelope.
    clientErrorHandler: answerClientError,
    // Node would answer a missing Host with a bare 400; the hook below answers it in the envelope.
    http: { requireHostHeader: false },
    frameworkErrors: (error, request, reply) => {
      const body = JSON.stringify(envelopeOf(request, invalidRequest(error.message)));
      void reply.code(400 as never).header('request-id', request.id).header('content-type', 'application/json; charset=utf-8').send(body as never);
    },
  });
  acceptEmptyBodies(app);
  limitConnections(app.server, deps.maxConnections);

  watchUploads(app, { idleMs: UPLOAD_IDLE_MS, timeoutMs: deps.uploadTimeoutMs });

  app.addHook('onRoute', (route) => {
    if (LIMITED_PATHS.some((path) => route.url === path || route.url.startsWith(`${path}/`))) route.config = { ...route.config, rateLimited: true };
  });

  const authenticator = new Authenticator(deps.auth, deps.store.apiKeys, () => deps.clock.now());
  const limiter = deps.rateLimitPerMinute ? new RateLimiter(deps.rateLimitPerMinute, () => deps.clock.now()) : null;
  app.decorateRequest('workspace', '');
  app.decorateRequest('caller', '');
  app.addHook('onRequest', async (request, reply) => {
    reply.header('request-id', request.id);
    if (request.headers.host === undefined && request.raw.httpVersion === '1.1') throw invalidRequest('An HTTP/1.1 request must send a Host header.');
    if (deps.hostAllowed && !deps.hostAllowed(request.host)) {
      throw permissionError(`Host ${JSON.stringify(request.host)} is not served here: without keys, batchd answers only to loopback names and its --public-url host.`);
    }
    // A request no route matched is answered 404 at once, before its body is read.
    if (request.is404) throw routeMissing(request);
    const { access, rateLimited } = request.routeOptions.config;
    if (access === 'public' || (access === 'operator' && deps.auth === 'none')) return;
    const identity = await authenticator.identify(request);
    request.workspace = identity.workspace;
    request.caller = identity.caller;
    // No store keeps a NUL in text: ids and query values with one are refused before any lookup.
    if (/%00/i.test(request.url)) throw invalidRequest('The URL must not contain NUL characters (%00).');
    if (limiter && rateLimited) {
      const waitMs = limiter.take(request.workspace);
      if (waitMs > 0) {
        throw rateLimitError(`This workspace is over its limit of ${deps.rateLimitPerMinute} batch requests per minute.`, Math.ceil(waitMs / 1000));
      }
    }
  });
  refuseBodyEncodings(app);

  app.setErrorHandler((error: FastifyError | Error, request, reply) => {
    const failure = toApiError(error);
    if (failure.status >= 500) request.log.error({ err: error, requestId: request.id }, 'request failed');
    return reply.status(failure.status).headers(failure.headers).send(envelopeOf(request, failure));
  });

  // Reached by the dashboard's files when a path names no file.
  app.setNotFoundHandler((request, reply) => reply.status(404).send(envelopeOf(request, routeMissing(request))));

  app.get('/health', { config: { access: 'public' } }, async () => ({ status: 'ok' }));
  const workspaceOf = (request: FastifyRequest) => request.workspace;
  // A stream that outlives its key's revocation is cut: the key must still open the same workspace.
  const keyStillOpens = (request: FastifyRequest) =>
    authenticator.identify(request).then(
      (identity) => identity.workspace === request.workspace,
      () => false,
    );
  const resultStreams = new StreamSlots(deps.maxResultsStreamsPerWorkspace);
  const storage = new StorageReserve(() => deps.store.freeBytes(), deps.minFreeDiskBytes);
  registerBatchRoutes(app, { ...deps, workspaceOf, callerOf: (request) => request.caller, keyStillOpens, resultStreams, storage });
  const counter = deps.tokenCounter ?? ((model: string) => laneCounter(deps.lanes, model));
  registerMessagesRoute(app, deps.lanes, counter);
  registerOpenAIRoutes(app, { ...deps, workspaceOf, callerOf: (request) => request.caller, resultStreams, storage, counter });
  registerModelRoutes(app, deps.models);
  registerExtensionRoutes(app, { store: deps.store, lanes: deps.lanes, workspaceOf });
  registerWebhookRoutes(app, { webhooks: deps.store.webhooks, clock: deps.clock, workspaceOf, targets: deps.webhookTargets });
  registerDashboard(app, DASHBOARD_DIR);
  return app;
}
