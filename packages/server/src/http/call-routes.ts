import type { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Backend, BackendCall } from '../backends/backend.js';
import type { OpenStream } from '../backends/http-endpoint.js';
import type { TokenCounter } from '../backends/token-counters.js';
import { paramsGarbage } from '../large-garbage.js';
import { invalidRequest, notFound, type ApiError } from './api-error.js';
import { readBoundedJsonText } from './bounded-json.js';
import { drainBody } from './drain-body.js';
import { PARAMS_LIMITS } from './json-bounds.js';
import { LARGE_JSON_BYTES, takeLargeJson } from './large-json.js';
import { exactParamsText } from './params-pieces.js';
import { UPLOAD_IDLE_MS } from './upload-watch.js';

/*
 * What the routes of one interactive call (`POST /v1/messages`, `POST /v1/chat/completions`)
 * share: how their bodies are read, the client going away, a model no lane serves, and a
 * provider's stream sent through.
 */

/** A one-call route's body: its params parsed, with their text when a double would change a number in them. */
export interface ParamsBody {
  params?: Record<string, unknown>;
  paramsText?: string;
}

/**
 * Makes `scope` read JSON bodies as the params of one interactive call: checked against the
 * params bounds as they stream, and parsed only once they passed them. A large body holds its
 * share of the large-JSON budget from when it is known to be large (its length, or its bytes so
 * far) until its answer is sent, or it is refused.
 */
export function boundParamsBodies(scope: FastifyInstance): void {
  scope.removeAllContentTypeParsers();
  const held = new WeakMap<object, () => void>();
  scope.addContentTypeParser('application/json', async (request: FastifyRequest, payload: Readable): Promise<ParamsBody | undefined> => {
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
      return body && { params: body.value as Record<string, unknown>, paramsText: await exactParamsText(body.text) };
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
}

/** An abort signal that fires if the client goes away before its answer is written. */
export function clientGone(reply: FastifyReply): AbortSignal {
  const controller = new AbortController();
  reply.raw.once('close', () => {
    if (!reply.raw.writableFinished) controller.abort();
  });
  return controller.signal;
}

/** The same params without `names` (`stream`, `stream_options`), for a backend that answers only whole. */
export function withoutKeys(params: Record<string, unknown>, ...names: string[]): Record<string, unknown> {
  const rest = { ...params };
  for (const name of names) delete rest[name];
  return rest;
}

/** Why no call can be made for `model`: a provider-batch backend serves it (`backend`, no lane), or none does. */
export function notServed(model: string, backend: TokenCounter | undefined): ApiError {
  if (backend) return invalidRequest(`model: ${model} is served by the ${backend.name} backend, which runs batches only; send the request in a batch`);
  return notFound(`model: ${model} is not served by any configured backend`);
}

/** The backend's streamed chat completions call, for an OpenAI-compatible server that streams. */
export function chatStreamOf(backend: Backend): ((call: BackendCall) => Promise<OpenStream>) | undefined {
  return 'streamChat' in backend ? backend.streamChat?.bind(backend) : undefined;
}

/** Sends a provider's streamed answer through as it comes, with its status and content type. */
export function sendStream(reply: FastifyReply, answer: Extract<OpenStream, { kind: 'stream' }>): FastifyReply {
  const contentType = answer.headers['content-type'];
  return reply
    .status(answer.status)
    .header('content-type', typeof contentType === 'string' ? contentType : 'text/event-stream')
    .send(answer.body);
}
