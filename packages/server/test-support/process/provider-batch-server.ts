import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { anthropicMessage } from '../fakes/fake-answers.js';
import type { FakeBatchServer } from '../fakes/fake-batch-server.js';
import { makeTempDir, startServer, type ServerFlags, type ServerHandle } from './server-process.js';

/** The upstream key the fake provider checks and batchd is given. */
export const PROVIDER_KEY = 'sk-provider-batch';

/** A provider batch's answer: the fake's echo message, as the Batches API serves it (batch tier, a field batchd does not know). */
export function batchAnswer(body: unknown): unknown {
  const message = anthropicMessage(body) as { usage: Record<string, unknown> };
  return { ...message, usage: { ...message.usage, service_tier: 'batch' }, provider_only_field: { kept: true } };
}

/**
 * Starts `batchd serve` with a config file routing `models` to a provider-batch backend on `fake`
 * (`anthropic-batch` or `openai-batch` by the fake's shape, polled every 100 ms unless told) and
 * `extraBackends` next, and every other model to the emulator.
 */
export async function startProviderBatchServer(
  fake: FakeBatchServer,
  options: { flags?: ServerFlags; models?: string[]; backend?: Record<string, unknown>; extraBackends?: Array<Record<string, unknown>> } = {},
): Promise<ServerHandle> {
  const dir = await makeTempDir('batchd-provider-config-');
  const config = join(dir, 'batchd.json');
  const type = fake.shape === 'anthropic' ? 'anthropic-batch' : 'openai-batch';
  const provider = { name: fake.shape === 'anthropic' ? 'claude-batch' : 'gpt-batch', type, url: fake.url, api_key_env: 'PROVIDER_KEY', models: options.models ?? ['claude-*'], ...options.backend };
  await writeFile(config, JSON.stringify({ backends: [provider, ...(options.extraBackends ?? []), { name: 'dev', type: 'emulator', models: ['*'] }] }));
  return startServer({ flags: { config, 'provider-poll-interval': '100ms', ...options.flags }, env: { PROVIDER_KEY } });
}
