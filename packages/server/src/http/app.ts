import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance, type FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { newRequestId } from '../ids.js';
import { ApiError, invalidRequest, notFound, toApiError } from './api-error.js';
import { Authenticator, type AuthMode } from './authenticator.js';
import { registerBatchRoutes, UPLOAD_IDLE_MS, type BatchRouteDeps } from './batch-routes.js';
import { registerDashboard } from './dashboard-route.js';
import { registerExtensionRoutes } from './extension-routes.js';
import { registerMessagesRoute } from './messages-route.js';
import { registerOpenAIRoutes } from './openai-routes.js';
import { RateLimiter } from './rate-limiter.js';
import { registerWebhookRoutes } from './webhook-routes.js';
import type { Lanes } from '../engine/lanes.js';

export interface AppDeps extends Omit<BatchRouteDeps, 'workspaceOf' | 'callerOf'> {
  logger: Logger;
  lanes: Lanes;
  auth: AuthMode;
  /** Where webhooks may be sent: `public` refuses endpoints on this host or a private network. */
  webhookTargets: 'any' | 'public';
  /** Most batch-endpoint requests per minute for each workspace; none when absent. */
  rateLimitPerMinute?: number;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The workspace the request's key opens (set for every `/v1/` request). */
    workspace: string;
    /** Who sent the request: the key's id, or its hash when keys are not checked (set for every `/v1/` request). */
    caller: string;
  }
}

/** The batch endpoints `--rate-limit-rpm` counts. */
const LIMITED_PATHS = ['/v1/messages/batches', '/v1/batches', '/v1/files'];

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
    // Requests the router cannot even read (a bad percent-encoding) still get the envelope.
    frameworkErrors: (error, request, reply) => {
      const body = JSON.stringify(invalidRequest(error.message).toEnvelope(request.id));
      void reply.code(400 as never).header('request-id', request.id).header('content-type', 'application/json; charset=utf-8').send(body as never);
    },
  });

  // A client that stops sending its request loses the connection after the upload idle time.
  // The timer stops once the handler runs: answers may take long (a model call), bodies may not.
  const watched = new WeakSet<object>();
  app.addHook('onRequest', async (request) => {
    const socket = request.raw.socket;
    if (!watched.has(socket)) {
      watched.add(socket);
      socket.on('timeout', () => socket.destroy());
    }
    socket.setTimeout(UPLOAD_IDLE_MS);
  });
  app.addHook('preHandler', async (request) => {
    request.raw.socket.setTimeout(0);
  });

  const authenticator = new Authenticator(deps.auth, deps.store, () => deps.clock.now());
  const limiter = deps.rateLimitPerMinute ? new RateLimiter(deps.rateLimitPerMinute, () => deps.clock.now()) : null;
  app.decorateRequest('workspace', '');
  app.decorateRequest('caller', '');
  app.addHook('onRequest', async (request, reply) => {
    reply.header('request-id', request.id);
    if (!request.url.startsWith('/v1/')) return;
    const identity = await authenticator.identify(request);
    request.workspace = identity.workspace;
    request.caller = identity.caller;
    if (limiter && LIMITED_PATHS.some((path) => request.url.startsWith(path))) {
      const waitMs = limiter.take(request.workspace);
      if (waitMs > 0) {
        throw new ApiError(429, 'rate_limit_error', `This workspace is over its limit of ${deps.rateLimitPerMinute} batch requests per minute.`, {
          'retry-after': String(Math.ceil(waitMs / 1000)),
        });
      }
    }
  });

  app.setErrorHandler((error: FastifyError | Error, request, reply) => {
    const failure = toApiError(error);
    if (failure.status >= 500) request.log.error({ err: error, requestId: request.id }, 'request failed');
    return reply.status(failure.status).headers(failure.headers).send(failure.toEnvelope(request.id));
  });

  app.setNotFoundHandler((request, reply) => {
    const failure = notFound(`${request.method} ${request.url.split('?')[0]} does not exist.`);
    return reply.status(404).send(failure.toEnvelope(request.id));
  });

  app.get('/health', async () => ({ status: 'ok' }));
  const workspaceOf = (request: FastifyRequest) => request.workspace;
  registerBatchRoutes(app, { ...deps, workspaceOf, callerOf: (request) => request.caller });
  registerMessagesRoute(app, deps.lanes);
  registerOpenAIRoutes(app, { ...deps, workspaceOf, callerOf: (request) => request.caller });
  registerExtensionRoutes(app, { store: deps.store, lanes: deps.lanes, workspaceOf });
  registerWebhookRoutes(app, { webhooks: deps.store.webhooks, clock: deps.clock, workspaceOf, targets: deps.webhookTargets });
  registerDashboard(app, new URL('../../dashboard/', import.meta.url));
  return app;
}
