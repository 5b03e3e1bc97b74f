import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { BackendOutcome } from '../../backends/backend.js';
import type { TokenCounter } from '../../backends/token-counters.js';
import type { Lanes } from '../../engine/lanes.js';
import { paramsGarbage } from '../../large-garbage.js';
import { validateCountParams, validateParams } from '../../translate/validate-params.js';
import { messageEvents } from '../../wire/message-events.js';
import { ApiError, invalidRequest, notFound } from '../api-error.js';
import { readBoundedJsonText } from '../bounded-json.js';
import { drainBody } from '../drain-body.js';
import { PARAMS_LIMITS } from '../json-bounds.js';
import { LARGE_JSON_BYTES, takeLargeJson } from '../large-json.js';
import { exactParamsText } from '../params-pieces.js';
import { UPLOAD_IDLE_MS } from '../upload-watch.js';

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

/** Why no call can be made for `model`: a provider-batch backend serves it (`backend`, no lane), or none does. */
function notServed(model: string, backend: TokenCounter | undefined): ApiError {
  if (backend) return invalidRequest(`model: ${model} is served by the ${backend.name} backend, which runs batches only; send the request in a batch`);
  return notFound(`model: ${model} is not served by any configured backend`);
}

/** The same params without `stream`, for a backend that answers only whole. */
function withoutStream(params: Record<string, unknown>): Record<string, unknown> {
  const { stream: _stream, ...rest } = params;
  return rest;
}

/** An abort signal that fires if the client goes away before its answer is written. */
function clientGone(reply: FastifyReply): AbortSignal {
  const controller = new AbortController();
  reply.raw.once('close', () => {
    if (!reply.raw.writableFinished) controller.abort();
  });
  return controller.signal;
}

/**
 * `POST /v1/messages`: one interactive call passed through to the backend serving the model,
 * ahead of batch work waiting for the same backend; to the replica its prefix key picks when the
 * backend is cache-aware and has replicas. Params and answers whose numbers a double would change
 * go through as written. With `stream: true`, a backend that streams (the Anthropic API) passes its
 * events through; any other (the emulator, an OpenAI-compatible server) answers the call whole,
 * sent as the events of its message (`wire/message-events.ts`).
 *
 * `POST /v1/messages/count_tokens`: the input tokens of such params, as the backend serving the
 * model counts them. `counter` names the first configured backend serving a model, lane or
 * provider-batch backend, and counts with it where it can.
 */
export function registerMessagesRoute(app: FastifyInstance, lanes: Lanes, counter: (model: string) => TokenCounter | undefined): void {
  app.register(async (scope) => {
    // The body is checked against the params bounds as it streams, and parsed only once it passed them.
    scope.removeAllContentTypeParsers();
    // A large body holds its share of the large-JSON budget from when it is known to be large (its length, or
    // its bytes so far) until its answer is sent, or it is refused.
    const held = new WeakMap<object, () => void>();
    scope.addContentTypeParser('application/json', async (request: FastifyRequest, payload: Readable) => {
      const declared = Number(request.headers['content-length'] ?? 0);
      const hold = async (bytes: number): Promise<void> => {
        // A body left unread while it waits has not stalled: the idle timer starts again once it is read on.
        const socket = request.raw.socket;
        socket.setTimeout(0);
        const giveBack = await takeLargeJson(request.ip, bytes);
        socket.setTimeout(UPLOAD_IDLE_MS);
        held.set(request.raw, () => {
          giveBack();
          // Its text, value and the copies made of them are garbage once answered.
          paramsGarbage.released(bytes);
        });
      };
      try {
        // A body declared past the bound is refused at once, without waiting for room.
        if (declared > LARGE_JSON_BYTES && declared <= PARAMS_LIMITS.maxBytes) await hold(declared);
        const whenLarge = held.has(request.raw) ? undefined : () => hold(PARAMS_LIMITS.maxBytes);
        const body = await readBoundedJsonText(payload, PARAMS_LIMITS, 'body', declared, whenLarge);
        return body && { params: body.value, paramsText: await exactParamsText(body.text) };
      } catch (error) {
        held.get(request.raw)?.();
        // A client still sending reads the answer once what is left of its body is drained.
        await drainBody(payload, 2 * PARAMS_LIMITS.maxBytes, UPLOAD_IDLE_MS);
        throw error;
      }
    });
    scope.addHook('preHandler', async (request, reply) => {
      const release = held.get(request.raw);
      if (!release) return;
      reply.raw.once('close', () => {
        release();
        // A keep-alive connection holds on to its last request until the next one arrives: not to its body.
        request.body = undefined;
      });
    });
    scope.post('/v1/messages', async (request, reply) => {
      // No body is an empty object: the answer names the first missing field.
      const { params = {}, paramsText } = (request.body ?? {}) as { params?: Record<string, unknown>; paramsText?: string };
      const streaming = typeof params === 'object' && params !== null && params.stream === true;
      const invalid = validateParams(streaming ? { ...params, stream: false } : params);
      if (invalid !== null) throw invalidRequest(invalid);
      const model = params.model as string;
      const lane = lanes.for(model);
      if (!lane) throw notServed(model, counter(model));
      // A client that goes away before the answer cancels the call.
      const signal = clientGone(reply);
      const routingKey = lane.prefixOf(params, 'messages')?.key;
      if (streaming && lane.backend.stream) {
        const answer = await lane.stream(params, signal, routingKey, paramsText);
        if (answer.kind === 'error') throw errorOf(answer);
        const contentType = answer.headers['content-type'];
        reply.status(answer.status).header('content-type', typeof contentType === 'string' ? contentType : 'text/event-stream');
        return reply.send(answer.body);
      }
      // A backend that does not stream answers the same call whole, and its message is sent as the events of a stream.
      const outcome = streaming
        ? await lane.call(withoutStream(params), signal, 'interactive', routingKey)
        : await lane.call(params, signal, 'interactive', routingKey, paramsText);
      if (outcome.kind === 'error') throw errorOf(outcome);
      if (streaming) return reply.type('text/event-stream; charset=utf-8').send(Readable.from(messageEvents(outcome.message)));
      if (outcome.messageText === undefined) return outcome.message;
      return reply.type('application/json; charset=utf-8').send(outcome.messageText);
    });
    scope.post('/v1/messages/count_tokens', async (request, reply) => {
      const { params = {}, paramsText } = (request.body ?? {}) as { params?: Record<string, unknown>; paramsText?: string };
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
