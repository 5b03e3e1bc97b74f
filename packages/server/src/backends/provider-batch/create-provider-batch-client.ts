import type { BackendSpec, ProviderBatchType } from '../backend-spec.js';
import { ANTHROPIC_BATCH_LIMITS, AnthropicBatchClient } from './anthropic-batch-client.js';
import { OPENAI_BATCH_LIMITS, OpenAIBatchClient } from './openai-batch-client.js';
import type { ProviderBatchClient, ProviderBatchLimits } from './provider-batch-client.js';

/** The provider's limits, lowered where the spec sets `max_requests` or `max_bytes` below them. */
function lowered(spec: BackendSpec, limits: ProviderBatchLimits): ProviderBatchLimits {
  return {
    maxRequests: Math.min(spec.maxRequests ?? Infinity, limits.maxRequests),
    maxBytes: Math.min(spec.maxBytes ?? Infinity, limits.maxBytes),
  };
}

/** The client of the provider batch API a spec of a provider-batch kind names. */
export function createProviderBatchClient(spec: BackendSpec & { type: ProviderBatchType }): ProviderBatchClient {
  switch (spec.type) {
    case 'anthropic-batch':
      return new AnthropicBatchClient({ url: spec.url!, apiKey: spec.apiKey ?? '', timeoutMs: spec.timeoutMs, limits: lowered(spec, ANTHROPIC_BATCH_LIMITS) });
    case 'openai-batch':
      return new OpenAIBatchClient({ url: spec.url!, apiKey: spec.apiKey ?? '', timeoutMs: spec.timeoutMs, limits: lowered(spec, OPENAI_BATCH_LIMITS) });
  }
}
