import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import type { ErrorOutcome } from '../../backends/backend.js';
import { MAX_ANSWER_BYTES } from '../../backends/http-endpoint.js';
import type { TokenCounter } from '../../backends/token-counters.js';
import type { Clock } from '../../clock.js';
import type { Lanes } from '../../engine/lanes.js';
import { isObject } from '../../json.js';
import { chatToMessages } from '../../translate/chat-to-messages.js';
import { sendChat } from '../../translate/send-chat.js';
import { chatCompletionChunks } from '../../wire/chat-chunks.js';
import { chatErrorStatus } from '../../wire/openai-error.js';
import { ApiError, invalidRequest } from '../api-error.js';
import { boundParamsBodies, chatStreamOf, clientGone, notServed, sendStream, withoutKeys, type ParamsBody } from '../call-routes.js';
import { messageEventsToChatChunks } from './message-stream-chunks.js';

/** What a chat completions call must have for batchd to route it; the backend checks the rest. */
function invalidCall(params: unknown): string | null {
  if (!isObject(params)) return 'body: must be a JSON object';
  if (typeof params.model !== 'string' || params.model === '') return 'model: a model name is required';
  if (!Array.isArray(params.messages) || params.messages.length === 0) return 'messages: must be a non-empty array of messages';
  if (params.stream !== undefined && params.stream !== null && typeof params.stream !== 'boolean') return 'stream: must be a boolean';
  if (params.stream_options !== undefined && params.stream_options !== null && !isObject(params.stream_options)) return 'stream_options: must be an object';
  return null;
}

/** A backend's failure as OpenAI answers it: the status OpenAI gives its error type, and when to try again. */
export function chatError(outcome: ErrorOutcome): ApiError {
  const headers: Record<string, string> = {};
  if (outcome.retryAfterMs !== undefined) headers['retry-after'] = String(Math.ceil(outcome.retryAfterMs / 1000));
  return new ApiError(chatErrorStatus(outcome.errorType), outcome.errorType as ApiError['type'], outcome.message, headers);
}

/**
 * `POST /v1/chat/completions`: one interactive call, as OpenAI's clients make it, through the lane
 * of the backend serving the model and ahead of its batch work: to an OpenAI-compatible server as
 * it is, to any other backend translated to Messages params and its answer back (as a batch's
 * chat requests are). With `stream: true` an OpenAI-compatible server's own stream is passed
 * through as it comes; the Anthropic API's streamed events become chunks as they come
 * (`message-stream-chunks.ts`); the emulator answers the call whole, and the completion is sent
 * as the chunks of a stream (`wire/chat-chunks.ts`). Either way the usage comes last when
 * `stream_options.include_usage` asks. Registered in the OpenAI routes' scope: failures answer in
 * OpenAI's error envelope.
 */
export function registerChatRoute(app: FastifyInstance, deps: { lanes: Lanes; counter: (model: string) => TokenCounter | undefined; clock: Clock }): void {
  const createdSeconds = () => Math.floor(deps.clock.now() / 1000);
  app.register(async (scope) => {
    boundParamsBodies(scope);
    scope.post('/v1/chat/completions', async (request, reply) => {
      const { params = {}, paramsText } = (request.body ?? {}) as ParamsBody;
      const invalid = invalidCall(params);
      if (invalid !== null) throw invalidRequest(invalid);
      const model = params.model as string;
      const lane = deps.lanes.for(model);
      if (!lane) throw notServed(model, deps.counter(model));
      const streaming = params.stream === true;
      const signal = clientGone(reply);
      const routingKey = lane.prefixOf(params, 'chat')?.key;
      const streamChat = chatStreamOf(lane.backend);
      if (streaming && streamChat) {
        const answer = await lane.stream(() => streamChat({ params, paramsText, signal, routingKey }));
        if (answer.kind === 'error') throw chatError(answer);
        return sendStream(reply, answer);
      }
      const includeUsage = isObject(params.stream_options) && params.stream_options.include_usage === true;
      const stream = lane.backend.stream?.bind(lane.backend);
      if (streaming && stream) {
        const translated = chatToMessages(withoutKeys(params, 'stream', 'stream_options'));
        if ('error' in translated) throw invalidRequest(translated.error);
        const answer = await lane.stream(() => stream({ params: { ...translated.params, stream: true }, signal, routingKey }));
        if (answer.kind === 'error') throw chatError(answer);
        const chunks = messageEventsToChatChunks(answer.body, { created: createdSeconds(), includeUsage }, MAX_ANSWER_BYTES);
        return reply.type('text/event-stream; charset=utf-8').send(Readable.from(chunks));
      }
      const call = streaming ? { params: withoutKeys(params, 'stream', 'stream_options'), signal, routingKey } : { params, paramsText, signal, routingKey };
      const outcome = (await lane.callWith((backend) => sendChat(backend, call, createdSeconds), 'interactive'))!;
      if (outcome.kind === 'error') throw chatError(outcome);
      if (!streaming) return outcome.completion;
      const chunks = chatCompletionChunks(outcome.completion as unknown as Record<string, unknown>, includeUsage);
      return reply.type('text/event-stream; charset=utf-8').send(Readable.from(chunks));
    });
  });
}
