import { createHash } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { isObject, type Json } from '../../src/json.js';
import { anthropicMessage } from './fake-answers.js';

const list = (value: unknown): unknown[] => (Array.isArray(value) ? value : value === undefined || value === null ? [] : [value]);

/** Tools, system blocks and message blocks in the order the provider reads them, each message block with its role. */
function blocksOf(body: Record<string, unknown>): unknown[] {
  const messageBlocks = list(body.messages).flatMap((message) => {
    const m = isObject(message) ? message : {};
    return list(m.content).map((block) => ({ role: m.role, block }));
  });
  return [...list(body.tools), ...list(body.system), ...messageBlocks];
}

const marked = (item: unknown) => {
  const block = isObject(item) && 'role' in item ? item.block : item;
  return isObject(block) && isObject(block.cache_control);
};

/**
 * Anthropic's prompt caching as a fake provider's `serve`: the prompt up to the last block with
 * `cache_control` is looked up when a request arrives and written when its answer is sent, so
 * requests sharing it that arrive before the first answer all write it. `usage` says which:
 * `cache_creation_input_tokens` or `cache_read_input_tokens`, about one token per four characters.
 * Prefixes under `minTokens` are not cached, as the provider's minimum cacheable length.
 */
export class PromptCacheModel {
  readonly #entries = new Set<string>();
  /** Requests that wrote a cache entry and that read one. */
  readonly counts = { writes: 0, reads: 0 };

  constructor(private readonly options: { latencyMs: number; minTokens?: number }) {}

  readonly serve = async (body: unknown): Promise<Json> => {
    const request = isObject(body) ? body : {};
    const blocks = blocksOf(request);
    const last = blocks.findLastIndex(marked);
    const text = JSON.stringify([request.model, blocks.slice(0, last + 1)]);
    const tokens = Math.ceil(text.length / 4);
    const cacheable = last >= 0 && tokens >= (this.options.minTokens ?? 1024);
    const key = createHash('sha256').update(text).digest('hex');
    const read = cacheable && this.#entries.has(key);
    await delay(this.options.latencyMs);
    if (cacheable && !read) this.#entries.add(key);
    const message = anthropicMessage(body);
    const usage = message.usage as Record<string, unknown>;
    if (cacheable) {
      this.counts[read ? 'reads' : 'writes'] += 1;
      usage[read ? 'cache_read_input_tokens' : 'cache_creation_input_tokens'] = tokens;
    }
    return message;
  };
}
