import { BatchdClient } from '@batchd/sdk';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../../examples/batches-reference.js';
import { runProcess } from '../test-support/process/run-cli.js';
import { TEST_API_KEY } from '../test-support/api/api.js';
import { emulatorReply } from '../test-support/api/batches.js';
import { startServer, type ServerHandle } from '../test-support/process/server-process.js';

/** `examples/batches-reference.ts`, the API reference's batches flow, runs as written against batchd. */

const EXAMPLES = fileURLToPath(new URL('../../../examples/', import.meta.url));
const TSC = fileURLToPath(new URL('../../../node_modules/typescript/bin/tsc', import.meta.url));

let server: ServerHandle;

beforeAll(async () => {
  server = await startServer({ flags: { 'log-level': 'warn', 'emulator-latency-ms': 1000 } });
});

afterAll(async () => {
  await server.stop();
});

function expectReferenceFlow(lines: string[]): void {
  const id = /^Created batch (msgbatch_\w+)$/.exec(lines[0] ?? '')?.[1];
  expect(id, lines.join('\n')).toBeDefined();
  expect(lines[1]).toMatch(new RegExp(`^Batch ${id} processing status is (in_progress|ended)$`));
  expect(lines).toContain(`Batch ${id} has ended: {"processing":0,"succeeded":2,"errored":0,"canceled":0,"expired":0}`);
  expect(lines.filter((line) => line.startsWith('Success! ')).sort()).toEqual([
    `Success! my-first-request: ${emulatorReply('Hello, world')}`,
    `Success! my-second-request: ${emulatorReply('Hi again, friend')}`,
  ]);
}

describe('the batches reference example', () => {
  it('creates, checks, polls and prints both results through main(client)', async () => {
    const lines: string[] = [];
    await main(new BatchdClient({ baseURL: server.url, apiKey: TEST_API_KEY }), { pollInterval: 100, log: (line) => lines.push(line) });
    expectReferenceFlow(lines);
    // The emulator takes a second per request, so the example polled at least once.
    expect(lines.some((line) => line.endsWith('is still processing...'))).toBe(true);
  });

  it('runs as a program from its compiled JavaScript, configured by the environment', async () => {
    // As its header says: `npx tsc -p examples`, which also type-checks it, then node.
    const tsc = await runProcess(process.execPath, [TSC, '-p', EXAMPLES]);
    expect(tsc.code, tsc.stdout + tsc.stderr).toBe(0);
    const env = { BATCHD_BASE_URL: server.url, BATCHD_API_KEY: TEST_API_KEY };
    const { code, stdout, stderr } = await runProcess(process.execPath, [`${EXAMPLES}dist/batches-reference.js`], { env });
    expect(code, stderr).toBe(0);
    expectReferenceFlow(stdout.trimEnd().split('\n'));
  });
});
