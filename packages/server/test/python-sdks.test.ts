import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeProvider } from '../test-support/fakes/fake-provider.js';
import { createTestDatabase, postgresUnavailable, type TestDatabase } from '../test-support/postgres/test-database.js';
import { pythonWithSdks, REPO_ROOT, run } from '../test-support/process/python-venv.js';
import { makeTempDir, startServer, type ServerHandle } from '../test-support/process/server-process.js';

/**
 * The official Python SDKs (`anthropic`, `openai`) against a real `batchd serve`, on SQLite and on
 * PostgreSQL: the pytest suite in `test/python/` (which also runs `examples/python/`), in a venv
 * made once. A failing pytest fails here with its output. Models named `gpu-*` go to a fake
 * OpenAI-compatible server, every other model to the emulator.
 */

const SUITE = join(REPO_ROOT, 'packages/server/test/python');
const SUITE_TIMEOUT_MS = 240_000;
// One call in flight: the cancel tests rely on requests that are never sent.
const FLAGS = { concurrency: 1 };

let python: string;
let gpu: FakeProvider;
let config: string;
beforeAll(async () => {
  python = await pythonWithSdks();
  gpu = await FakeProvider.start({ shape: 'openai' });
  config = join(await makeTempDir('batchd-python-'), 'batchd.json');
  const backends = [{ name: 'gpu', type: 'openai', url: gpu.url, models: ['gpu-*'] }, { name: 'emulator', type: 'emulator', models: ['*'] }];
  await writeFile(config, JSON.stringify({ backends }));
}, SUITE_TIMEOUT_MS);
afterAll(async () => {
  await gpu.close();
});

async function pytestAgainst(server: ServerHandle): Promise<void> {
  const env = { ...process.env, BATCHD_BASE_URL: server.url, BATCHD_API_KEY: 'python-key', PYTHONDONTWRITEBYTECODE: '1' };
  const { code, output } = await run(python, ['-m', 'pytest', '-q', '-p', 'no:cacheprovider', SUITE], env);
  expect(code, output).toBe(0);
  expect(output).toMatch(/ passed/);
  expect(output).not.toMatch(/skipped|xfail/);
}

describe('the official Python SDKs', () => {
  it('pass the Python suite on SQLite', async () => {
    await pytestAgainst(await startServer({ flags: { ...FLAGS, config } }));
  }, SUITE_TIMEOUT_MS);

  const unavailable = postgresUnavailable();
  let database: TestDatabase | undefined;
  afterAll(async () => {
    await database?.drop();
  });

  it.skipIf(unavailable !== null)('pass the Python suite on PostgreSQL', async () => {
    database = await createTestDatabase();
    await pytestAgainst(await startServer({ flags: { ...FLAGS, config, db: database.url } }));
  }, SUITE_TIMEOUT_MS);
});
