import { matchesAnyModel } from '../model-pattern.js';
import { AnthropicBackend } from './anthropic/anthropic-backend.js';
import type { Backend, BackendCall, CountOutcome } from './backend.js';
import { isProviderBatch, type BackendSpec } from './backend-spec.js';

/** The backend that serves a model, by name, and its token count when it can count (`POST /v1/messages/count_tokens`). */
export interface TokenCounter {
  name: string;
  countTokens?(call: BackendCall): Promise<CountOutcome>;
}

/** The backend configured as `name` as a counter: the emulator and the Anthropic API count; OpenAI-compatible servers have no count. */
export function counterOf(backend: Backend, name: string): TokenCounter {
  return 'countTokens' in backend && backend.countTokens ? { name, countTokens: (call) => backend.countTokens!(call) } : { name };
}

/**
 * Who counts each model's tokens, in routing order (the first configured backend serving the
 * model): a direct backend counts its own; an `anthropic-batch` backend's count comes from the
 * Anthropic API behind it, since a count is no batch work and costs nothing there. `openai-batch`
 * has no token counting.
 */
export class TokenCounters {
  readonly #routes: { serves: (model: string) => boolean; counter: TokenCounter }[];
  readonly #own: AnthropicBackend[] = [];

  /** `direct(name)` is the backend the lane of that name calls. */
  constructor(specs: readonly BackendSpec[], direct: (name: string) => Backend) {
    this.#routes = specs.map((spec) => ({ serves: matchesAnyModel(spec.models), counter: isProviderBatch(spec) ? this.#providerCounter(spec) : counterOf(direct(spec.name), spec.name) }));
  }

  for(model: string): TokenCounter | undefined {
    return this.#routes.find((route) => route.serves(model))?.counter;
  }

  /** Closes the connections of the counters of provider-batch backends (the lanes close their own). */
  async close(): Promise<void> {
    await Promise.all(this.#own.map((backend) => backend.close()));
  }

  #providerCounter(spec: BackendSpec): TokenCounter {
    if (spec.type !== 'anthropic-batch') return { name: spec.name };
    const backend = new AnthropicBackend({ name: spec.name, url: spec.url!, apiKey: spec.apiKey ?? '', timeoutMs: spec.timeoutMs });
    this.#own.push(backend);
    return counterOf(backend, spec.name);
  }
}
