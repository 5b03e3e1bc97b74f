import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import type { BackendOutcome } from '../../backends/backend.js';
import { MAX_ANSWER_BYTES } from '../../backends/http-endpoint.js';
import type { TokenCounter } from '../../backends/token-counters.js';
import type { Lanes } from '../../engine/lanes.js';
import { toOpenAI } from '../../translate/to-openai.js';
import { validateCountParams, validateParams } from '../../translate/validate-params.js';
import { messageEvents } from '../../wire/message-events.js';
import { ApiError, invalidRequest } from '../api-error.js';
import { boundParamsBodies, chatStreamOf, clientGone, notServed, sendStream, withoutKeys, type ParamsBody } from '../call-routes.js';
import { chatChunksToMessageEvents } from './chat-stream-events.js';

/** Statuses the hosted API answers for each error type, used when a backend gave none. */
const STATUS_OF_TYPE: Record<string, number> = {
  invalid_request_error: 400,
  authentication_error: 401,
  permission_error: 403,
  not_found_error: 404,
  request_too_large: 413,
  rate_limit_error: 429,
  api_error: 500,
  timeout_error: 504,
  overloaded_error: 529,
};

function errorOf(outcome: Extract<BackendOutcome, { kind: 'error' }>): ApiError {
  const status = outcome.status >= 400 ? outcome.status : STATUS_OF_TYPE[outcome.errorType] ?? 502;
  const headers: Record<string, string> = {};
  if (outcome.retryAfterMs !== undefined) headers['retry-after'] = String(Math.ceil(outcome.retryAfterMs / 1000));
  return new ApiError(status, outcome.errorType as ApiError['type'], outcome.message, headers);
}

/**
 * `POST /v1/messages`: one interactive call passed through to the backend serving the model,
 * ahead of batch work waiting for the same backend; to the replica its prefix key picks when the
 * backend is cache-aware and has replicas. Params and answers whose numbers a double would change
 * go through as written. With `stream: true`, the Anthropic API's events pass through; an
 * OpenAI-compatible server is asked for a streamed chat completion, whose chunks become the
 * Messages API's events as they come (`chat-stream-events.ts`); the emulator answers the call
 * whole, sent as the events of its message (`wire/message-events.ts`).
 *
 * `POST /v1/messages/count_tokens`: the input tokens of such params, as the backend serving the
 * model counts them. `counter` names the first configured backend serving a model, lane or
 * provider-batch backend, and counts with it where it can.
 */
export function registerMessagesRoute(app: FastifyInstance, lanes: Lanes, counter: (model: string) => TokenCounter | undefined): void {
  app.register(async (scope) => {
    boundParamsBodies(scope);
    scope.post('/v1/messages', async (request, reply) => {
      // No body is an empty object: the answer names the first missing field.
      const { params = {}, paramsText } = (request.body ?? {}) as ParamsBody;
      const streaming = typeof params === 'object' && params !== null && params.stream === true;
      const invalid = validateParams(streaming ? { ...params, stream: false } : params);
      if (invalid !== null) throw invalidRequest(invalid);
      const model = params.model as string;
      const lane = lanes.for(model);
      if (!lane) throw notServed(model, counter(model));
      // A client that goes away before the answer cancels the call.
      const signal = clientGone(reply);
      const routingKey = lane.prefixOf(params, 'messages')?.key;
      const stream = lane.backend.stream?.bind(lane.backend);
      if (streaming && stream) {
        const answer = await lane.stream(() => stream({ params, paramsText, signal, routingKey }));
        if (answer.kind === 'error') throw errorOf(answer);
        return sendStream(reply, answer);
      }
      const streamChat = chatStreamOf(lane.backend);
      if (streaming && streamChat) {
        const translated = toOpenAI(withoutKeys(params, 'stream'));
        if ('error' in translated) throw invalidRequest(translated.error);
        const chatParams = { ...translated.body, stream: true, stream_options: { include_usage: true } };
        const answer = await lane.stream(() => streamChat({ params: chatParams, signal, routingKey }));
        if (answer.kind === 'error') throw errorOf(answer);
        const events = chatChunksToMessageEvents(answer.body, { model: translated.body.model, stopSequences: translated.body.stop }, MAX_ANSWER_BYTES);
        return reply.type('text/event-stream; charset=utf-8').send(Readable.from(events));
      }
      // The emulator answers the same call whole, and its message is sent as the events of a stream.
      const outcome = streaming
        ? await lane.call(withoutKeys(params, 'stream'), signal, 'interactive', routingKey)
        : await lane.call(params, signal, 'interactive', routingKey, paramsText);
      if (outcome.kind === 'error') throw errorOf(outcome);
      if (streaming) return reply.type('text/event-stream; charset=utf-8').send(Readable.from(messageEvents(outcome.message)));
      if (outcome.messageText === undefined) return outcome.message;
      return reply.type('application/json; charset=utf-8').send(outcome.messageText);
    });
    scope.post('/v1/messages/count_tokens', async (request, reply) => {
      const { params = {}, paramsText } = (request.body ?? {}) as ParamsBody;
      const invalid = validateCountParams(params);
      if (invalid !== null) throw invalidRequest(invalid);
      const model = params.model as string;
      const backend = counter(model);
      if (!backend) throw notServed(model, undefined);
      if (!backend.countTokens) throw invalidRequest(`model: ${model} is served by the ${backend.name} backend, which does not count tokens`);
      const outcome = await backend.countTokens({ params, paramsText, signal: clientGone(reply) });
      if (outcome.kind === 'error') throw errorOf(outcome);
      return outcome.count;
    });
  });
}
