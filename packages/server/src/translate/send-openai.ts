import { withParams, type Backend, type BackendCall, type ChatAnswer, type OpenAIPath } from '../backends/backend.js';
import { invalidResponseBody } from '../backends/classify.js';
import { isObject, type Json } from '../json.js';
import { chatToResponse } from './chat-to-response.js';
import { chatToTextCompletion, completionsToChat } from './completions-to-chat.js';
import { responsesToChat } from './responses-to-chat.js';
import { sendChat } from './send-chat.js';

/**
 * Sends requests of the OpenAI endpoints besides chat completions, each answered with the body
 * of its output line (`ChatAnswer.json`): unchanged to an OpenAI-compatible backend that serves
 * the endpoint (a 2xx whose body is not the endpoint's object is a retryable `api_error`), else
 * translated through chat completions (see `send-chat.ts`) where a translation exists, else a
 * 400 `invalid_request_error` naming the backend and the endpoint.
 */

function badRequest(message: string): ChatAnswer {
  return { kind: 'error', retryable: false, status: 400, errorType: 'invalid_request_error', message };
}

/** POSTs `call.params` to `path` as they are; `has` checks that a 2xx's body is the endpoint's object. */
async function passThrough(backend: Extract<Backend, { post: unknown }>, path: OpenAIPath, call: BackendCall, has: (json: Json) => boolean): Promise<ChatAnswer> {
  const answer = await backend.post(path, call.params, call.signal, undefined, call.paramsText);
  if (answer.kind === 'error' || (isObject(answer.json) && has(answer.json))) return answer;
  return invalidResponseBody(answer.status, `not the object ${path} answers`);
}

/** Sends a translated chat body; the completion comes back through `convert`. */
async function viaChat(backend: Backend, call: BackendCall, createdSeconds: () => number, body: Json, convert: (completion: Json) => unknown): Promise<ChatAnswer> {
  const outcome = await sendChat(backend, withParams(call, body), createdSeconds);
  if (outcome.kind === 'error') return outcome;
  return { kind: 'answer', status: 200, json: convert(outcome.completion as unknown as Json) };
}

export async function sendEmbeddings(backend: Backend, call: BackendCall): Promise<ChatAnswer> {
  if ('post' in backend) return passThrough(backend, '/embeddings', call, (json) => Array.isArray(json.data));
  if (backend.embed) return backend.embed(call);
  return badRequest(`/v1/embeddings: backend ${backend.name} serves the Messages API, which has no embeddings; route this model to an OpenAI-compatible backend.`);
}

export async function sendCompletions(backend: Backend, call: BackendCall, createdSeconds: () => number): Promise<ChatAnswer> {
  if ('post' in backend) return passThrough(backend, '/completions', call, (json) => Array.isArray(json.choices));
  const translated = completionsToChat(call.params);
  if ('error' in translated) return badRequest(translated.error);
  return viaChat(backend, call, createdSeconds, translated.body, chatToTextCompletion);
}

export async function sendResponses(backend: Backend, call: BackendCall, createdSeconds: () => number): Promise<ChatAnswer> {
  if ('post' in backend && backend.responsesApi) return passThrough(backend, '/responses', call, (json) => Array.isArray(json.output));
  const translated = responsesToChat(call.params);
  if ('error' in translated) return badRequest(translated.error);
  return viaChat(backend, call, createdSeconds, translated.body, (completion) => chatToResponse(completion, call.params, createdSeconds()));
}
