import type { Backend, BackendCall, ChatAnswer } from '../backends/backend.js';
import { isObject, type Json } from '../json.js';
import type { Completion, UsageTotals } from '../store/store.js';
import { sendChat } from '../translate/send-chat.js';
import { sendCompletions, sendEmbeddings, sendResponses } from '../translate/send-openai.js';
import { chatErrorResponse, chatResponse } from '../wire/chat-result.js';
import type { RequestKind } from './request-kind.js';
import { tokenCount } from './token-count.js';

/** The endpoints an OpenAI batch may be for; chat completions is the one a batch stored without one is for. */
export const OPENAI_ENDPOINTS = ['/v1/chat/completions', '/v1/embeddings', '/v1/responses', '/v1/completions'] as const;
export type OpenAIEndpoint = (typeof OPENAI_ENDPOINTS)[number];

type Send = (backend: Backend, call: BackendCall, createdSeconds: () => number) => Promise<ChatAnswer>;

const objectAt = (value: unknown): Json => (isObject(value) ? value : {});

/**
 * An answer as a stored completion, its token counts read from its `usage` under the names its
 * endpoint uses (chat completions, completions and embeddings: `prompt_tokens`,
 * `completion_tokens`; responses: `input_tokens`, `output_tokens`); cached input tokens count as
 * cache reads, and reasoning tokens are those of the output's details.
 */
function completionOf(key: number, body: unknown, names: { input: string; output: string }): Completion {
  const usage = objectAt(objectAt(body).usage);
  const cached = tokenCount(objectAt(usage[`${names.input}_details`]).cached_tokens);
  const output = tokenCount(usage[names.output]);
  const totals: UsageTotals = {
    input_tokens: Math.max(0, tokenCount(usage[names.input]) - cached),
    output_tokens: output,
    cache_creation_input_tokens: 0,
    cache_read_input_tokens: cached,
  };
  const reasoningTokens = Math.min(output, tokenCount(objectAt(usage[`${names.output}_details`]).reasoning_tokens));
  return { key, type: 'succeeded', result: chatResponse(200, body), usage: totals, reasoningTokens };
}

const CHAT_USAGE = { input: 'prompt_tokens', output: 'completion_tokens' };

/** A chat completion as a stored completion, with its usage. */
export function chatCompletionOf(key: number, completion: unknown): Completion {
  return completionOf(key, completion, CHAT_USAGE);
}

/** Sends by the endpoint's `send`; results are stored as the `response` their output or error file line carries. */
function endpointRequests(now: () => number, send: Send, usage = CHAT_USAGE): RequestKind {
  const createdSeconds = () => Math.floor(now() / 1000);
  return {
    parse(text) {
      let params: unknown;
      try {
        params = JSON.parse(text);
      } catch {
        return { invalid: 'body: not valid JSON' };
      }
      if (!isObject(params) || typeof params.model !== 'string') return { invalid: 'model: a model name is required' };
      return { params, model: params.model };
    },

    async call(context) {
      const { key, lane, params, paramsText, signal, attempt, prefixKey } = context;
      const outcome = await lane.callWith((backend) => send(backend, { params, paramsText, signal, attempt, routingKey: prefixKey }, createdSeconds), 'batch', context);
      if (outcome === null || outcome.kind === 'error') return outcome;
      return { kind: 'succeeded', completion: completionOf(key, outcome.json, usage), model: objectAt(outcome.json).model };
    },

    errored(key, errorType, message) {
      return { key, type: 'errored', result: chatErrorResponse(errorType, message) };
    },
  };
}

const sendChatCompletion: Send = async (backend, call, createdSeconds) => {
  const outcome = await sendChat(backend, call, createdSeconds);
  return outcome.kind === 'error' ? outcome : { kind: 'answer', status: 200, json: outcome.completion };
};

/**
 * OpenAI batch requests, one kind per endpoint: chat completions, embeddings, responses and
 * completions bodies, each sent as its endpoint's `send` says; the kind of a batch's endpoint.
 */
export function openAIRequests(now: () => number): (endpoint: string | null) => RequestKind {
  const kinds: Record<OpenAIEndpoint, RequestKind> = {
    '/v1/chat/completions': endpointRequests(now, sendChatCompletion),
    '/v1/embeddings': endpointRequests(now, sendEmbeddings),
    '/v1/responses': endpointRequests(now, sendResponses, { input: 'input_tokens', output: 'output_tokens' }),
    '/v1/completions': endpointRequests(now, sendCompletions),
  };
  return (endpoint) => kinds[endpoint as OpenAIEndpoint] ?? kinds['/v1/chat/completions'];
}
