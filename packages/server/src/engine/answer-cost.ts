import type { PriceList } from '../pricing/price-list.js';
import type { Completion } from '../store/store.js';
import type { BackendLane } from './backend-lane.js';

/**
 * An answered request's completion with its cost: priced for the model the answer names (else the
 * one requested) at the prices of `lane`'s kind of call. Its tokens are added to the lane's totals.
 */
export function answerCost(prices: PriceList, lane: BackendLane, completion: Completion, answerModel: unknown, requestModel: string): Completion {
  const usage = completion.usage;
  if (!usage) return completion;
  lane.tokens.input += usage.input_tokens;
  lane.tokens.output += usage.output_tokens;
  lane.tokens.cacheRead += usage.cache_read_input_tokens;
  lane.tokens.cacheWrite += usage.cache_creation_input_tokens;
  const model = typeof answerModel === 'string' && answerModel !== '' ? answerModel : requestModel;
  return { ...completion, cost: prices.cost(model, lane.kind, usage) };
}
