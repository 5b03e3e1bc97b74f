import type { BatchCost, MessageBatchUsage, OpenAIBatchUsage } from '@batchd/sdk';
import type { BatchRecord, CostTotals, UsageTotals } from '../store/store.js';

/**
 * The cache hit rate, defined here once for every place batchd shows it: cache reads over all
 * input tokens, `read / (read + write + uncached input)`; null before any input is counted.
 */
export function cacheHitRate(usage: UsageTotals): number | null {
  const input = usage.cache_read_input_tokens + usage.cache_creation_input_tokens + usage.input_tokens;
  return input === 0 ? null : usage.cache_read_input_tokens / input;
}

const NANO_PER_USD = 1e9;

/** A batch's stored cost totals (nano-dollars) in USD. */
export function batchCost(cost: CostTotals): BatchCost {
  return {
    usd: cost.nanoUsd / NANO_PER_USD,
    direct_usd: cost.directNanoUsd / NANO_PER_USD,
    saving_usd: (cost.directNanoUsd - cost.nanoUsd) / NANO_PER_USD,
    priced_requests: cost.pricedRequests,
    unpriced_requests: cost.unpricedRequests,
  };
}

/** The body of a batch's usage report: `message_batch_usage` for Message Batches, `batch_usage` for OpenAI batches. */
export function batchUsage(batch: BatchRecord): MessageBatchUsage | OpenAIBatchUsage {
  const report = { id: batch.id, usage: batch.usage, cache_hit_rate: cacheHitRate(batch.usage), cost: batchCost(batch.cost) };
  return batch.dialect === 'messages' ? { ...report, type: 'message_batch_usage' } : { ...report, type: 'batch_usage' };
}
