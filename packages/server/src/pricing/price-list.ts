import { matchesAnyModel } from '../model-pattern.js';

/** USD per million tokens, by kind of token. */
export interface TokenPrices {
  input: number;
  output: number;
  cache_write: number;
  cache_read: number;
}

/** One entry of the config file's `prices` list: the models it prices, at direct and, when known, batch prices. */
export interface PriceEntry {
  models: string[];
  direct: TokenPrices;
  batch?: TokenPrices;
}

/** The token counts of one answer, as batches total them. */
export interface TokenCounts {
  input_tokens: number;
  output_tokens: number;
  cache_creation_input_tokens: number;
  cache_read_input_tokens: number;
}

/**
 * What one answered request cost, in nano-dollars (10⁻⁹ USD, so that fractions of a cent add up
 * exactly): at the prices of the call as made, and at direct prices for the same tokens. `unpriced`
 * when no entry prices its model for that kind of call.
 */
export type RequestCost = { nanoUsd: number; directNanoUsd: number } | 'unpriced';

/** Backend kinds that call a provider's batch API, priced at batch prices; every other kind is a direct call. */
const BATCH_KINDS = new Set(['anthropic-batch', 'openai-batch']);

/** The largest price accepted, in USD per million tokens: above any published one, low enough that a batch's cost fits a 64-bit integer. */
export const MAX_PRICE = 1_000;

const TOKEN_KINDS = ['input', 'output', 'cache_write', 'cache_read'] as const;

function nanoUsd(prices: TokenPrices, tokens: TokenCounts): number {
  const microUsd =
    tokens.input_tokens * prices.input +
    tokens.output_tokens * prices.output +
    tokens.cache_creation_input_tokens * prices.cache_write +
    tokens.cache_read_input_tokens * prices.cache_read;
  return Math.round(microUsd * 1000);
}

/** The configured prices, looked up by model: the first entry with a matching pattern prices it. */
export class PriceList {
  private readonly entries: Array<{ matches: (model: string) => boolean; entry: PriceEntry }>;

  constructor(entries: readonly PriceEntry[] = []) {
    this.entries = entries.map((entry) => ({ matches: matchesAnyModel(entry.models), entry }));
  }

  /** What `tokens` of `model` cost through a backend of `backendKind` (`anthropic`, `openai-batch`, …). */
  cost(model: string, backendKind: string, tokens: TokenCounts): RequestCost {
    const entry = this.entries.find((candidate) => candidate.matches(model))?.entry;
    const prices = entry && (BATCH_KINDS.has(backendKind) ? entry.batch : entry.direct);
    if (!entry || !prices) return 'unpriced';
    return { nanoUsd: nanoUsd(prices, tokens), directNanoUsd: nanoUsd(entry.direct, tokens) };
  }
}

function fail(where: string, message: string): never {
  throw new Error(`${where}: ${message}`);
}

function tokenPrices(raw: unknown, where: string): TokenPrices {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) fail(where, 'expected an object of USD per million tokens: input, output, cache_write, cache_read');
  const record = raw as Record<string, unknown>;
  const unknown = Object.keys(record).filter((key) => !(TOKEN_KINDS as readonly string[]).includes(key));
  if (unknown.length > 0) fail(where, `unknown key "${unknown[0]}"; expected input, output, cache_write and cache_read`);
  const prices = {} as TokenPrices;
  for (const kind of TOKEN_KINDS) {
    const value = record[kind];
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > MAX_PRICE) {
      fail(`${where}.${kind}`, `expected USD per million tokens, a number from 0 to ${MAX_PRICE}, got ${JSON.stringify(value) ?? 'nothing'}`);
    }
    prices[kind] = value;
  }
  return prices;
}

/**
 * Reads the config file's `prices` list. Each entry names its models by pattern and gives
 * `direct` prices, and `batch` prices when the models are also sent through a provider's batch API.
 */
export function parsePrices(raw: unknown): PriceEntry[] {
  if (raw === undefined) return [];
  if (!Array.isArray(raw)) fail('prices', 'expected a list of {models, direct, batch} entries');
  return raw.map((item: unknown, index) => {
    let where = `prices[${index}]`;
    if (typeof item !== 'object' || item === null || Array.isArray(item)) fail(where, 'expected an object with models, direct and optionally batch');
    const e = item as Record<string, unknown>;
    if (!Array.isArray(e.models) || e.models.length === 0 || !e.models.every((m) => typeof m === 'string' && m !== '')) {
      fail(where, 'models must be a non-empty list of model name patterns');
    }
    where = `${where} (${(e.models as string[]).join(', ')})`;
    const unknown = Object.keys(e).filter((key) => key !== 'models' && key !== 'direct' && key !== 'batch');
    if (unknown.length > 0) fail(where, `unknown key "${unknown[0]}"; expected models, direct and batch`);
    if (e.direct === undefined) fail(where, 'direct prices are required');
    const entry: PriceEntry = { models: e.models as string[], direct: tokenPrices(e.direct, `${where}.direct`) };
    if (e.batch !== undefined) entry.batch = tokenPrices(e.batch, `${where}.batch`);
    return entry;
  });
}
