import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parsePrices, PriceList } from './price-list.js';

const SONNET = {
  models: ['claude-sonnet-4-5*', 'claude-sonnet-4-6*'],
  direct: { input: 3, output: 15, cache_write: 3.75, cache_read: 0.3 },
  batch: { input: 1.5, output: 7.5, cache_write: 1.875, cache_read: 0.15 },
};
const LOCAL = { models: ['llama-*'], direct: { input: 0.05, output: 0.1, cache_write: 0.05, cache_read: 0.0125 } };
const CATCH_ALL = { models: ['claude-*'], direct: { input: 100, output: 100, cache_write: 100, cache_read: 100 } };
const tokens = { input_tokens: 1000, output_tokens: 200, cache_creation_input_tokens: 4000, cache_read_input_tokens: 16000 };

describe('PriceList', () => {
  const prices = new PriceList(parsePrices([SONNET, LOCAL, CATCH_ALL]));

  it('prices a direct call at direct prices, in nano-dollars', () => {
    // 1000×3 + 200×15 + 4000×3.75 + 16000×0.3 = 25,800 micro-dollars.
    expect(prices.cost('claude-sonnet-4-5-20250929', 'anthropic', tokens)).toEqual({ nanoUsd: 25_800_000, directNanoUsd: 25_800_000 });
  });

  it('prices a provider batch call at batch prices, beside what the same call costs directly', () => {
    expect(prices.cost('claude-sonnet-4-6', 'anthropic-batch', tokens)).toEqual({ nanoUsd: 12_900_000, directNanoUsd: 25_800_000 });
    expect(prices.cost('claude-sonnet-4-6', 'openai-batch', tokens)).toEqual({ nanoUsd: 12_900_000, directNanoUsd: 25_800_000 });
  });

  it('keeps fractions of a micro-dollar: one cached token at $0.0125 per million is 12.5 nano-dollars, rounded once per answer', () => {
    const one = { input_tokens: 0, output_tokens: 0, cache_creation_input_tokens: 0, cache_read_input_tokens: 1 };
    expect(prices.cost('llama-3.1-8b', 'openai', one)).toEqual({ nanoUsd: 13, directNanoUsd: 13 });
    expect(prices.cost('llama-3.1-8b', 'openai', { ...one, cache_read_input_tokens: 3 })).toEqual({ nanoUsd: 38, directNanoUsd: 38 });
  });

  it('uses the first entry whose pattern matches, as backends route', () => {
    expect(prices.cost('claude-haiku-4-5', 'anthropic', { ...tokens, output_tokens: 0, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 })).toEqual({
      nanoUsd: 100_000_000,
      directNanoUsd: 100_000_000,
    });
  });

  it('leaves a model without an entry unpriced, and a batch call whose entry has no batch prices', () => {
    expect(prices.cost('gpt-4o', 'openai', tokens)).toBe('unpriced');
    expect(prices.cost('llama-3.1-8b', 'openai-batch', tokens)).toBe('unpriced');
    expect(new PriceList().cost('claude-sonnet-4-5', 'anthropic', tokens)).toBe('unpriced');
  });

  it('prices the emulator and other direct kinds only when configured', () => {
    expect(prices.cost('claude-sonnet-4-5', 'emulator', tokens)).toEqual({ nanoUsd: 25_800_000, directNanoUsd: 25_800_000 });
  });
});

describe('parsePrices', () => {
  it('reads no list as no prices', () => {
    expect(parsePrices(undefined)).toEqual([]);
  });

  it.each([
    [{}, 'prices: expected a list'],
    [[SONNET, 'x'], 'prices[1]: expected an object'],
    [[{ models: [], direct: SONNET.direct }], 'prices[0]: models must be a non-empty list'],
    [[{ models: ['gpt-4o'] }], 'prices[0] (gpt-4o): direct prices are required'],
    [[{ models: ['gpt-4o'], direct: { ...SONNET.direct, output: '15' } }], 'prices[0] (gpt-4o).direct.output: expected USD per million tokens, a number from 0 to 1000, got "15"'],
    [[{ models: ['gpt-4o'], direct: { input: 1, output: 1, cache_read: 1 } }], 'prices[0] (gpt-4o).direct.cache_write: expected USD per million tokens, a number from 0 to 1000, got nothing'],
    [[{ models: ['gpt-4o'], direct: { ...SONNET.direct, output: 1001 } }], 'prices[0] (gpt-4o).direct.output: expected USD per million tokens, a number from 0 to 1000, got 1001'],
    [[{ models: ['gpt-4o'], direct: SONNET.direct, batch: { ...SONNET.batch, input: -1 } }], 'prices[0] (gpt-4o).batch.input: expected USD per million tokens, a number from 0 to 1000, got -1'],
    [[{ models: ['gpt-4o'], direct: { ...SONNET.direct, cached_input: 1 } }], 'prices[0] (gpt-4o).direct: unknown key "cached_input"'],
    [[{ models: ['gpt-4o'], direct: SONNET.direct, flex: SONNET.batch }], 'prices[0] (gpt-4o): unknown key "flex"'],
  ])('refuses %j, naming the entry', (raw, message) => {
    expect(() => parsePrices(raw)).toThrow(message);
  });
});

describe('the example config (examples/backends.json)', () => {
  const example = JSON.parse(readFileSync(new URL('../../../../examples/backends.json', import.meta.url), 'utf8')) as Record<string, unknown>;

  it('dates its prices, and they parse', () => {
    expect(example.prices_as_of).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    const prices = new PriceList(parsePrices(example.prices));
    // Sonnet 4.5 through anthropic-batch: 1000×1.5 + 200×7.5 + 4000×1.875 + 16000×0.15 = 12,900 micro-dollars.
    expect(prices.cost('claude-sonnet-4-5-20250929', 'anthropic-batch', tokens)).toEqual({ nanoUsd: 12_900_000, directNanoUsd: 25_800_000 });
    // gpt-4.1-mini is not priced as gpt-4.1: the longer pattern comes first.
    expect(prices.cost('gpt-4.1-mini', 'openai', { ...tokens, cache_creation_input_tokens: 0 })).toEqual({ nanoUsd: 2_320_000, directNanoUsd: 2_320_000 });
    expect(prices.cost('llama-3.1-8b-instruct', 'openai', tokens)).toBe('unpriced');
  });
});
