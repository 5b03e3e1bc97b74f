import { BatchdClient, type BatchCreateRequest, type DeletedMessageBatch, type MessageBatch, type MessageBatchIndividualResponse, type MessageBatchesPage } from '@batchd/sdk';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, type CliOptions, type CliResult } from '../test-support/process/run-cli.js';
import { TEST_API_KEY } from '../test-support/api/api.js';
import { emulatorReply, resultsById, userRequest, userRequests, type BatchRequest } from '../test-support/api/batches.js';
import { expectSchema } from '../test-support/api/openapi.js';
import { makeTempDir, startServer, type ServerHandle } from '../test-support/process/server-process.js';

/** `batchd batches …` run as a subprocess against a running batchd. */

let server: ServerHandle;
let dir: string;

beforeAll(async () => {
  server = await startServer({ flags: { 'log-level': 'warn' } });
  dir = await makeTempDir('batchd-cli-');
});

afterAll(async () => {
  // Some requests are still sleeping in the emulator by design; there is nothing to wait for.
  await server.kill();
});

const failing = (customId: string): BatchRequest => userRequest(customId, 'Hi', { metadata: { user_id: 'emulator:error=not_found_error' } });
/** A request the emulator answers after `ms`: long enough that a batch of them is still running when the next command starts. */
const slow = (customId: string, ms = 5000): BatchRequest => userRequest(customId, 'Take your time', { metadata: { user_id: `emulator:latency=${ms}` } });

function jsonl(requests: BatchRequest[]): string {
  return requests.map((request) => `${JSON.stringify(request)}\n`).join('');
}

/** `batchd batches ARGS --base-url URL --api-key KEY`. */
function batches(args: string[], options: Pick<CliOptions, 'input' | 'env' | 'interruptOn'> = {}): Promise<CliResult> {
  return runCli(['batches', ...args, '--base-url', server.url, '--api-key', TEST_API_KEY], options);
}

/** Runs a command that must succeed and parses its `--json` output. */
async function json<T>(args: string[], schema: string | null, input?: string): Promise<T> {
  const result = await batches([...args, '--json'], { input });
  expect(result.code, result.stderr).toBe(0);
  const value = JSON.parse(result.stdout) as unknown;
  return schema ? expectSchema<T>(schema, value) : (value as T);
}

async function writeInput(name: string, text: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, text);
  return path;
}

/**
 * Setting up and waiting go through the SDK, which is quicker than starting a process each time;
 * `batchd batches create` itself is tested on its own.
 */
function sdk(): BatchdClient {
  return new BatchdClient({ baseURL: server.url, apiKey: TEST_API_KEY });
}

function createBatch(requests: BatchRequest[]): Promise<MessageBatch> {
  return sdk().messages.batches.create({ requests: requests as BatchCreateRequest[] });
}

function waitEnded(id: string): Promise<MessageBatch> {
  return sdk().messages.batches.wait(id, { pollInterval: 50, maxPollInterval: 200 });
}

describe('batchd batches create', () => {
  it('creates a batch from a JSONL file and prints it as JSON', async () => {
    const path = await writeInput('three.jsonl', jsonl(userRequests(3, 'jsonl')));
    const batch = await json<MessageBatch>(['create', path], 'MessageBatch');
    expect(batch.request_counts.processing + batch.request_counts.succeeded).toBe(3);
    const ended = await waitEnded(batch.id);
    expect(ended.request_counts).toEqual({ processing: 0, succeeded: 3, errored: 0, canceled: 0, expired: 0 });
  });

  it('reads a pretty-printed JSON {requests} document', async () => {
    const path = await writeInput('doc.json', JSON.stringify({ requests: userRequests(2, 'doc') }, null, 2));
    const batch = await json<MessageBatch>(['create', path], 'MessageBatch');
    expect(batch.id).toMatch(/^msgbatch_/);
    expect((await waitEnded(batch.id)).request_counts.succeeded).toBe(2);
  });

  it('reads JSONL from stdin with -', async () => {
    const batch = await json<MessageBatch>(['create', '-'], 'MessageBatch', jsonl(userRequests(4, 'stdin')));
    expect((await waitEnded(batch.id)).request_counts.succeeded).toBe(4);
  });

  it('prints the batch for people by default', async () => {
    const result = await batches(['create', '-'], { input: jsonl([userRequest('human-0')]) });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^created msgbatch_\w+ with 1 requests\n/);
    expect(result.stdout).toMatch(/^status +in_progress|^status +ended/m);
    expect(result.stdout).not.toContain('\x1b[');
  });

  it('--wait follows the batch to its end and exits 3 when requests errored', async () => {
    const input = jsonl([userRequest('wait-ok'), failing('wait-404'), { custom_id: 'wait-invalid', params: { model: 'm', messages: [] } }]);
    const result = await batches(['create', '-', '--wait', '--json'], { input });
    expect(result.code, result.stderr).toBe(3);
    const batch = expectSchema<MessageBatch>('MessageBatch', JSON.parse(result.stdout));
    expect(batch.processing_status).toBe('ended');
    expect(batch.request_counts).toEqual({ processing: 0, succeeded: 1, errored: 2, canceled: 0, expired: 0 });
    expect(result.stderr).toContain('error: 2 of 3 requests did not succeed: 2 errored');
    // Not a terminal: progress comes as plain lines.
    expect(result.stderr).toMatch(/^\d+\/3 \(\d+%\) \| /m);
  });

  it('--wait exits 0 when every request succeeded', async () => {
    const result = await batches(['create', '-', '--wait'], { input: jsonl(userRequests(2, 'wait-all')) });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^requests +2: 2 succeeded, 0 errored, 0 canceled, 0 expired$/m);
  });

  it('rejects malformed input with exit code 2, naming the line', async () => {
    const result = await batches(['create', '-'], { input: `${JSON.stringify(userRequest('fine'))}\n{"custom_id": 7, "params": {}}\n` });
    expect(result).toMatchObject({ code: 2, stdout: '' });
    expect(result.stderr).toBe('error: stdin line 2: custom_id must be a string\n');
    const missing = await batches(['create', join(dir, 'no-such-file.jsonl')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^error: cannot read .*no-such-file\.jsonl: ENOENT/);
  });
});

describe('batchd batches list', () => {
  it('pages older with --after-id and newer with --before-id', async () => {
    const created: MessageBatch[] = [];
    for (const prefix of ['page-a', 'page-b', 'page-c']) {
      created.push(await createBatch(userRequests(1, prefix)));
    }
    const [a, b, c] = created.map((batch) => batch.id);
    const first = await json<MessageBatchesPage>(['list', '--limit', '2'], 'ListResponse_MessageBatch_');
    expect(first.data.map((batch) => batch.id)).toEqual([c, b]);
    expect(first).toMatchObject({ has_more: true, first_id: c, last_id: b });
    const older = await json<MessageBatchesPage>(['list', '--limit', '1', '--after-id', first.last_id!], 'ListResponse_MessageBatch_');
    expect(older.data.map((batch) => batch.id)).toEqual([a]);
    const newer = await json<MessageBatchesPage>(['list', '--limit', '2', '--before-id', a!], 'ListResponse_MessageBatch_');
    expect(newer.data.map((batch) => batch.id)).toEqual([c, b]);
    expect(newer.has_more).toBe(false);
  });

  it('prints an aligned table and the command for the next page', async () => {
    const result = await batches(['list', '--limit', '2']);
    expect(result.code, result.stderr).toBe(0);
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^ID +STATUS +REQUESTS +SUCCEEDED +ERRORED +CANCELED +EXPIRED +PROCESSING +CREATED$/);
    const header = lines[0]!;
    for (const row of lines.slice(1, 3)) {
      expect(row).toMatch(/^msgbatch_\w+ /);
      expect(row.slice(header.indexOf('STATUS'))).toMatch(/^(in_progress|canceling|ended) /);
      // Counts align right, under the end of their heading.
      expect(row.slice(0, header.indexOf('REQUESTS') + 'REQUESTS'.length)).toMatch(/ \d+$/);
    }
    expect(lines[3]).toMatch(/^more: batchd batches list --after-id msgbatch_\w+$/);
  });

  it('rejects a limit out of range with exit code 2', async () => {
    const result = await batches(['list', '--limit', '5000']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("option '--limit <n>' argument '5000' is invalid");
  });
});

describe('batchd batches get, results, cancel and delete', () => {
  it('gets a batch as JSON and as text', async () => {
    const created = await createBatch(userRequests(2, 'get'));
    const ended = await waitEnded(created.id);
    expect(ended.results_url).toBe(`${server.url}/v1/messages/batches/${created.id}/results`);
    const text = await batches(['get', created.id]);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain(`id           ${created.id}\n`);
    expect(text.stdout).toContain('status       ended\n');
    expect(text.stdout).toContain(`results_url  ${ended.results_url}\n`);
  });

  it('streams results to stdout, or to a file with -o', async () => {
    const requests = [userRequest('res-ok', 'Ping'), failing('res-404')];
    const { id } = await createBatch(requests);
    await waitEnded(id);
    const stdout = await batches(['results', id]);
    expect(stdout.code, stdout.stderr).toBe(0);
    const lines = stdout.stdout.trimEnd().split('\n').map((line) => expectSchema<MessageBatchIndividualResponse>('MessageBatchIndividualResponse', JSON.parse(line)));
    const byId = resultsById(lines, ['res-ok', 'res-404']);
    const ok = byId.get('res-ok')!.result;
    expect(ok.type === 'succeeded' && ok.message.content[0]).toMatchObject({ type: 'text', text: emulatorReply('Ping') });
    expect(byId.get('res-404')!.result).toMatchObject({ type: 'errored', error: { error: { type: 'not_found_error' } } });

    const path = join(dir, 'results.jsonl');
    const written = await json<{ output: string; results: number }>(['results', id, '-o', path], null);
    expect(written).toMatchObject({ output: path, results: 2 });
    expect(await readFile(path, 'utf8')).toBe(stdout.stdout);
    const human = await batches(['results', id, '--output', path]);
    expect(human.stdout).toBe(`wrote 2 results to ${path}: 1 succeeded, 1 errored, 0 canceled, 0 expired\n`);
  });

  it('cancels a running batch, whose unsent requests end canceled', async () => {
    const { id } = await createBatch(Array.from({ length: 1000 }, (_, i) => slow(`slow-${i}`)));
    const canceling = await json<MessageBatch>(['cancel', id], 'MessageBatch');
    expect(canceling.cancel_initiated_at).not.toBeNull();
    const ended = await waitEnded(id);
    expect(ended.request_counts.canceled).toBeGreaterThan(0);
    const text = await batches(['cancel', id]);
    expect(text.code).toBe(1);
    expect(text.stderr).toMatch(/^error: invalid_request_error: .+ \(request req_\w+\)\n$/);
  });

  it('deletes an ended batch; a second delete is a not_found_error with the request id', async () => {
    const { id } = await createBatch(userRequests(1, 'del'));
    await waitEnded(id);
    const deleted = await json<DeletedMessageBatch>(['delete', id], 'DeleteMessageBatchResponse');
    expect(deleted).toEqual({ id, type: 'message_batch_deleted' });
    const again = await batches(['delete', id]);
    expect(again.code).toBe(1);
    expect(again.stdout).toBe('');
    expect(again.stderr).toMatch(new RegExp(`^error: not_found_error: .*${id}.* \\(request req_\\w+\\)\\n$`));
  });
});

describe('errors', () => {
  it('an unknown id exits 1 with the server message and request id, and no stack trace', async () => {
    const result = await batches(['get', 'msgbatch_doesnotexist']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^error: not_found_error: .*msgbatch_doesnotexist.* \(request req_\w+\)\n$/);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it('finds the server and key in BATCHD_BASE_URL and BATCHD_API_KEY', async () => {
    const result = await runCli(['batches', 'list', '--limit', '1', '--json'], { env: { BATCHD_BASE_URL: server.url, BATCHD_API_KEY: TEST_API_KEY } });
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toHaveProperty('data');
  });

  it('without an API key exits 2 and says how to give one', async () => {
    const result = await runCli(['batches', 'list', '--base-url', server.url]);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe('error: no API key: pass --api-key or set BATCHD_API_KEY (or ANTHROPIC_API_KEY)\n');
  });

  it('an unreachable server exits 1 with a connection error', async () => {
    const closed = await startServer();
    await closed.stop();
    const result = await runCli(['batches', 'get', 'msgbatch_x', '--base-url', closed.url, '--api-key', TEST_API_KEY]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^error: Connection error\. \(.*ECONNREFUSED.*\)\n$/);
  });

  it('unknown commands and missing arguments exit 2', async () => {
    expect((await batches(['frobnicate'])).code).toBe(2);
    expect((await batches(['get'])).code).toBe(2);
    expect((await runCli(['batches', 'list', '--base-url', 'not a url'])).code).toBe(2);
  });

  it('results of a batch still running is an error, not an empty file', async () => {
    const { id } = await createBatch([slow('pending-0', 120_000)]);
    const result = await batches(['results', id]);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/^error: Batch msgbatch_\w+ has no results_url/);
  });
});

describe('batchd batches results of a running batch', () => {
  it('--partial writes the results so far; --follow writes each as it finishes, until the batch has ended', async () => {
    // `later` runs long enough for two CLI processes to start and read on a loaded machine.
    const { id } = await createBatch([slow('soon', 300), slow('later', 10_000)]);
    // Interrupted at its first line, the follower shows that line was written while the batch still ran.
    const interrupted = await batches(['results', id, '--follow'], { interruptOn: /"custom_id":"soon"/ });
    expect(interrupted.code, interrupted.stderr).toBe(130);
    expect(interrupted.stdout).not.toContain('"later"');
    const partial = await batches(['results', id, '--partial']);
    expect(partial.code, partial.stderr).toBe(0);
    expect(partial.stdout).toBe(interrupted.stdout);

    const path = join(dir, 'followed.jsonl');
    const followed = await batches(['results', id, '--follow', '-o', path]);
    expect(followed.code, followed.stderr).toBe(0);
    expect(followed.stdout).toBe(`wrote 2 results to ${path}: 2 succeeded, 0 errored, 0 canceled, 0 expired\n`);
    const lines = (await readFile(path, 'utf8')).trimEnd().split('\n');
    expect(lines[0]).toBe(partial.stdout.trimEnd());
    resultsById(lines.map((line) => expectSchema<MessageBatchIndividualResponse>('MessageBatchIndividualResponse', JSON.parse(line))), ['soon', 'later']);
    expect((await sdk().messages.batches.retrieve(id)).processing_status).toBe('ended');
  });
});
