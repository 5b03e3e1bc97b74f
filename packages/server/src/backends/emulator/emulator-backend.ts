import { setTimeout as delay } from 'node:timers/promises';
import type { ContentBlock, Message, MessageCreateParams, StopReason } from '@batchd/sdk';
import type { BackendCall, BackendOutcome, ChatAnswer, CountOutcome, ErrorOutcome, MessagesBackend } from '../backend.js';
import { abortedOutcome } from '../classify.js';
import { ownTurn } from '../../own-turn.js';
import { canonicalId } from './canonical-id.js';
import { emulateEmbeddings } from './emulator-embeddings.js';

/**
 * The built-in emulator: answers every request offline with a deterministic `Message` derived only
 * from its params, so batch code can be developed and tested without a model.
 *
 * - Params reach it already checked: the engine and the `/v1/messages` route validate them first.
 * - The emulator waits the configured latency, then replies with one text block:
 *   `"[emulator] "` followed by the first 200 characters of the last user turn's text (its text
 *   blocks joined by `\n`). The earliest given stop sequence found in that reply cuts it there
 *   (`stop_reason: stop_sequence`); a reply longer than `max_tokens * 4` characters is cut to that
 *   length (`stop_reason: max_tokens`); otherwise `stop_reason` is `end_turn`.
 * - `tool_choice` `{type:'tool', name}`, or `{type:'any'}` with tools, answers one `tool_use`
 *   block for that tool (or the first tool) with input `{}` and `stop_reason: tool_use`.
 * - Ids are `msg_`/`toolu_` plus 24 base62 characters of a sha256 of the params' canonical JSON
 *   (keys sorted), so equal params always get equal messages.
 * - Usage counts 4 characters a token: input is all text of `system` and `messages`, output the
 *   reply text (for `tool_use`, the tool name and its JSON input), at least 1.
 * - Directives in `metadata.user_id` or in the last user turn's text (user_id first):
 *   `emulator:error=<type>` answers that error with the hosted API's status after the latency;
 *   `emulator:fail=<n>` (or `emulator:fail=<n>:<type>`) answers a retryable error, `overloaded_error`
 *   unless a retryable type is named, to the first n attempts, and the message from attempt n+1;
 *   `emulator:latency=<ms>` replaces the latency for that request.
 * - Embeddings requests are answered with deterministic vectors (see `emulator-embeddings.ts`).
 * - A token count (`count_tokens`) answers at once with the input count its message's usage would have.
 */

export interface EmulatorBackendOptions {
  /** How long each request takes, in milliseconds; 0 answers without a timer. Defaults to 0. */
  latencyMs?: number;
  /** Waits `ms` milliseconds, rejecting when `signal` aborts. Defaults to a timer. */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
}

interface Reply {
  block: ContentBlock;
  stopReason: StopReason;
  stopSequence: string | null;
  /** Characters of output, counted for `usage.output_tokens`. */
  chars: number;
}

interface Directives {
  error?: string;
  latencyMs?: number;
  /** Attempts that answer a retryable error before one succeeds, and that error's type. */
  transient?: { attempts: number; type: string };
}

const REPLY_PREFIX = '[emulator] ';
/** Params text, or a last user turn's text, past which counting the input and building the answer take a turn of the event loop each. */
const LONG_PARAMS_CHARS = 256 * 1024;
const DIRECTIVE = 'emulator:';
const ECHOED_CHARS = 200;
const CHARS_PER_TOKEN = 4;

/** The errors `emulator:error=<type>` injects: the hosted API's status and default message for each. */
const INJECTABLE_ERRORS: Readonly<Record<string, { status: number; retryable: boolean; message: string }>> = {
  invalid_request_error: { status: 400, retryable: false, message: 'Invalid request' },
  authentication_error: { status: 401, retryable: false, message: 'Authentication error' },
  permission_error: { status: 403, retryable: false, message: 'Permission denied' },
  not_found_error: { status: 404, retryable: false, message: 'Not found' },
  rate_limit_error: { status: 429, retryable: true, message: 'Rate limited' },
  api_error: { status: 500, retryable: true, message: 'Internal server error' },
  overloaded_error: { status: 529, retryable: true, message: 'Overloaded' },
};

const timerSleep = async (ms: number, signal: AbortSignal): Promise<void> => {
  await delay(ms, undefined, { signal });
};

export class EmulatorBackend implements MessagesBackend {
  readonly name = 'emulator';
  readonly #latencyMs: number;
  readonly #sleep: (ms: number, signal: AbortSignal) => Promise<void>;

  constructor(options: EmulatorBackendOptions = {}) {
    this.#latencyMs = options.latencyMs ?? 0;
    this.#sleep = options.sleep ?? timerSleep;
  }

  async send({ params, paramsText, signal, attempt = 1 }: BackendCall): Promise<BackendOutcome> {
    // Params are validated before any backend sees them, every field the emulator reads included.
    const request = params as MessageCreateParams;
    const lastText = lastUserText(request);
    const directives = readDirectives(request.metadata?.user_id ?? '', lastText);
    const latencyMs = directives.latencyMs ?? this.#latencyMs;
    if (!(await this.#waited(latencyMs, signal))) return abortedOutcome();
    if (directives.error !== undefined) return injectedError(directives.error);
    if (directives.transient && attempt <= directives.transient.attempts) return injectedError(directives.transient.type);
    // Long params are counted in a turn of their own, and hashed in the next: each walks all their text.
    const long = (paramsText?.length ?? 0) > LONG_PARAMS_CHARS || lastText.length > LONG_PARAMS_CHARS;
    if (long && latencyMs === 0) await ownTurn();
    try {
      const input = inputChars(request);
      if (long) await ownTurn();
      return { kind: 'message', message: emulateMessage(request, input) };
    } catch (error) {
      // Params nested too deeply to walk: the hosted API refuses such requests too.
      if (!(error instanceof RangeError)) throw error;
      return { kind: 'error', retryable: false, status: 400, errorType: 'invalid_request_error', message: 'params: nested too deeply' };
    }
  }

  async embed({ params, signal }: BackendCall): Promise<ChatAnswer> {
    if (!(await this.#waited(this.#latencyMs, signal))) return abortedOutcome();
    return emulateEmbeddings(params);
  }

  async countTokens({ params }: BackendCall): Promise<CountOutcome> {
    return { kind: 'count', count: { input_tokens: toTokens(inputChars(params as MessageCreateParams)) } };
  }

  /** Waits `latencyMs`; false when `signal` aborted meanwhile. */
  async #waited(latencyMs: number, signal: AbortSignal): Promise<boolean> {
    if (latencyMs > 0) {
      try {
        await this.#sleep(latencyMs, signal);
      } catch (error) {
        if (!signal.aborted) throw error;
      }
    }
    return !signal.aborted;
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

/** The directives in `metadata.user_id` and the last user turn's `text`, user_id first. */
function readDirectives(userId: string, text: string): Directives {
  // Most params name none: a long text is searched once for the prefix, never copied.
  if (!userId.includes(DIRECTIVE) && !text.includes(DIRECTIVE)) return {};
  const source = `${userId}\n${text}`;
  const error = /emulator:error=(\w+)/.exec(source)?.[1];
  const latency = /emulator:latency=(\d+)/.exec(source)?.[1];
  const fail = /emulator:fail=(\d+)(?::(\w+))?/.exec(source);
  const type = fail?.[2] !== undefined && INJECTABLE_ERRORS[fail[2]]?.retryable ? fail[2] : 'overloaded_error';
  return {
    error,
    latencyMs: latency === undefined ? undefined : Number(latency),
    transient: fail ? { attempts: Number(fail[1]), type } : undefined,
  };
}

function injectedError(type: string): ErrorOutcome {
  const known = INJECTABLE_ERRORS[type];
  if (known === undefined) {
    const message = `emulator:error=${type}: unknown error type; use one of ${Object.keys(INJECTABLE_ERRORS).join(', ')}`;
    return { kind: 'error', retryable: false, status: 400, errorType: 'invalid_request_error', message };
  }
  const message = `${known.message} (injected by emulator:error=${type})`;
  return { kind: 'error', retryable: known.retryable, status: known.status, errorType: type, message };
}

/** The message answering `params`, whose input text holds `input` characters. */
function emulateMessage(params: MessageCreateParams, input: number): Message {
  const reply = toolUseReply(params) ?? textReply(params);
  return {
    id: `msg_${canonicalId(params)}`,
    type: 'message',
    role: 'assistant',
    content: [reply.block],
    model: params.model,
    stop_reason: reply.stopReason,
    stop_sequence: reply.stopSequence,
    stop_details: null,
    container: null,
    usage: {
      input_tokens: toTokens(input),
      output_tokens: Math.max(1, toTokens(reply.chars)),
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: 0,
      cache_creation: { ephemeral_5m_input_tokens: 0, ephemeral_1h_input_tokens: 0 },
      server_tool_use: null,
      service_tier: 'batch',
      inference_geo: null,
    },
  };
}

function toolUseReply(params: MessageCreateParams): Reply | null {
  const choice = params.tool_choice;
  const name = choice?.type === 'tool' ? choice.name : choice?.type === 'any' ? params.tools?.[0]?.name : undefined;
  if (typeof name !== 'string') return null;
  const input = {};
  const block: ContentBlock = {
    type: 'tool_use',
    id: `toolu_${canonicalId(params, 'tool_use:')}`,
    name,
    input,
    caller: { type: 'direct' },
  };
  return { block, stopReason: 'tool_use', stopSequence: null, chars: charCount(name + JSON.stringify(input)) };
}

function textReply(params: MessageCreateParams): Reply {
  const full = REPLY_PREFIX + takeChars(lastUserText(params), ECHOED_CHARS);
  const limit = params.max_tokens * CHARS_PER_TOKEN;
  const stop = firstStopSequence(full, params.stop_sequences ?? []);
  const text = stop === null ? full : full.slice(0, stop.index);
  if (charCount(text) > limit) return textBlockReply(takeChars(full, limit), 'max_tokens', null);
  if (stop !== null) return textBlockReply(text, 'stop_sequence', stop.sequence);
  return textBlockReply(full, 'end_turn', null);
}

function textBlockReply(text: string, stopReason: StopReason, stopSequence: string | null): Reply {
  return { block: { type: 'text', text, citations: null }, stopReason, stopSequence, chars: charCount(text) };
}

/** The stop sequence occurring earliest in `text` (the first listed on a tie); empty ones never match. */
function firstStopSequence(text: string, sequences: string[]): { sequence: string; index: number } | null {
  let first: { sequence: string; index: number } | null = null;
  for (const sequence of sequences) {
    const index = sequence === '' ? -1 : text.indexOf(sequence);
    if (index !== -1 && (first === null || index < first.index)) first = { sequence, index };
  }
  return first;
}

/** The text of a message's content: the string itself, or its text blocks joined by `\n`. */
function contentText(content: MessageCreateParams['messages'][number]['content']): string {
  if (typeof content === 'string') return content;
  return content.flatMap((block) => (block.type === 'text' && typeof block.text === 'string' ? [block.text] : [])).join('\n');
}

function lastUserText(params: MessageCreateParams): string {
  const turn = params.messages.findLast((message) => message.role === 'user');
  return turn === undefined ? '' : contentText(turn.content);
}

function inputChars(params: MessageCreateParams): number {
  const system = params.system === undefined ? '' : contentText(params.system);
  return params.messages.reduce((sum, message) => sum + charCount(contentText(message.content)), charCount(system));
}

function toTokens(chars: number): number {
  return Math.ceil(chars / CHARS_PER_TOKEN);
}

/** Characters (code points) in `text`, counted without copying it. */
function charCount(text: string): number {
  let count = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0xd800 || code > 0xdbff) count++;
  }
  return count;
}

/** The first `count` characters (code points) of `text`. */
function takeChars(text: string, count: number): string {
  let end = 0;
  for (let taken = 0; taken < count && end < text.length; taken++) {
    const code = text.charCodeAt(end);
    end += code >= 0xd800 && code <= 0xdbff && end + 1 < text.length ? 2 : 1;
  }
  return text.slice(0, end);
}
