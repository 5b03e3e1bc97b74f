import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { isObject } from '../../src/json.js';
import { openAICompletion } from './fake-answers.js';

/**
 * A fake inference engine (vLLM, SGLang) with a prefix cache: a real HTTP server on 127.0.0.1
 * speaking OpenAI chat completions (`POST /v1/chat/completions`), for tests and benchmarks of
 * cache-aware routing.
 *
 * - A request's prefix is its tools and every message but the last; its size is one token per
 *   four characters of their JSON. The last message is never cached.
 * - The cache holds prefixes up to `cacheTokens` in all, the least recently used evicted first.
 *   A prefix is looked up when its request arrives and is cached once its prefill is done:
 *   `prefillMsPer1kTokens` per thousand tokens after the arrival that missed. A request that
 *   arrives before then computes it again, as engines do.
 * - The answer (the echo completion of `fake-answers.ts`) comes after the prefill (none on a
 *   hit) and `decodeMs`, its `usage.prompt_tokens_details.cached_tokens` the tokens read.
 */

export interface FakeEngineOptions {
  /** Total prefix tokens the cache holds. */
  cacheTokens: number;
  /** Prefill time per thousand prefix tokens on a miss, in milliseconds. Defaults to 10. */
  prefillMsPer1kTokens?: number;
  /** Time after the prefill until the answer, in milliseconds. Defaults to 5. */
  decodeMs?: number;
}

/** What the engine served: requests, and how many of their prefix tokens came from the cache. */
export interface FakeEngineStats {
  requests: number;
  /** Requests whose prefix was cached when they arrived. */
  hits: number;
  prefixTokens: number;
  cachedTokens: number;
  /** The most requests that were in flight at once. */
  maxInFlight: number;
  /** Distinct prefixes seen: the fewest misses there could have been. */
  prefixes: number;
}

interface Entry {
  tokens: number;
  readyAt: number;
}

function prefixOf(body: unknown): { key: string; tokens: number } | undefined {
  if (!isObject(body) || !Array.isArray(body.messages) || body.messages.length < 2) return undefined;
  const text = JSON.stringify([body.tools ?? null, body.messages.slice(0, -1)]);
  return { key: createHash('sha1').update(text).digest('hex'), tokens: Math.ceil(text.length / 4) };
}

async function readBody(request: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    return undefined;
  }
}

export class FakeEngine {
  /** The base URL a backend is configured with, ending in `/v1`. */
  readonly url: string;
  readonly stats: FakeEngineStats = { requests: 0, hits: 0, prefixTokens: 0, cachedTokens: 0, maxInFlight: 0, prefixes: 0 };
  readonly #seen = new Set<string>();
  readonly #server: Server;
  readonly #options: FakeEngineOptions;
  /** Prefixes by key, least recently used first. */
  readonly #cache = new Map<string, Entry>();
  #cachedTokens = 0;
  #inFlight = 0;

  private constructor(server: Server, options: FakeEngineOptions) {
    this.#server = server;
    this.#options = options;
    this.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
    server.on('request', (request: IncomingMessage, response: ServerResponse) => {
      this.#handle(request, response).catch(() => response.destroy());
    });
  }

  /** Starts an engine listening on 127.0.0.1 on a free port. */
  static async start(options: FakeEngineOptions): Promise<FakeEngine> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return new FakeEngine(server, options);
  }

  /** The share of requests whose prefix was cached when they arrived. */
  get hitRate(): number {
    return this.stats.requests === 0 ? 0 : this.stats.hits / this.stats.requests;
  }

  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    this.#server.closeAllConnections();
    await closed;
  }

  async #handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    this.#inFlight++;
    this.stats.maxInFlight = Math.max(this.stats.maxInFlight, this.#inFlight);
    response.on('close', () => this.#inFlight--);
    const body = await readBody(request);
    if (request.method !== 'POST' || request.url !== '/v1/chat/completions' || body === undefined) {
      response.writeHead(404, { 'content-type': 'application/json' }).end('{"error":{"message":"not found","type":"invalid_request_error"}}');
      return;
    }
    const prefix = prefixOf(body);
    const cached = prefix === undefined ? 0 : this.#lookUp(prefix.key, prefix.tokens);
    this.stats.requests++;
    if (prefix !== undefined) {
      this.stats.prefixTokens += prefix.tokens;
      this.#seen.add(prefix.key);
      this.stats.prefixes = this.#seen.size;
    }
    if (cached > 0) this.stats.hits++;
    this.stats.cachedTokens += cached;
    const prefillMs = prefix === undefined || cached > 0 ? 0 : this.#prefillMs(prefix.tokens);
    await delay(prefillMs + (this.#options.decodeMs ?? 5));
    const completion = openAICompletion(body) as { usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number } };
    const promptTokens = completion.usage.prompt_tokens + (prefix?.tokens ?? 0);
    const usage = { ...completion.usage, prompt_tokens: promptTokens, total_tokens: promptTokens + completion.usage.completion_tokens, prompt_tokens_details: { cached_tokens: cached } };
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ ...completion, usage }));
  }

  #prefillMs(tokens: number): number {
    return (tokens / 1000) * (this.#options.prefillMsPer1kTokens ?? 10);
  }

  /** The tokens read from the cache for this prefix (0 on a miss); a miss caches it once its prefill is done. */
  #lookUp(key: string, tokens: number): number {
    const now = performance.now();
    const entry = this.#cache.get(key);
    if (entry !== undefined) {
      this.#cache.delete(key);
      this.#cache.set(key, entry);
      return entry.readyAt <= now ? entry.tokens : 0;
    }
    if (tokens > this.#options.cacheTokens) return 0;
    for (const [oldest, old] of this.#cache) {
      if (this.#cachedTokens + tokens <= this.#options.cacheTokens) break;
      this.#cache.delete(oldest);
      this.#cachedTokens -= old.tokens;
    }
    this.#cache.set(key, { tokens, readyAt: now + this.#prefillMs(tokens) });
    this.#cachedTokens += tokens;
    return 0;
  }
}
