import multipart from '@fastify/multipart';
import type { FastifyError, FastifyInstance } from 'fastify';
import { chatErrorBody } from '../../wire/openai-error.js';
import { BatchIdGenerator } from '../../ids.js';
import { toApiError } from '../api-error.js';
import type { TokenCounter } from '../../backends/token-counters.js';
import { registerOpenAIBatchRoutes, type OpenAIBatchRouteDeps } from './batch-routes.js';
import { registerChatRoute } from './chat-route.js';
import { registerDirectRoutes } from './direct-routes.js';
import { registerFileRoutes, type FileRouteDeps } from './file-routes.js';

export type OpenAIRouteDeps = Omit<OpenAIBatchRouteDeps, 'batchIds'> &
  Pick<FileRouteDeps, 'resultStreams' | 'maxFileBytesPerWorkspace'> & {
    /** The first backend serving a model, lane or provider-batch: says why a model has no lane. */
    counter: (model: string) => TokenCounter | undefined;
  };

/**
 * OpenAI's Files, Uploads and Batch APIs (`/v1/files`, `/v1/uploads`, `/v1/batches`), and one
 * call at a time (`/v1/chat/completions`, `/v1/embeddings`, `/v1/completions`, `/v1/responses`),
 * in a scope of their own, where every
 * failure answers in OpenAI's error envelope, `{"error":{"message","type","param","code"}}`.
 * Authentication and workspaces are the same as on every `/v1/` route. The request id is also
 * sent as `x-request-id`, where OpenAI's clients read it.
 */
export function registerOpenAIRoutes(app: FastifyInstance, deps: OpenAIRouteDeps): void {
  app.register(async (scope) => {
    scope.addHook('onRequest', async (request, reply) => {
      reply.header('x-request-id', request.id);
    });
    scope.setErrorHandler((error: FastifyError | Error, request, reply) => {
      const failure = toApiError(error);
      if (failure.status >= 500) request.log.error({ err: error, requestId: request.id }, 'request failed');
      return reply.status(failure.status).headers(failure.headers).send(chatErrorBody(failure.type, failure.message));
    });
    await scope.register(multipart);
    registerFileRoutes(scope, { ...deps, fileIds: new BatchIdGenerator('file-01') });
    registerOpenAIBatchRoutes(scope, { ...deps, batchIds: new BatchIdGenerator('batch_01') });
    registerChatRoute(scope, deps);
    registerDirectRoutes(scope, deps);
  });
}
