import { describe, expect, it } from 'vitest';
import { EmulatorBackend } from '../backends/emulator/emulator-backend.js';
import { PriceList } from '../pricing/price-list.js';
import { answerCost } from './answer-cost.js';
import { BackendLane } from './backend-lane.js';

const prices = new PriceList([
  { models: ['claude-sonnet-4-5*'], direct: { input: 3, output: 15, cache_write: 3.75, cache_read: 0.3 }, batch: { input: 1.5, output: 7.5, cache_write: 1.875, cache_read: 0.15 } },
]);
const usage = { input_tokens: 100, output_tokens: 20, cache_creation_input_tokens: 1000, cache_read_input_tokens: 400 };
const answered = { key: 1, type: 'succeeded' as const, result: '{}', usage };
const lane = (kind: string) => new BackendLane({ name: kind, kind, backend: new EmulatorBackend({ latencyMs: 0 }), models: ['*'], ceiling: 1 });

describe('answerCost', () => {
  it('prices an answer for the model it names at the prices of its lane’s kind of call', () => {
    // Direct: 100×3 + 20×15 + 1000×3.75 + 400×0.3 = 4,470 µ$; through a provider batch, half.
    expect(answerCost(prices, lane('anthropic'), answered, 'claude-sonnet-4-5-20250929', 'claude-alias').cost).toEqual({ nanoUsd: 4_470_000, directNanoUsd: 4_470_000 });
    expect(answerCost(prices, lane('anthropic-batch'), answered, 'claude-sonnet-4-5-20250929', 'claude-alias').cost).toEqual({ nanoUsd: 2_235_000, directNanoUsd: 4_470_000 });
  });

  it('falls back to the requested model when the answer names none, and marks a model without a price', () => {
    expect(answerCost(prices, lane('openai'), answered, undefined, 'claude-sonnet-4-5').cost).toEqual({ nanoUsd: 4_470_000, directNanoUsd: 4_470_000 });
    expect(answerCost(prices, lane('openai'), answered, '', 'llama-3').cost).toBe('unpriced');
  });

  it('adds the answer’s tokens to its lane, and leaves an answer without usage unpriced and uncounted', () => {
    const counted = lane('anthropic');
    answerCost(prices, counted, answered, 'claude-sonnet-4-5', 'claude-sonnet-4-5');
    const errored = { key: 2, type: 'errored' as const, result: '{}' };
    expect(answerCost(prices, counted, errored, 'claude-sonnet-4-5', 'claude-sonnet-4-5')).toEqual(errored);
    expect(counted.tokens).toEqual({ input: 100, output: 20, cacheRead: 400, cacheWrite: 1000 });
  });
});
