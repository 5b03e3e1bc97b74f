import { isObject, type Json } from '../json.js';
import { invalid, keyName, TO_MESSAGES, untranslatableAsError } from './json-accessors.js';

const { unsupported } = TO_MESSAGES;

/**
 * A legacy completions request (`POST /v1/completions`) for a Messages backend, which has no
 * completions endpoint: its `prompt` (one string, or a list of one string) becomes a chat body's
 * one user message, which `chat-to-messages.ts` then carries to Messages with the params both
 * APIs share (`model`, `max_tokens`, 16 when not given as OpenAI's default, `temperature`,
 * `top_p`, `stop`, `user`, and `n`, `logit_bias`, the penalties and `stream` at their defaults).
 * Rejected: several prompts or token prompts, `echo`, `suffix`, `best_of` above 1, `logprobs`,
 * and keys the completions API does not have. The answer comes back with {@link chatToTextCompletion}.
 */

/** `max_tokens` of a completions request that gives none, as OpenAI documents it. */
const DEFAULT_MAX_TOKENS = 16;

const SHARED_KEYS = ['model', 'max_tokens', 'temperature', 'top_p', 'stop', 'user', 'n', 'logit_bias', 'presence_penalty', 'frequency_penalty', 'stream', 'seed', 'stream_options'];
const OWN_KEYS = ['prompt', 'echo', 'suffix', 'best_of', 'logprobs'];

function promptText(prompt: unknown): string {
  const text = Array.isArray(prompt) && prompt.length === 1 ? prompt[0] : prompt;
  if (typeof text !== 'string') throw unsupported('prompt (other than one string)');
  if (text === '') throw invalid('prompt', 'must not be empty');
  return text;
}

function translate(raw: unknown): Json {
  if (!isObject(raw)) throw invalid('body', 'not a JSON object');
  const body = Object.fromEntries(Object.entries(raw).filter(([, value]) => value !== null));
  const chat: Json = { max_tokens: DEFAULT_MAX_TOKENS };
  for (const [key, value] of Object.entries(body)) {
    if (SHARED_KEYS.includes(key)) chat[key] = value;
    else if (!OWN_KEYS.includes(key)) throw unsupported(keyName(key));
  }
  if (body.echo !== undefined && body.echo !== false) throw unsupported('echo');
  if (body.suffix !== undefined && body.suffix !== '') throw unsupported('suffix');
  if (body.best_of !== undefined && body.best_of !== 1) throw unsupported('best_of');
  if (body.logprobs !== undefined) throw unsupported('logprobs');
  chat.messages = [{ role: 'user', content: promptText(body.prompt) }];
  return chat;
}

export function completionsToChat(body: unknown): { body: Json } | { error: string } {
  return untranslatableAsError(() => ({ body: translate(body) }));
}

/** The chat completion a translated completions request was answered with, as a `text_completion`. */
export function chatToTextCompletion(completion: Json) {
  const choice = Array.isArray(completion.choices) && isObject(completion.choices[0]) ? completion.choices[0] : {};
  const message = isObject(choice.message) ? choice.message : {};
  const usage = isObject(completion.usage) ? completion.usage : {};
  return {
    id: `cmpl-${String(completion.id ?? '').replace(/^chatcmpl-/, '')}`,
    object: 'text_completion' as const,
    created: completion.created,
    model: completion.model,
    choices: [{ text: typeof message.content === 'string' ? message.content : '', index: 0, logprobs: null, finish_reason: choice.finish_reason ?? 'stop' }],
    usage: { prompt_tokens: usage.prompt_tokens ?? 0, completion_tokens: usage.completion_tokens ?? 0, total_tokens: usage.total_tokens ?? 0 },
  };
}
