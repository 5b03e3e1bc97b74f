import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig, parseDuration } from './config.js';

describe('config', () => {
  it('parses durations in every unit and rejects others', () => {
    expect(parseDuration('500ms')).toBe(500);
    expect(parseDuration('3s')).toBe(3000);
    expect(parseDuration('10m')).toBe(600_000);
    expect(parseDuration('24h')).toBe(86_400_000);
    expect(parseDuration('29d')).toBe(29 * 86_400_000);
    expect(() => parseDuration('3 weeks', '--batch-ttl')).toThrow(/--batch-ttl: expected a duration/);
    expect(() => parseDuration('10')).toThrow();
  });

  it('has the documented defaults', () => {
    const config = loadConfig({}, {});
    expect(config).toMatchObject({
      host: '127.0.0.1', port: 8787, db: './data/batchd.sqlite', publicUrl: null,
      batchTtlMs: 86_400_000, resultsTtlMs: 29 * 86_400_000, emulatorLatencyMs: 0,
    });
  });

  it('takes flags over environment over file over defaults', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'batchd-config-')), 'batchd.json');
    writeFileSync(file, JSON.stringify({ port: 1111, concurrency: 7, 'batch-ttl': '2h', host: '0.0.0.0' }));
    const config = loadConfig({ BATCHD_PORT: '2222', BATCHD_CONCURRENCY: '9' }, { port: '3333' }, file);
    expect(config.port).toBe(3333);
    expect(config.concurrency).toBe(9);
    expect(config.batchTtlMs).toBe(7_200_000);
    expect(config.host).toBe('0.0.0.0');
  });

  it('names the option whose value is wrong', () => {
    expect(() => loadConfig({ BATCHD_CONCURRENCY: '0' }, {})).toThrow('--concurrency: expected a positive integer, got "0"');
    expect(() => loadConfig({}, { publicUrl: 'not a url' })).toThrow(/--public-url/);
    expect(loadConfig({}, { publicUrl: 'https://batches.example.test/' }).publicUrl).toBe('https://batches.example.test');
  });

  it('opens no metrics listener unless given a port', () => {
    expect(loadConfig({}, {})).toMatchObject({ metricsHost: '127.0.0.1', metricsPort: null });
    expect(loadConfig({ BATCHD_METRICS_PORT: '9100', BATCHD_METRICS_HOST: '10.0.0.5' }, {})).toMatchObject({ metricsHost: '10.0.0.5', metricsPort: 9100 });
    expect(() => loadConfig({}, { metricsPort: '70000' })).toThrow('--metrics-port: expected a port number, got "70000"');
  });
});

describe('backend config', () => {
  it('builds one backend from flags, with the key from the environment only', () => {
    const config = loadConfig({ BATCHD_BACKEND_API_KEY: 'sk-up' }, { backend: 'openai', backendUrl: 'http://127.0.0.1:8000/v1', concurrency: '12' });
    expect(config.backends).toEqual([
      { name: 'openai', type: 'openai', url: 'http://127.0.0.1:8000/v1', apiKey: 'sk-up', models: ['*'], concurrency: 12, timeoutMs: 600_000, latencyMs: 0, cacheAware: true },
    ]);
    expect(() => loadConfig({}, { backend: 'anthropic' })).toThrow('--backend-url: required with --backend anthropic');
    expect(() => loadConfig({}, { backend: 'bedrock' })).toThrow('--backend: expected one of emulator, anthropic, openai, anthropic-batch, openai-batch, got "bedrock"');
  });

  it('makes anthropic and openai backends cache-aware unless told otherwise, with the prefix cache size given', () => {
    const dir = mkdtempSync(join(tmpdir(), 'batchd-config-'));
    const path = join(dir, 'cache.json');
    const backends = [
      { type: 'openai', url: 'http://gpu.test/v1', prefix_cache_tokens: 500_000 },
      { type: 'anthropic', url: 'http://a.test' },
      { type: 'emulator' },
      { type: 'anthropic-batch', url: 'http://a.test' },
    ];
    writeFileSync(path, JSON.stringify({ backends }));
    const cache = (flags: Record<string, string>) => loadConfig({}, flags, path).backends.map((b) => [b.cacheAware, b.prefixCacheTokens]);
    expect(cache({})).toEqual([[true, 500_000], [true, undefined], [false, undefined], [false, undefined]]);
    expect(cache({ cacheAware: 'off', prefixCacheTokens: '1000' })).toEqual([[false, 500_000], [false, 1000], [false, 1000], [false, 1000]]);
    expect(cache({ cacheAware: 'on' })).toEqual([[true, 500_000], [true, undefined], [true, undefined], [true, undefined]]);
    expect(() => loadConfig({}, { cacheAware: 'yes' })).toThrow('--cache-aware: expected on or off, got "yes"');
    writeFileSync(path, JSON.stringify({ backends: [{ type: 'emulator', prefix_cache_tokens: 'lots' }] }));
    expect(() => loadConfig({}, {}, path)).toThrow('backends[0]: prefix_cache_tokens must be a positive integer');
  });

  it('reads several backends from the config file and names what is wrong in one', () => {
    const dir = mkdtempSync(join(tmpdir(), 'batchd-config-'));
    const file = (content: unknown) => {
      const path = join(dir, `${Math.random()}.json`);
      writeFileSync(path, JSON.stringify(content));
      return path;
    };
    const config = loadConfig({ KEY_A: 'a' }, {}, file({ backends: [{ type: 'anthropic', url: 'http://a.test', api_key_env: 'KEY_A', models: ['claude-*'] }, { name: 'emu', type: 'emulator' }] }));
    expect(config.backends.map((b) => [b.name, b.type, b.apiKey, b.models])).toEqual([
      ['anthropic-0', 'anthropic', 'a', ['claude-*']],
      ['emu', 'emulator', undefined, ['*']],
    ]);
    expect(() => loadConfig({}, {}, file({ backends: [] }))).toThrow('backends: expected a non-empty list');
    expect(() => loadConfig({}, {}, file({ backends: [{ type: 'openai' }] }))).toThrow('backends[0]: url is required');
    expect(() => loadConfig({}, {}, file({ backends: [{ type: 'emulator', concurrency: 0 }] }))).toThrow('backends[0]: concurrency must be a positive integer');
    expect(() => loadConfig({}, {}, file({ backends: [{ type: 'emulator', responses_api: true }] }))).toThrow('backends[0]: responses_api must be true or false, on an openai backend');
    expect(loadConfig({}, {}, file({ backends: [{ type: 'openai', url: 'http://o.test/v1', responses_api: true }] })).backends[0]?.responsesApi).toBe(true);
  });

  it('reads the prices list of the config file, none without one, and names the entry that is wrong', () => {
    const dir = mkdtempSync(join(tmpdir(), 'batchd-config-'));
    const path = join(dir, 'prices.json');
    const prices = [{ models: ['claude-*'], direct: { input: 3, output: 15, cache_write: 3.75, cache_read: 0.3 } }];
    writeFileSync(path, JSON.stringify({ prices }));
    expect(loadConfig({}, {}, path).prices).toEqual(prices);
    expect(loadConfig({}, {}).prices).toEqual([]);
    writeFileSync(path, JSON.stringify({ prices: [{ ...prices[0], batch: { input: 1 } }] }));
    expect(() => loadConfig({}, {}, path)).toThrow('prices[0] (claude-*).batch.output: expected USD per million tokens');
  });

  it('routes claude-* to anthropic-batch, gpt-* to openai-batch and llama-* to a direct backend, with lowered split limits', () => {
    const dir = mkdtempSync(join(tmpdir(), 'batchd-config-'));
    const path = join(dir, 'batchd.json');
    writeFileSync(path, JSON.stringify({
      'provider-poll-interval': '30s',
      backends: [
        { name: 'claude', type: 'anthropic-batch', url: 'https://api.anthropic.com', api_key_env: 'A', models: ['claude-*'], max_requests: 5000 },
        { name: 'gpt', type: 'openai-batch', url: 'https://api.openai.com/v1', api_key_env: 'O', models: ['gpt-*'], max_bytes: 1_000_000 },
        { name: 'llama', type: 'openai', url: 'http://127.0.0.1:8000/v1', models: ['llama-*'] },
      ],
    }));
    const config = loadConfig({ A: 'sk-ant', O: 'sk-oai' }, {}, path);
    expect(config.providerPollIntervalMs).toBe(30_000);
    expect(config.backends.map((b) => [b.name, b.type, b.apiKey, b.maxRequests, b.maxBytes])).toEqual([
      ['claude', 'anthropic-batch', 'sk-ant', 5000, undefined],
      ['gpt', 'openai-batch', 'sk-oai', undefined, 1_000_000],
      ['llama', 'openai', undefined, undefined, undefined],
    ]);
    writeFileSync(path, JSON.stringify({ backends: [{ type: 'anthropic-batch', url: 'https://api.anthropic.com', max_requests: 0 }] }));
    expect(() => loadConfig({}, {}, path)).toThrow('backends[0]: max_requests must be a positive integer');
    expect(loadConfig({}, {}).providerPollIntervalMs).toBe(60_000);
    expect(loadConfig({}, { backend: 'anthropic-batch', backendUrl: 'https://api.anthropic.com', providerPollInterval: '2s' })).toMatchObject({
      providerPollIntervalMs: 2000,
      backends: [{ name: 'anthropic-batch', type: 'anthropic-batch' }],
    });
    expect(() => loadConfig({}, { providerPollInterval: '0ms' })).toThrow('--provider-poll-interval: expected a duration of at least 1ms, got "0ms"');
  });

  it('reads a backend of several replicas from urls, and refuses url with urls, an empty list or a URL twice', () => {
    const dir = mkdtempSync(join(tmpdir(), 'batchd-config-'));
    const file = (backend: unknown) => {
      const path = join(dir, `${Math.random()}.json`);
      writeFileSync(path, JSON.stringify({ backends: [backend] }));
      return path;
    };
    const urls = ['http://a.test:8000/v1', 'http://b.test:8000/v1'];
    expect(loadConfig({}, {}, file({ type: 'openai', urls })).backends[0]).toMatchObject({ type: 'openai', urls });
    expect(() => loadConfig({}, {}, file({ type: 'openai', url: urls[0], urls }))).toThrow('backends[0]: give url or urls, not both');
    expect(() => loadConfig({}, {}, file({ type: 'openai', urls: [] }))).toThrow('backends[0]: urls must be a non-empty list of URLs');
    expect(() => loadConfig({}, {}, file({ type: 'openai', urls: ['a.test'] }))).toThrow('backends[0]: urls: "a.test" is not a URL');
    expect(() => loadConfig({}, {}, file({ type: 'openai', urls: [urls[0], urls[0]] }))).toThrow('backends[0]: urls lists a URL twice');
    expect(() => loadConfig({}, {}, file({ type: 'emulator', urls }))).toThrow('backends[0]: the emulator takes no urls');
  });

  it('reads the webhook timeout and the first retry wait', () => {
    expect(loadConfig({}, {})).toMatchObject({ webhookTimeoutMs: 15_000, webhookRetryBaseMs: 5_000 });
    expect(loadConfig({ BATCHD_WEBHOOK_RETRY_BASE: '5ms' }, { webhookTimeout: '2s' })).toMatchObject({ webhookTimeoutMs: 2000, webhookRetryBaseMs: 5 });
    expect(() => loadConfig({}, { webhookRetryBase: '0ms' })).toThrow('--webhook-retry-base: expected a duration of at least 1ms, got "0ms"');
  });

  it('sends webhooks anywhere on loopback and to public addresses only elsewhere, unless told', () => {
    expect(loadConfig({}, {}).webhookTargets).toBe('any');
    expect(loadConfig({}, { host: '0.0.0.0' }).webhookTargets).toBe('public');
    expect(loadConfig({ BATCHD_WEBHOOK_TARGETS: 'any' }, { host: '0.0.0.0' }).webhookTargets).toBe('any');
    expect(loadConfig({}, { webhookTargets: 'public' }).webhookTargets).toBe('public');
    expect(() => loadConfig({}, { webhookTargets: 'private' })).toThrow('--webhook-targets: expected any or public, got "private"');
  });

  it('reads the stream bounds and the results file threshold', () => {
    expect(loadConfig({}, {}).maxResultsStreamsPerWorkspace).toBe(32);
    expect(loadConfig({ BATCHD_MAX_RESULTS_STREAMS_PER_WORKSPACE: '8' }, {}).maxResultsStreamsPerWorkspace).toBe(8);
    expect(() => loadConfig({}, { maxResultsStreamsPerWorkspace: '0' })).toThrow('--max-results-streams-per-workspace');
    expect(loadConfig({}, {}).maxFollowsPerWorkspace).toBe(32);
    expect(loadConfig({ BATCHD_MAX_FOLLOWS_PER_WORKSPACE: '200' }, {}).maxFollowsPerWorkspace).toBe(200);
    expect(() => loadConfig({}, { maxFollowsPerWorkspace: '0' })).toThrow('--max-follows-per-workspace');
    expect(loadConfig({}, {}).resultsFileMinRequests).toBe(1000);
    expect(loadConfig({ BATCHD_RESULTS_FILE_MIN_REQUESTS: '50' }, {}).resultsFileMinRequests).toBe(50);
    expect(() => loadConfig({}, { resultsFileMinRequests: '0' })).toThrow('--results-file-min-requests');
  });
});
