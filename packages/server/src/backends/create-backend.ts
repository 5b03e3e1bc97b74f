import { AnthropicBackend } from './anthropic/anthropic-backend.js';
import type { Backend } from './backend.js';
import type { BackendSpec, ProviderBatchType } from './backend-spec.js';
import { EmulatorBackend } from './emulator/emulator-backend.js';
import { OpenAIBackend } from './openai/openai-backend.js';

/** Builds the backend a spec of a kind called once per request describes. */
export function createBackend(spec: BackendSpec & { type: Exclude<BackendSpec['type'], ProviderBatchType> }): Backend {
  switch (spec.type) {
    case 'emulator':
      return new EmulatorBackend({ latencyMs: spec.latencyMs ?? 0 });
    case 'anthropic':
      return new AnthropicBackend({ name: spec.name, url: spec.urls ?? spec.url!, apiKey: spec.apiKey ?? '', timeoutMs: spec.timeoutMs });
    case 'openai':
      return new OpenAIBackend({ name: spec.name, url: spec.urls ?? spec.url!, apiKey: spec.apiKey, timeoutMs: spec.timeoutMs, modelMap: spec.modelMap, responsesApi: spec.responsesApi });
  }
}
