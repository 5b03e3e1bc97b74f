/** One configured backend: what it is, where, and which models it serves. */
export interface BackendSpec {
  name: string;
  type: BackendType;
  /** Base URL: the API root for `anthropic` and `anthropic-batch`, the `/v1` base for `openai` and `openai-batch`; unused by the emulator. */
  url?: string;
  /** Base URLs of several replicas serving the same models, instead of `url`. */
  urls?: string[];
  /** The upstream key, read from the environment; never logged or answered. */
  apiKey?: string;
  /** Model name patterns (`*` matches any run of characters); a request goes to the first backend that serves its model. */
  models: string[];
  /** Most calls in flight to this backend. */
  concurrency: number;
  timeoutMs: number;
  /** Emulator delay per request. */
  latencyMs?: number;
  /** Model names rewritten before the call (`openai` only). */
  modelMap?: Record<string, string>;
  /** The server serves the Responses API, so Responses requests go to it unchanged (`openai` only). */
  responsesApi?: boolean;
  /** Lower split limits of one provider batch than the provider's own (provider-batch kinds only). */
  maxRequests?: number;
  maxBytes?: number;
  /** Requests sharing a prefix are grouped, primed and kept to a working set (see `engine/prefix-gate.ts`). */
  cacheAware: boolean;
  /** Tokens the engine's prefix cache holds; learned from the cached tokens it reports when absent. */
  prefixCacheTokens?: number;
}

/**
 * Whether a backend of `type` is cache-aware: as `--cache-aware` says, else on for the kinds that
 * call a provider once per request (`anthropic`, `openai`), whose prompt or prefix caches the
 * call order can serve. Provider-batch kinds hand the order to the provider.
 */
export function cacheAwareFor(type: BackendSpec['type'], setting: 'on' | 'off' | null): boolean {
  return setting === null ? type === 'anthropic' || type === 'openai' : setting === 'on';
}

/** Backend kinds: one call per request (`emulator`, `anthropic`, `openai`), or the provider's batch API. */
export const BACKEND_TYPES = ['emulator', 'anthropic', 'openai', 'anthropic-batch', 'openai-batch'] as const;
export type BackendType = (typeof BACKEND_TYPES)[number];
export type ProviderBatchType = Extract<BackendType, 'anthropic-batch' | 'openai-batch'>;

/** True for the kinds that send requests as provider batches. */
export function isProviderBatch(spec: BackendSpec): spec is BackendSpec & { type: ProviderBatchType } {
  return spec.type === 'anthropic-batch' || spec.type === 'openai-batch';
}

const TYPES = new Set<string>(BACKEND_TYPES);

/** An optional positive integer setting of a backend entry. */
function positive(where: string, name: string, value: unknown): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) fail(where, `${name} must be a positive integer`);
  return value;
}

function fail(where: string, message: string): never {
  throw new Error(`${where}: ${message}`);
}

/** A backend's `url`, or its replicas' `urls`: one of the two, for every type but the emulator. */
function parseUrls(where: string, type: string, url: unknown, urls: unknown): Pick<BackendSpec, 'url' | 'urls'> {
  if (url !== undefined && urls !== undefined) fail(where, 'give url or urls, not both');
  if (urls === undefined) {
    if (type !== 'emulator' && typeof url !== 'string') fail(where, 'url is required (or urls, one per replica)');
    return { url: url as string | undefined };
  }
  if (type === 'emulator') fail(where, 'the emulator takes no urls');
  if (!Array.isArray(urls) || urls.length === 0 || !urls.every((u) => typeof u === 'string')) fail(where, 'urls must be a non-empty list of URLs');
  for (const u of urls as string[]) if (!URL.canParse(u)) fail(where, `urls: "${u}" is not a URL`);
  if (new Set(urls).size !== urls.length) fail(where, 'urls lists a URL twice');
  return { urls: urls as string[] };
}

/**
 * Reads the `backends` list of a config file. Keys are never written in the file: each entry
 * names the environment variable holding its key (`api_key_env`).
 */
export function parseBackendSpecs(
  raw: unknown,
  env: Record<string, string | undefined>,
  defaults: { concurrency: number; timeoutMs: number; latencyMs: number; cacheAware: 'on' | 'off' | null; prefixCacheTokens?: number },
): BackendSpec[] {
  if (!Array.isArray(raw) || raw.length === 0) fail('backends', 'expected a non-empty list');
  return raw.map((entry: unknown, index) => {
    const where = `backends[${index}]`;
    if (typeof entry !== 'object' || entry === null) fail(where, 'expected an object');
    const e = entry as Record<string, unknown>;
    const type = String(e.type ?? '');
    if (!TYPES.has(type)) fail(where, `type must be one of ${BACKEND_TYPES.join(', ')}, got "${type}"`);
    const urls = parseUrls(where, type, e.url, e.urls);
    const models = e.models ?? ['*'];
    if (!Array.isArray(models) || !models.every((m) => typeof m === 'string')) fail(where, 'models must be a list of patterns');
    const keyEnv = e.api_key_env;
    if (keyEnv !== undefined && typeof keyEnv !== 'string') fail(where, 'api_key_env must name an environment variable');
    const concurrency = e.concurrency === undefined ? defaults.concurrency : Number(e.concurrency);
    if (!Number.isInteger(concurrency) || concurrency < 1) fail(where, 'concurrency must be a positive integer');
    if (e.responses_api !== undefined && (typeof e.responses_api !== 'boolean' || type !== 'openai')) fail(where, 'responses_api must be true or false, on an openai backend');
    const prefixCacheTokens = e.prefix_cache_tokens === undefined ? defaults.prefixCacheTokens : Number(e.prefix_cache_tokens);
    if (prefixCacheTokens !== undefined && (!Number.isInteger(prefixCacheTokens) || prefixCacheTokens < 1)) fail(where, 'prefix_cache_tokens must be a positive integer');
    return {
      name: typeof e.name === 'string' ? e.name : `${type}-${index}`,
      type: type as BackendSpec['type'],
      ...urls,
      apiKey: keyEnv ? env[keyEnv] : undefined,
      models: models as string[],
      concurrency,
      timeoutMs: e.timeout_ms === undefined ? defaults.timeoutMs : Number(e.timeout_ms),
      latencyMs: e.latency_ms === undefined ? defaults.latencyMs : Number(e.latency_ms),
      modelMap: e.model_map as Record<string, string> | undefined,
      responsesApi: e.responses_api === true,
      maxRequests: positive(where, 'max_requests', e.max_requests),
      maxBytes: positive(where, 'max_bytes', e.max_bytes),
      cacheAware: cacheAwareFor(type as BackendSpec['type'], defaults.cacheAware),
      prefixCacheTokens,
    };
  });
}
