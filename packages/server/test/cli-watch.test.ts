import { BatchdClient, type BatchCreateRequest, type MessageBatch } from '@batchd/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, runCliInTerminal } from '../test-support/process/run-cli.js';
import { TEST_API_KEY } from '../test-support/api/api.js';
import { userRequest } from '../test-support/api/batches.js';
import { expectSchema } from '../test-support/api/openapi.js';
import { startServer, type ServerHandle } from '../test-support/process/server-process.js';

/** `batchd batches watch`, in a pseudo-terminal (progress bar, colours) and on plain pipes. */

let server: ServerHandle;
let client: BatchdClient;

beforeAll(async () => {
  server = await startServer({ flags: { 'log-level': 'warn' } });
  client = new BatchdClient({ baseURL: server.url, apiKey: TEST_API_KEY });
});

afterAll(async () => {
  // One request is still sleeping in the emulator by design; there is nothing to wait for.
  await server.kill();
});

/** The shared request builder, typed for the SDK. */
const request = (...args: Parameters<typeof userRequest>) => userRequest(...args) as BatchCreateRequest;

/** Requests that end one after another over a few seconds, so that watch has something to follow. */
function staggered(prefix: string, count: number, stepMs = 600): BatchCreateRequest[] {
  return Array.from({ length: count }, (_, i) =>
    request(`${prefix}-${i}`, 'Hello', { metadata: { user_id: `emulator:latency=${(i + 1) * stepMs}` } }),
  );
}

const clientFlags = () => ['--base-url', server.url, '--api-key', TEST_API_KEY];
/** One frame of the bar: `████░░ 50% 6/12 | …`. */
const FRAME = /[\u2588\u2591]+ \d+% \d+\/\d+ \| /g;
const COLOR = /\x1b\[3\dm/;

describe('batchd batches watch', () => {
  it('draws a live progress bar in a terminal and ends with the final counts', async () => {
    const batch = await client.messages.batches.create({ requests: staggered('tty', 12) });
    const result = await runCliInTerminal(['batches', 'watch', batch.id, ...clientFlags()]);
    expect(result.code, result.stdout).toBe(0);
    const output = result.stdout;
    const frames = output.match(FRAME) ?? [];
    expect(frames.length, output).toBeGreaterThan(0);
    // Frames are redrawn in place, the cursor hidden while they are and shown again after.
    expect(output).toContain('\x1b[1G');
    expect(output).toContain('\x1b[?25l');
    expect(output).toContain('\x1b[?25h');
    expect(frames.at(-1)).toMatch(/ 100% 12\/12 \| $/);
    expect(output).toMatch(/100% 12\/12 \| \x1b\[32m12 succeeded\x1b\[39m, 0 errored, 0 canceled, 0 expired \| [\d.]+\/s \| ETA 0s/);
    expect(output).toMatch(/status *\x1b\[22m {2}\x1b\[32mended\x1b\[39m/);
    expect(output).toMatch(/requests *\x1b\[22m {2}12: \x1b\[32m12 succeeded/);
  });

  it('prints no colours in a terminal when NO_COLOR is set', async () => {
    const batch = await client.messages.batches.create({ requests: staggered('nocolor', 3, 300) });
    const result = await runCliInTerminal(['batches', 'watch', batch.id, ...clientFlags()], { env: { NO_COLOR: '1' } });
    expect(result.code, result.stdout).toBe(0);
    expect(result.stdout).not.toMatch(COLOR);
    expect(result.stdout).toMatch(/requests +3: 3 succeeded, 0 errored, 0 canceled, 0 expired/);
  });

  it('prints plain progress lines when not a terminal, and exits 3 when requests errored', async () => {
    const failing = request('pipe-fail', 'Hi', { metadata: { user_id: 'emulator:error=not_found_error' } });
    const batch = await client.messages.batches.create({ requests: [...staggered('pipe', 4, 400), failing] });
    const result = await runCli(['batches', 'watch', batch.id, '--json', ...clientFlags()]);
    expect(result.code, result.stderr).toBe(3);
    const ended = expectSchema<MessageBatch>('MessageBatch', JSON.parse(result.stdout));
    expect(ended).toMatchObject({ id: batch.id, processing_status: 'ended' });
    expect(ended.request_counts).toEqual({ processing: 0, succeeded: 4, errored: 1, canceled: 0, expired: 0 });
    const lines = result.stderr.trimEnd().split('\n');
    expect(lines.at(-2)).toMatch(/^5\/5 \(100%\) \| 4 succeeded, 1 errored, 0 canceled, 0 expired \| [\d.-]+\/s \| ETA 0s$/);
    expect(lines.slice(0, -2).every((line) => /^\d\/5 \(\d+%\) \| .* \| ETA \S+$/.test(line))).toBe(true);
    expect(lines.at(-1)).toBe('error: 1 of 5 requests did not succeed: 1 errored');
    expect(result.stderr).not.toContain('\x1b[');
  });

  it('stops on Ctrl-C in a terminal, showing the cursor again, and exits 130', async () => {
    const batch = await client.messages.batches.create({ requests: [request('stuck', 'Hi', { metadata: { user_id: 'emulator:latency=120000' } })] });
    const result = await runCliInTerminal(['batches', 'watch', batch.id, ...clientFlags()], { interruptOn: FRAME });
    expect(result.code, result.stdout).toBe(130);
    const lastFrame = result.stdout.lastIndexOf('0% 0/1 | ');
    expect(lastFrame).toBeGreaterThan(-1);
    expect(result.stdout.indexOf('\x1b[?25h', lastFrame)).toBeGreaterThan(lastFrame);
    expect(result.stdout).toContain('error:\x1b[39m interrupted');
  });

  it('of an unknown batch exits 1 with the request id', async () => {
    const result = await runCli(['batches', 'watch', 'msgbatch_unknown', ...clientFlags()]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^error: not_found_error: .* \(request req_\w+\)\n$/);
  });
});
