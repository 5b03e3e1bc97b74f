import type { PriceList } from '../pricing/price-list.js';
import type { Completion } from '../store/store.js';
import { addTokens, type BackendLane } from './backend-lane.js';

/**
 * An answered request's completion with its cost: priced for the model the answer names (else the
 * one requested) at the prices of `lane`'s kind of call. Its tokens are added to the lane's totals.
 */
export function answerCost(prices: PriceList, lane: BackendLane, completion: Completion, answerModel: unknown, requestModel: string): Completion {
  const usage = completion.usage;
  if (!usage) return completion;
  addTokens(lane.tokens, usage);
  const model = typeof answerModel === 'string' && answerModel !== '' ? answerModel : requestModel;
  return { ...completion, cost: prices.cost(model, lane.kind, usage) };
}
