import { matchesAnyModel } from '../model-pattern.js';
import { AnthropicBackend } from './anthropic/anthropic-backend.js';
import type { Backend, BackendCall, CountOutcome } from './backend.js';
import { abortedOutcome } from './classify.js';
import { isProviderBatch, type BackendSpec } from './backend-spec.js';

/** The backend that serves a model, by name, and its token count when it can count (`POST /v1/messages/count_tokens`). */
export interface TokenCounter {
  name: string;
  countTokens?(call: BackendCall): Promise<CountOutcome>;
}

/**
 * Most token counts in flight to one backend. Each holds a connection to the provider, and counts
 * are no batch work, so no lane bounds them: without this, a flood of counts could open as many
 * connections upstream as clients hold to batchd, taking the descriptors the engine's calls need.
 */
export const COUNTS_IN_FLIGHT = 16;

/** The backend configured as `name` as a counter: the emulator and the Anthropic API count; OpenAI-compatible servers have no count. */
export function counterOf(backend: Backend, name: string): TokenCounter {
  if (!('countTokens' in backend) || !backend.countTokens) return { name };
  const bound = new InFlightBound(COUNTS_IN_FLIGHT);
  return { name, countTokens: (call) => bound.run(call.signal, () => backend.countTokens!(call)) };
}

/** At most `limit` counts at once; the rest wait their turn, first come first served, and leave when their caller goes. */
export class InFlightBound {
  #running = 0;
  readonly #waiting: Array<() => void> = [];

  constructor(private readonly limit: number) {}

  async run(signal: AbortSignal, count: () => Promise<CountOutcome>): Promise<CountOutcome> {
    if (!(await this.#enter(signal))) return abortedOutcome();
    try {
      return await count();
    } finally {
      const next = this.#waiting.shift();
      if (next) next();
      else this.#running -= 1;
    }
  }

  /** True once this caller holds a place (handed over by one finishing); false if its caller went first. */
  #enter(signal: AbortSignal): Promise<boolean> {
    if (signal.aborted) return Promise.resolve(false);
    if (this.#running < this.limit) {
      this.#running += 1;
      return Promise.resolve(true);
    }
    return new Promise((resolve) => {
      const handed = () => {
        signal.removeEventListener('abort', gone);
        resolve(true);
      };
      const gone = () => {
        this.#waiting.splice(this.#waiting.indexOf(handed), 1);
        resolve(false);
      };
      this.#waiting.push(handed);
      signal.addEventListener('abort', gone, { once: true });
    });
  }
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
