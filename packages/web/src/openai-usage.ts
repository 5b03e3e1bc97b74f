import type { OpenAIBatch } from '@batchd/sdk';
import { formatCount } from './format.js';

type Usage = OpenAIBatch['usage'];

/** An OpenAI batch's token counts as its batch object reports them; cached and reasoning tokens are parts of input and output. */
export function usageEntries(usage: Usage): Array<[string, string]> {
  return [
    ['Input tokens', formatCount(usage.input_tokens)],
    ['Cached', formatCount(usage.input_tokens_details.cached_tokens)],
    ['Output tokens', formatCount(usage.output_tokens)],
    ['Reasoning', formatCount(usage.output_tokens_details.reasoning_tokens)],
    ['Total tokens', formatCount(usage.total_tokens)],
  ];
}

/** The same counts in one line, for a list row's tooltip. */
export function usageSummary(usage: Usage): string {
  return usageEntries(usage)
    .map(([label, count]) => `${label}: ${count}`)
    .join(' · ');
}
