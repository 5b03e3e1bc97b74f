import type { Completion } from '../store.js';

/**
 * What a group of completions adds to each batch, in the order of the `applyDelta` statement's
 * parameters: requests finished, succeeded, errored, the four token totals, the reasoning
 * tokens among the output tokens, then the cost in nano-dollars, the same at direct prices, and the requests priced and not priced.
 */
type Delta = [number, number, number, number, number, number, number, number, number, number, number, number];

export class BatchDeltas {
  private readonly deltas = new Map<number, Delta>();

  /** Adds a request that ended `succeeded` or else errored: its counts, tokens and cost, read from these fields only (a provider's result is added as it is). */
  add(batchSeq: number, completion: { type: string } & Pick<Completion, 'usage' | 'reasoningTokens' | 'cost'>): void {
    let delta = this.deltas.get(batchSeq);
    if (!delta) {
      delta = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
      this.deltas.set(batchSeq, delta);
    }
    delta[0]++;
    delta[completion.type === 'succeeded' ? 1 : 2]++;
    const { usage, cost } = completion;
    if (usage) {
      delta[3] += usage.input_tokens;
      delta[4] += usage.output_tokens;
      delta[5] += usage.cache_creation_input_tokens;
      delta[6] += usage.cache_read_input_tokens;
    }
    delta[7] += completion.reasoningTokens ?? 0;
    if (cost === 'unpriced') delta[11]++;
    else if (cost) {
      delta[8] += cost.nanoUsd;
      delta[9] += cost.directNanoUsd;
      delta[10]++;
    }
  }

  /** Each batch touched, by seq, with its delta. */
  entries(): IterableIterator<[number, Delta]> {
    return this.deltas.entries();
  }
}
