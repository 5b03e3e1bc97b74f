import { createHash } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { isObject, type Json } from '../../src/json.js';
import { openAICompletion } from './fake-answers.js';

export interface EngineCacheOptions {
  /** Tokens the prefix cache holds; the least recently used prefixes go first. */
  cacheTokens: number;
  /** Prompt tokens the engine computes per millisecond; prefill is one queue, as on one GPU. */
  prefillTokensPerMs: number;
  /** Time to generate an answer once its prompt is computed; answers are generated side by side. */
  decodeMs: number;
}

interface Entry {
  tokens: number;
  /** When the prefill that computes it ends: before then it is not yet usable. */
  readyAt: number;
}

const tokensOf = (value: unknown) => Math.ceil(JSON.stringify(value).length / 4);

/**
 * An engine (vLLM, SGLang) with a prefix cache, as a fake OpenAI-compatible provider's `serve`.
 * A request's prefix is its messages but the last (about one token per four characters of their
 * JSON); it is cached once the prefill that computes it has passed, in an LRU cache of
 * `cacheTokens`. Prefill takes time in proportion to the tokens not found in the cache, one
 * prompt after another, so throughput depends on hits. `usage.prompt_tokens_details.cached_tokens`
 * reports the hit.
 */
export class EngineCacheModel {
  /** Cached prefixes, least recently used first. */
  readonly #cache = new Map<string, Entry>();
  #cachedTokens = 0;
  #prefillFreeAt = 0;
  readonly counts = { requests: 0, hits: 0, promptTokens: 0, cachedTokens: 0 };

  constructor(private readonly options: EngineCacheOptions) {}

  /** Share of requests that found their prefix cached. */
  get hitRate(): number {
    return this.counts.requests === 0 ? 0 : this.counts.hits / this.counts.requests;
  }

  readonly serve = async (body: unknown): Promise<Json> => {
    const messages = isObject(body) && Array.isArray(body.messages) ? body.messages : [];
    const prefix = messages.slice(0, -1);
    const promptTokens = tokensOf(messages);
    const prefixTokens = prefix.length === 0 ? 0 : tokensOf(prefix);
    const key = createHash('sha256').update(JSON.stringify(prefix)).digest('hex');
    const now = performance.now();
    const entry = this.#cache.get(key);
    const hit = prefixTokens > 0 && entry !== undefined && entry.readyAt <= now;
    if (hit) this.#touch(key, entry);
    const cachedTokens = hit ? prefixTokens : 0;
    const prefillDone = Math.max(now, this.#prefillFreeAt) + (promptTokens - cachedTokens) / this.options.prefillTokensPerMs;
    this.#prefillFreeAt = prefillDone;
    if (prefixTokens > 0 && entry === undefined) this.#insert(key, { tokens: prefixTokens, readyAt: prefillDone });
    this.counts.requests += 1;
    this.counts.hits += hit ? 1 : 0;
    this.counts.promptTokens += promptTokens;
    this.counts.cachedTokens += cachedTokens;
    await delay(prefillDone - now + this.options.decodeMs);
    const completion = openAICompletion(body);
    const usage = completion.usage as Record<string, number>;
    completion.usage = { ...usage, prompt_tokens: promptTokens, total_tokens: promptTokens + usage.completion_tokens!, prompt_tokens_details: { cached_tokens: cachedTokens } };
    return completion;
  };

  #touch(key: string, entry: Entry): void {
    this.#cache.delete(key);
    this.#cache.set(key, entry);
  }

  #insert(key: string, entry: Entry): void {
    this.#cache.set(key, entry);
    this.#cachedTokens += entry.tokens;
    for (const [oldKey, old] of this.#cache) {
      if (this.#cachedTokens <= this.options.cacheTokens) break;
      this.#cache.delete(oldKey);
      this.#cachedTokens -= old.tokens;
    }
  }
}
