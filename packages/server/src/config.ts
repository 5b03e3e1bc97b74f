import { readFileSync } from 'node:fs';
import { BACKEND_TYPES, cacheAwareFor, parseBackendSpecs, type BackendSpec } from './backends/backend-spec.js';
import { parsePrices, type PriceEntry } from './pricing/price-list.js';

/** Everything `batchd serve` is told, resolved: flags > environment > config file > defaults. */
export interface Config {
  host: string;
  port: number;
  /** SQLite file path, or a `postgres://` URL. */
  db: string;
  /** Base of `results_url`; null means `http://HOST:PORT` as actually bound. */
  publicUrl: string | null;
  /** Most backend calls in flight at once. */
  concurrency: number;
  /** Most requests leased by all nodes on one PostgreSQL database together; null for no such limit. */
  clusterConcurrency: number | null;
  batchTtlMs: number;
  resultsTtlMs: number;
  emulatorLatencyMs: number;
  maintenanceIntervalMs: number;
  /** How long a claimed request stays leased without renewal before another worker may take it. */
  leaseMs: number;
  /** Attempts per request before a retryable failure becomes an `errored` result. */
  maxAttempts: number;
  logLevel: string;
  /** `keys` or `none`; null picks `none` on a loopback address and `keys` on any other. */
  auth: 'keys' | 'none' | null;
  /** Most requests a workspace may have waiting or running; none when null. */
  maxQueuedRequests: number | null;
  /** Most batch-endpoint requests per minute per workspace; none when null. */
  rateLimitRpm: number | null;
  /** A kind of {@link BACKEND_TYPES}: the single backend, when no config file lists several. */
  backend: string;
  backendUrl: string | null;
  backendTimeoutMs: number;
  /** How often provider batches still running are asked about (provider-batch backends). */
  providerPollIntervalMs: number;
  /** Longest a request's body may take to arrive, from its headers to its last byte. */
  uploadTimeoutMs: number;
  /** Longest a receiver may take to answer one webhook attempt. */
  webhookTimeoutMs: number;
  /** Wait before the first retry of a webhook delivery; the rest of the schedule is in proportion to it. */
  webhookRetryBaseMs: number;
  /** Most follow streams (`?follow=true`) one workspace may hold open on one node. */
  maxFollowsPerWorkspace: number;
  maxResultsStreamsPerWorkspace: number;
  /** Free disk, in MiB, that creates and uploads leave for running batches and deletes (SQLite only); 0 for none. */
  minFreeDiskMb: number;
  /** Most MiB of uploaded files a workspace may store; null for no bound. */
  maxFileStorageMbPerWorkspace: number | null;
  /** Most connections the API holds open, one client address at most half; null for three quarters of the open-file limit. */
  maxConnections: number | null;
  /** Ended batches of at least this many requests are served from a results file (SQLite only). */
  resultsFileMinRequests: number;
  /** `any`, or `public` to send webhooks only to public addresses; null picks `any` on a loopback address and `public` on any other. */
  webhookTargets: 'any' | 'public' | null;
  /** Address of the `/metrics` listener that needs no key. */
  metricsHost: string;
  /** Port of the `/metrics` listener that needs no key; no such listener when null. */
  metricsPort: number | null;
  /** `on` or `off` for every backend; null picks on for the `anthropic` and `openai` kinds, off for the emulator. */
  cacheAware: 'on' | 'off' | null;
  /** Size of each engine's prefix cache, in tokens, for backends that do not set their own; null learns it. */
  prefixCacheTokens: number | null;
}

/** The resolved configuration with the backends to route to and the prices of their models. */
export interface ResolvedConfig extends Omit<Config, 'auth' | 'webhookTargets'> {
  backends: BackendSpec[];
  /** The config file's `prices` list; empty when it has none. */
  prices: PriceEntry[];
  auth: 'keys' | 'none';
  webhookTargets: 'any' | 'public';
}

/** True for addresses only this machine can reach. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

type Parser<T> = (raw: string, name: string) => T;

interface OptionSpec<K extends keyof Config> {
  key: K;
  flag: string;
  env: string;
  description: string;
  parse: Parser<Config[K]>;
  defaultValue: Config[K];
}

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Parses durations such as `500ms`, `3s`, `10m`, `24h`, `29d`. */
export function parseDuration(raw: string, name = 'duration'): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(raw.trim());
  if (!match) throw new Error(`${name}: expected a duration like 500ms, 3s, 10m, 24h or 29d, got "${raw}"`);
  return Math.round(Number(match[1]) * UNITS[match[2]!]!);
}

function positiveDuration(raw: string, name: string): number {
  const value = parseDuration(raw, name);
  if (value < 1) throw new Error(`${name}: expected a duration of at least 1ms, got "${raw}"`);
  return value;
}

function positiveInt(raw: string, name: string): number {
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name}: expected a positive integer, got "${raw}"`);
  return value;
}

function nonNegativeInt(raw: string, name: string): number {
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) throw new Error(`${name}: expected an integer ≥ 0, got "${raw}"`);
  return value;
}

function port(raw: string, name: string): number {
  const value = nonNegativeInt(raw, name);
  if (value > 65535) throw new Error(`${name}: expected a port number, got "${raw}"`);
  return value;
}

const text: Parser<string> = (raw) => raw;
const authMode: Parser<'keys' | 'none' | null> = (raw, name) => {
  if (raw !== 'keys' && raw !== 'none') throw new Error(`${name}: expected keys or none, got "${raw}"`);
  return raw;
};
const webhookTargets: Parser<'any' | 'public' | null> = (raw, name) => {
  if (raw !== 'any' && raw !== 'public') throw new Error(`${name}: expected any or public, got "${raw}"`);
  return raw;
};
const backendType: Parser<string> = (raw, name) => {
  if (!(BACKEND_TYPES as readonly string[]).includes(raw)) throw new Error(`${name}: expected one of ${BACKEND_TYPES.join(', ')}, got "${raw}"`);
  return raw;
};
const onOff: Parser<'on' | 'off' | null> = (raw, name) => {
  if (raw !== 'on' && raw !== 'off') throw new Error(`${name}: expected on or off, got "${raw}"`);
  return raw;
};
const url: Parser<string | null> = (raw, name) => {
  try {
    return new URL(raw).href.replace(/\/+$/, '');
  } catch {
    throw new Error(`${name}: expected an absolute URL, got "${raw}"`);
  }
};

function option<K extends keyof Config>(spec: OptionSpec<K>): OptionSpec<K> {
  return spec;
}

/** The options of `batchd serve`, each with its flag and environment variable. */
export const SERVE_OPTIONS = [
  option({ key: 'host', flag: 'host', env: 'BATCHD_HOST', description: 'address to listen on', parse: text, defaultValue: '127.0.0.1' }),
  option({ key: 'port', flag: 'port', env: 'BATCHD_PORT', description: 'port to listen on (0 picks a free one)', parse: port, defaultValue: 8787 }),
  option({ key: 'db', flag: 'db', env: 'BATCHD_DB', description: 'SQLite database file, or a postgres:// URL shared by many nodes', parse: text, defaultValue: './data/batchd.sqlite' }),
  option({ key: 'publicUrl', flag: 'public-url', env: 'BATCHD_PUBLIC_URL', description: 'base of results_url (default http://HOST:PORT)', parse: url, defaultValue: null }),
  option({ key: 'concurrency', flag: 'concurrency', env: 'BATCHD_CONCURRENCY', description: 'most backend calls in flight', parse: positiveInt, defaultValue: 64 }),
  option({ key: 'clusterConcurrency', flag: 'cluster-concurrency', env: 'BATCHD_CLUSTER_CONCURRENCY', description: 'most requests in flight across all nodes on one database', parse: positiveInt, defaultValue: null }),
  option({ key: 'batchTtlMs', flag: 'batch-ttl', env: 'BATCHD_BATCH_TTL', description: 'time a batch may run before unsent requests expire', parse: parseDuration, defaultValue: 24 * UNITS.h! }),
  option({ key: 'resultsTtlMs', flag: 'results-ttl', env: 'BATCHD_RESULTS_TTL', description: 'time after creation that results stay available', parse: parseDuration, defaultValue: 29 * UNITS.d! }),
  option({ key: 'emulatorLatencyMs', flag: 'emulator-latency-ms', env: 'BATCHD_EMULATOR_LATENCY_MS', description: 'emulator delay per request, in ms', parse: nonNegativeInt, defaultValue: 0 }),
  option({ key: 'maintenanceIntervalMs', flag: 'maintenance-interval', env: 'BATCHD_MAINTENANCE_INTERVAL', description: 'how often expiry, archival, lease recovery and the webhook scan run', parse: parseDuration, defaultValue: 1000 }),
  option({ key: 'leaseMs', flag: 'lease', env: 'BATCHD_LEASE', description: 'lease on a claimed request, renewed while it runs', parse: parseDuration, defaultValue: 30_000 }),
  option({ key: 'maxAttempts', flag: 'max-attempts', env: 'BATCHD_MAX_ATTEMPTS', description: 'attempts per request on retryable failures', parse: positiveInt, defaultValue: 8 }),
  option({ key: 'auth', flag: 'auth', env: 'BATCHD_AUTH', description: 'keys or none (default: none on loopback, keys elsewhere)', parse: authMode, defaultValue: null }),
  option({ key: 'maxQueuedRequests', flag: 'max-queued-requests', env: 'BATCHD_MAX_QUEUED_REQUESTS', description: 'most requests a workspace may have waiting or running', parse: positiveInt, defaultValue: null }),
  option({ key: 'maxConnections', flag: 'max-connections', env: 'BATCHD_MAX_CONNECTIONS', description: 'most connections the API holds open, one client address at most half (default: three quarters of the open-file limit)', parse: positiveInt, defaultValue: null }),
  option({ key: 'maxResultsStreamsPerWorkspace', flag: 'max-results-streams-per-workspace', env: 'BATCHD_MAX_RESULTS_STREAMS_PER_WORKSPACE', description: 'most results streams (results, partial results, OpenAI file contents) a workspace may read at once on one node', parse: positiveInt, defaultValue: 32 }),
  option({ key: 'minFreeDiskMb', flag: 'min-free-disk-mb', env: 'BATCHD_MIN_FREE_DISK_MB', description: 'free disk, in MiB, that creates and uploads leave for running batches and deletes; those that would take it answer 507 (SQLite; 0 for none)', parse: nonNegativeInt, defaultValue: 1024 }),
  option({ key: 'maxFileStorageMbPerWorkspace', flag: 'max-file-storage-mb-per-workspace', env: 'BATCHD_MAX_FILE_STORAGE_MB_PER_WORKSPACE', description: 'most MiB of uploaded files a workspace may store; uploads past it answer 400', parse: positiveInt, defaultValue: null }),
  option({ key: 'maxFollowsPerWorkspace', flag: 'max-follows-per-workspace', env: 'BATCHD_MAX_FOLLOWS_PER_WORKSPACE', description: 'most results follow streams a workspace may hold open on one node', parse: positiveInt, defaultValue: 32 }),
  option({ key: 'rateLimitRpm', flag: 'rate-limit-rpm', env: 'BATCHD_RATE_LIMIT_RPM', description: 'most batch-endpoint requests per minute per workspace', parse: positiveInt, defaultValue: null }),
  option({ key: 'backend', flag: 'backend', env: 'BATCHD_BACKEND', description: 'emulator, anthropic, openai, anthropic-batch or openai-batch (key in BATCHD_BACKEND_API_KEY)', parse: backendType, defaultValue: 'emulator' }),
  option({ key: 'backendUrl', flag: 'backend-url', env: 'BATCHD_BACKEND_URL', description: 'backend base URL (the /v1 base for openai)', parse: url, defaultValue: null }),
  option({ key: 'backendTimeoutMs', flag: 'backend-timeout', env: 'BATCHD_BACKEND_TIMEOUT', description: 'longest a backend call may take', parse: parseDuration, defaultValue: 600_000 }),
  option({ key: 'providerPollIntervalMs', flag: 'provider-poll-interval', env: 'BATCHD_PROVIDER_POLL_INTERVAL', description: 'how often running provider batches are polled', parse: positiveDuration, defaultValue: 60_000 }),
  option({ key: 'uploadTimeoutMs', flag: 'upload-timeout', env: 'BATCHD_UPLOAD_TIMEOUT', description: 'longest a request body may take to arrive; the connection is then closed', parse: parseDuration, defaultValue: 15 * UNITS.m! }),
  option({ key: 'webhookTimeoutMs', flag: 'webhook-timeout', env: 'BATCHD_WEBHOOK_TIMEOUT', description: 'longest a webhook receiver may take to answer', parse: parseDuration, defaultValue: 15_000 }),
  option({ key: 'webhookRetryBaseMs', flag: 'webhook-retry-base', env: 'BATCHD_WEBHOOK_RETRY_BASE', description: 'first wait before a failed webhook delivery is retried; the later waits and endpoint pauses keep their proportion to it', parse: positiveDuration, defaultValue: 5_000 }),
  option({ key: 'webhookTargets', flag: 'webhook-targets', env: 'BATCHD_WEBHOOK_TARGETS', description: 'any, or public to send webhooks to public addresses only (default: any on loopback, public elsewhere)', parse: webhookTargets, defaultValue: null }),
  option({ key: 'resultsFileMinRequests', flag: 'results-file-min-requests', env: 'BATCHD_RESULTS_FILE_MIN_REQUESTS', description: 'batches of at least this many requests are served from a results file beside a SQLite database once ended', parse: positiveInt, defaultValue: 1000 }),
  option({ key: 'metricsHost', flag: 'metrics-host', env: 'BATCHD_METRICS_HOST', description: 'address of the --metrics-port listener', parse: text, defaultValue: '127.0.0.1' }),
  option({ key: 'metricsPort', flag: 'metrics-port', env: 'BATCHD_METRICS_PORT', description: 'port of a listener serving GET /metrics without a key (0 picks a free one)', parse: port, defaultValue: null }),
  option({ key: 'cacheAware', flag: 'cache-aware', env: 'BATCHD_CACHE_AWARE', description: 'on or off: group requests by shared prefix, prime each group, bound the prefixes in flight (default: on for anthropic and openai backends)', parse: onOff, defaultValue: null }),
  option({ key: 'prefixCacheTokens', flag: 'prefix-cache-tokens', env: 'BATCHD_PREFIX_CACHE_TOKENS', description: "tokens an engine's prefix cache holds (default: learned from the cached tokens it reports)", parse: positiveInt, defaultValue: null }),
  option({ key: 'logLevel', flag: 'log-level', env: 'BATCHD_LOG_LEVEL', description: 'fatal, error, warn, info, debug or silent', parse: text, defaultValue: 'info' }),
] as const;

function camel(flag: string): string {
  return flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

/**
 * Resolves the configuration. `flags` holds raw strings keyed by camel-cased flag name (as
 * commander gives them); `configFile` is a JSON file whose keys are the flag names, plus an
 * optional `backends` list for routing models to several backends and a `prices` list.
 */
export function loadConfig(
  env: Record<string, string | undefined>,
  flags: Record<string, string | undefined>,
  configFile?: string,
): ResolvedConfig {
  const file: Record<string, unknown> = configFile ? JSON.parse(readFileSync(configFile, 'utf8')) : {};
  const resolved: Record<string, unknown> = {};
  for (const spec of SERVE_OPTIONS) {
    const fromFlag = flags[camel(spec.flag)];
    const fromEnv = env[spec.env];
    const fromFile = file[spec.flag];
    const raw = fromFlag ?? (fromEnv !== undefined && fromEnv !== '' ? fromEnv : undefined) ?? (fromFile !== undefined ? String(fromFile) : undefined);
    resolved[spec.key] = raw === undefined ? spec.defaultValue : spec.parse(raw, `--${spec.flag}`);
  }
  const config = resolved as unknown as Config;
  const loopback = isLoopback(config.host);
  const auth = config.auth ?? (loopback ? 'none' : 'keys');
  const targets = config.webhookTargets ?? (loopback ? 'any' : 'public');
  return Object.freeze({ ...config, auth, webhookTargets: targets, backends: resolveBackends(config, file.backends, env), prices: parsePrices(file.prices) });
}

function resolveBackends(config: Config, listed: unknown, env: Record<string, string | undefined>): BackendSpec[] {
  const defaults = {
    concurrency: config.concurrency,
    timeoutMs: config.backendTimeoutMs,
    latencyMs: config.emulatorLatencyMs,
    cacheAware: config.cacheAware,
    prefixCacheTokens: config.prefixCacheTokens ?? undefined,
  };
  if (listed !== undefined) return parseBackendSpecs(listed, env, defaults);
  const type = config.backend as BackendSpec['type'];
  if (type !== 'emulator' && !config.backendUrl) throw new Error(`--backend-url: required with --backend ${type}`);
  return [{
    name: type,
    type,
    url: config.backendUrl ?? undefined,
    apiKey: env.BATCHD_BACKEND_API_KEY,
    models: ['*'],
    ...defaults,
    cacheAware: cacheAwareFor(type, config.cacheAware),
  }];
}
