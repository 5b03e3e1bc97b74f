import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeProvider } from '../test-support/fakes/fake-provider.js';
import { createTestDatabase, postgresUnavailable, type TestDatabase } from '../test-support/postgres/test-database.js';
import { join } from 'node:path';
import { pythonWithSdks, REPO_ROOT, run } from '../test-support/process/python-venv.js';
import { FakeAnthropicBatches } from '../test-support/fakes/fake-anthropic-batches.js';
import { batchAnswer, PROVIDER_KEY, startProviderBatchServer } from '../test-support/process/provider-batch-server.js';
import { startServer, type ServerFlags, type ServerHandle } from '../test-support/process/server-process.js';

/**
 * The official Python SDKs (`anthropic`, `openai`) against a real `batchd serve`, on SQLite and on
 * PostgreSQL: the pytest suite in `test/python/` (which also runs `examples/python/`), in a venv
 * made once. Models named `gpu-*` go to a fake OpenAI-compatible server, `sonnet-*` models to a
 * fake Anthropic API, `claude-batch-*` models to an `anthropic-batch` backend on a fake Message
 * Batches API, every other model to the emulator.
 * A failing pytest fails here with its output.
 */

const SUITE = join(REPO_ROOT, 'packages/server/test/python');
const SUITE_TIMEOUT_MS = 240_000;
// One call in flight: the cancel tests rely on requests that are never sent.
const FLAGS = { concurrency: 1 };

let python: string;
let gpu: FakeProvider;
let claude: FakeProvider;
let provider: FakeAnthropicBatches;
beforeAll(async () => {
  python = await pythonWithSdks();
  gpu = await FakeProvider.start({ shape: 'openai', models: [{ id: 'gpu-chat', object: 'model', created: 1_700_000_000, owned_by: 'vllm' }] });
  claude = await FakeProvider.start({ shape: 'anthropic', models: [{ type: 'model', id: 'sonnet-chat', display_name: 'Sonnet Chat', created_at: '2025-09-29T00:00:00Z' }] });
  provider = await FakeAnthropicBatches.start({ apiKey: PROVIDER_KEY, answer: batchAnswer, recordBodies: true });
}, SUITE_TIMEOUT_MS);
afterAll(async () => {
  await gpu.close();
  await claude.close();
  await provider.close();
});

function startSuiteServer(flags: ServerFlags): Promise<ServerHandle> {
  const extraBackends = [
    { name: 'gpu', type: 'openai', url: gpu.url, models: ['gpu-*'] },
    { name: 'claude', type: 'anthropic', url: claude.url, models: ['sonnet-*'] },
  ];
  return startProviderBatchServer(provider, { flags: { ...FLAGS, ...flags }, models: ['claude-batch-*'], extraBackends });
}

async function pytest(server: ServerHandle, suite: string): Promise<void> {
  const env = { ...process.env, BATCHD_BASE_URL: server.url, BATCHD_API_KEY: 'python-key', PYTHONDONTWRITEBYTECODE: '1' };
  const { code, output } = await run(python, ['-m', 'pytest', '-q', '-p', 'no:cacheprovider', suite], env);
  expect(code, output).toBe(0);
  expect(output).toMatch(/ passed/);
  expect(output).not.toMatch(/skipped|xfail/);
}

async function pytestAgainst(server: ServerHandle): Promise<void> {
  const [firstCall, firstRequest] = [provider.calls.length, gpu.requests.length];
  await pytest(server, SUITE);
  expect(provider.submissions.length, 'the provider-batch test went to the provider').toBeGreaterThan(0);
  expect(provider.directCalls).toBe(0);
  // test_exact_numbers.py: integers past 2^53 reach each provider as the Python SDKs wrote them.
  const creates = provider.calls.slice(firstCall).filter((call) => call.method === 'POST' && call.path === '/v1/messages/batches');
  expect(creates.filter((call) => call.body?.includes('"maximum":18446744073709551615'))).toHaveLength(1);
  expect(gpu.requests.slice(firstRequest).filter((request) => request.text.includes('"seed":9223372036854775807'))).toHaveLength(1);
}

describe('the official Python SDKs', () => {
  it('pass the Python suite on SQLite', async () => {
    await pytestAgainst(await startSuiteServer({}));
  }, SUITE_TIMEOUT_MS);

  const unavailable = postgresUnavailable();
  let database: TestDatabase | undefined;
  afterAll(async () => {
    await database?.drop();
  });

  it('see a store short of storage answer creates and uploads 507, without retrying', async () => {
    // A reserve of a billion MiB: more free space than any disk has.
    await pytest(await startServer({ flags: { 'min-free-disk-mb': 1_000_000_000 } }), join(REPO_ROOT, 'packages/server/test/python-full-disk'));
  }, SUITE_TIMEOUT_MS);

  it.skipIf(unavailable !== null)('pass the Python suite on PostgreSQL', async () => {
    database = await createTestDatabase();
    await pytestAgainst(await startSuiteServer({ db: database.url }));
  }, SUITE_TIMEOUT_MS);
});
