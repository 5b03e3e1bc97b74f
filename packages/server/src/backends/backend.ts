import type { BackendReplicaStatus, Message } from '@batchd/sdk';
import type { OpenStream } from './http-endpoint.js';
import type { ChatCompletion } from './openai/chat-completions.js';
import type { RateLimitState } from './rate-limits.js';

/** One call of a model backend: the request's params, already parsed, and a signal to abort it. */
export interface BackendCall {
  params: Record<string, unknown>;
  /**
   * `params` as the JSON text they were stored as, when at hand: a backend that sends them
   * unchanged sends this, numbers as the client wrote them. A call with other params has none
   * (see {@link withParams}).
   */
  paramsText?: string;
  signal: AbortSignal;
  /** Which attempt at this request this call is, counting from 1. */
  attempt?: number;
  /** The request's prefix key, when it shares a prefix with others: a backend with replicas sends requests with one key to one replica. */
  routingKey?: string;
}

/** `call` with `params` in place of its own, and so without their text. */
export function withParams(call: BackendCall, params: Record<string, unknown>): BackendCall {
  return { ...call, params, paramsText: undefined };
}

/** A provider's answer, classified. A backend never throws for a provider's fault: it answers one of these. */
export type BackendOutcome =
  | {
      kind: 'message';
      message: Message;
      /** The message as the provider wrote it, on one line, when `JSON.stringify(message)` would change a number in it. */
      messageText?: string;
    }
  | {
      kind: 'error';
      /** True when the same call may succeed later (429, 5xx, 529, timeouts, dropped connections). */
      retryable: boolean;
      /** The HTTP status the provider answered, or 0 when no answer arrived. */
      status: number;
      /** The error type to report, such as `invalid_request_error` or `overloaded_error`. */
      errorType: string;
      message: string;
      /** How long the provider asked us to wait before the next call, when it said. */
      retryAfterMs?: number;
    };

export type ErrorOutcome = Extract<BackendOutcome, { kind: 'error' }>;

/** A count of a request's input tokens, `{"input_tokens": N}` and whatever else the provider answered with it. */
export type TokenCount = { input_tokens: number } & Record<string, unknown>;

/** A provider's token count, or the failure classified. */
export type CountOutcome = { kind: 'count'; count: TokenCount } | ErrorOutcome;

/** A provider's answer to a chat completions request, classified like {@link BackendOutcome}. */
export type ChatOutcome = { kind: 'completion'; completion: ChatCompletion } | ErrorOutcome;

/** An OpenAI-compatible server's answer: a 2xx with its body parsed (undefined when not JSON), or the failure classified. */
export type ChatAnswer = { kind: 'answer'; status: number; json: unknown } | ErrorOutcome;

interface BackendBase {
  readonly name: string;
  /** Opens a streaming call (`stream: true`), for backends whose provider streams events. */
  stream?(call: BackendCall): Promise<OpenStream>;
  /** What the provider last said about its rate-limit budgets, for backends that read them. */
  rateLimit?(): RateLimitState;
  /** Whether a call with `routingKey` would go to the replica that key prefers now (false when it would spill for load). */
  hasRoomFor?(routingKey: string): boolean;
  /** Each replica's URL, load and health, for backends that call servers over HTTP. */
  replicas?(): BackendReplicaStatus[];
  close(): Promise<void>;
}

/** A backend whose provider speaks the Messages API: the Anthropic API or the emulator. */
export interface MessagesBackend extends BackendBase {
  send(call: BackendCall): Promise<BackendOutcome>;
  /** Answers an embeddings request (`POST /v1/embeddings` params), for backends that embed. */
  embed?(call: BackendCall): Promise<ChatAnswer>;
  /** Counts the input tokens of `POST /v1/messages/count_tokens` params, for backends that count them. */
  countTokens?(call: BackendCall): Promise<CountOutcome>;
}

/** The endpoints of an OpenAI-compatible server batchd calls, under its `/v1` base. */
export type OpenAIPath = '/chat/completions' | '/embeddings' | '/completions' | '/responses';

/**
 * A backend whose provider speaks chat completions (an OpenAI-compatible server). Requests in
 * Messages params reach it translated (see `translate/send-messages.ts`).
 */
export interface ChatBackend extends BackendBase {
  /** Sends a chat completions request (`params` in that shape) as it is. */
  sendChat(call: BackendCall): Promise<ChatOutcome>;
  /** Opens a streamed chat completions call (`stream: true` in params) as it is, for servers whose chunks are passed through. */
  streamChat?(call: BackendCall): Promise<OpenStream>;
  /**
   * POSTs a body to one of the server's endpoints (on the replica `routingKey` picks), its model
   * mapped, and classifies the answer; `bodyText`, the body's own text, is sent when given, numbers as written.
   */
  post(path: OpenAIPath, body: object, signal: AbortSignal, routingKey?: string, bodyText?: string): Promise<ChatAnswer>;
  /** Whether the server serves the Responses API (`POST /responses`), so Responses requests go to it unchanged. */
  readonly responsesApi: boolean;
}

/** A model backend: the Anthropic API, an OpenAI-compatible server, or the emulator. */
export type Backend = MessagesBackend | ChatBackend;
