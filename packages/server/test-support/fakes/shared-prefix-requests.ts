import { seededRandom } from './fake-provider.js';

/** Batch requests whose prompts share long prefixes, for the cache models (`prompt-cache-model.ts`, `engine-cache-model.ts`). */

export interface SharedPrefixRequest {
  custom_id: string;
  params: Record<string, unknown>;
}

export interface SharedPrefixOptions {
  /** How many distinct prefixes (documents or system prompts). */
  prefixes: number;
  /** Requests per prefix, each with its own question. */
  perPrefix: number;
  /** Characters of each prefix (about four per token). */
  prefixChars: number;
  /** Mark each prefix with `cache_control`, as a caller of Anthropic's prompt caching does. */
  cacheControl: boolean;
  model: string;
  /** Shuffle the requests with this seed; in prefix order when absent. */
  seed?: number;
}

/** Deterministic text of `length` characters, different for each `index`. */
function documentText(index: number, length: number): string {
  let text = `Document ${index}.`;
  const random = seededRandom(index + 1);
  while (text.length < length) text += ` w${Math.floor(random() * 10_000)}`;
  return text.slice(0, length);
}

/** `prefixes × perPrefix` requests, each asking its own question about its prefix's document, shuffled when a seed is given. */
export function sharedPrefixRequests(options: SharedPrefixOptions): SharedPrefixRequest[] {
  const requests: SharedPrefixRequest[] = [];
  for (let p = 0; p < options.prefixes; p++) {
    const text = documentText(p, options.prefixChars);
    const system = options.cacheControl ? [{ type: 'text', text, cache_control: { type: 'ephemeral' } }] : text;
    for (let q = 0; q < options.perPrefix; q++) {
      const params = { model: options.model, max_tokens: 16, system, messages: [{ role: 'user', content: `Question ${q} about document ${p}?` }] };
      requests.push({ custom_id: `d${p}-q${q}`, params });
    }
  }
  if (options.seed === undefined) return requests;
  const random = seededRandom(options.seed);
  for (let i = requests.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [requests[i], requests[j]] = [requests[j]!, requests[i]!];
  }
  return requests;
}
