import { BatchdClient, type MessageBatchIndividualResponse } from '@batchd/sdk';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../test-support/process/run-cli.js';
import { TEST_API_KEY } from '../test-support/api/api.js';
import { emulatorReply, resultsById, tally, userRequest, userRequests, type BatchRequest } from '../test-support/api/batches.js';
import { expectSchema } from '../test-support/api/openapi.js';
import { makeTempDir, startServer } from '../test-support/process/server-process.js';

/** `batchd run FILE -o results.jsonl`: an embedded server, one command from requests to results. */

let dir: string;

beforeAll(async () => {
  dir = await makeTempDir('batchd-run-');
});

function jsonl(requests: BatchRequest[]): string {
  return requests.map((request) => `${JSON.stringify(request)}\n`).join('');
}

async function readResults(path: string): Promise<MessageBatchIndividualResponse[]> {
  const text = await readFile(path, 'utf8');
  expect(text.endsWith('\n')).toBe(true);
  return text.slice(0, -1).split('\n').map((line) => expectSchema<MessageBatchIndividualResponse>('MessageBatchIndividualResponse', JSON.parse(line)));
}

describe('batchd run', () => {
  it('writes every result and exits 3, saying how many requests errored', async () => {
    const requests = [
      ...userRequests(5, 'ok'),
      userRequest('fails', 'Hi', { metadata: { user_id: 'emulator:error=not_found_error' } }),
      { custom_id: 'invalid', params: { model: 'claude-sonnet-4-5', messages: [{ role: 'user', content: 'no max_tokens' }] } },
    ];
    const input = join(dir, 'mixed.jsonl');
    await writeFile(input, jsonl(requests));
    const output = join(dir, 'mixed-results.jsonl');
    const db = join(dir, 'mixed.sqlite');

    const result = await runCli(['run', input, '-o', output, '--db', db]);
    expect(result.code, result.stderr).toBe(3);
    expect(result.stdout).toBe(`7 requests: 5 succeeded, 2 errored, 0 canceled, 0 expired\nresults written to ${output}\n`);
    expect(result.stderr).toMatch(/^submitted 7 requests in 1 batch\(es\) on http:\/\/127\.0\.0\.1:\d+ /);
    expect(result.stderr).toMatch(/^7\/7 \(100%\) \| 5 succeeded, 2 errored, 0 canceled, 0 expired \| /m);
    expect(result.stderr.trimEnd().split('\n').at(-1)).toBe(`error: 2 of 7 requests did not succeed: 2 errored (see ${output})`);
    expect(existsSync(db)).toBe(true);

    const byId = resultsById(await readResults(output), requests.map((request) => request.custom_id));
    expect(tally([...byId.values()])).toEqual({ succeeded: 5, errored: 2, canceled: 0, expired: 0 });
    const ok = byId.get('ok-3')!.result;
    expect(ok.type === 'succeeded' && ok.message.content[0]).toMatchObject({ type: 'text', text: emulatorReply('Say hello to ok-3.') });
    expect(byId.get('fails')!.result).toMatchObject({ type: 'errored', error: { type: 'error', error: { type: 'not_found_error' } } });
    expect(byId.get('invalid')!.result).toMatchObject({ type: 'errored', error: { error: { type: 'invalid_request_error' } } });
  });

  it('reads stdin, takes serve flags, prints a JSON summary and exits 0 when all succeed', async () => {
    const requests = userRequests(40, 'stdin');
    const output = join(dir, 'stdin-results.jsonl');
    const args = ['run', '-', '-o', output, '--json', '--db', join(dir, 'stdin.sqlite'), '--concurrency', '4', '--emulator-latency-ms', '5'];
    const result = await runCli(args, { input: jsonl(requests) });
    expect(result.code, result.stderr).toBe(0);
    const summary = JSON.parse(result.stdout) as { batches: string[]; output: string; requests: number; request_counts: Record<string, number> };
    expect(summary).toMatchObject({ output, requests: 40, request_counts: { processing: 0, succeeded: 40, errored: 0, canceled: 0, expired: 0 } });
    expect(summary.batches).toHaveLength(1);
    expect(summary.batches[0]).toMatch(/^msgbatch_/);
    resultsById(await readResults(output), requests.map((request) => request.custom_id));
  });

  it('keeps the --db default of serve, ./data/batchd.sqlite', async () => {
    const cwd = await makeTempDir('batchd-run-cwd-');
    await writeFile(join(cwd, 'in.json'), JSON.stringify({ requests: userRequests(2, 'doc') }));
    const result = await runCli(['run', 'in.json', '-o', 'out.jsonl'], { cwd });
    expect(result.code, result.stderr).toBe(0);
    expect(existsSync(join(cwd, 'data/batchd.sqlite'))).toBe(true);
    expect(await readResults(join(cwd, 'out.jsonl'))).toHaveLength(2);
  });

  it('stops on SIGINT, closing the server, and leaves the batches to resume under serve', async () => {
    const dbDir = await makeTempDir('batchd-run-db-');
    const db = join(dbDir, 'batchd.sqlite');
    const input = join(dir, 'stuck.jsonl');
    await writeFile(input, jsonl([userRequest('stuck', 'Hi', { metadata: { user_id: 'emulator:latency=120000' } })]));
    const result = await runCli(['run', input, '-o', join(dir, 'stuck-results.jsonl'), '--db', db], { interruptOn: /^submitted /m });
    expect(result.code, result.stderr).toBe(130);
    const last = result.stderr.trimEnd().split('\n').at(-1) ?? '';
    const id = /^error: interrupted; batches (msgbatch_\w+) resume with `batchd serve --db (.+)`$/.exec(last);
    expect(id?.slice(1), last).toEqual([expect.stringMatching(/^msgbatch_/), db]);

    const resumed = await startServer({ dbDir });
    const client = new BatchdClient({ baseURL: resumed.url, apiKey: TEST_API_KEY });
    expect(await client.messages.batches.retrieve(id![1]!)).toMatchObject({ processing_status: 'in_progress' });
    await resumed.kill();
  });

  it('exits 2 on bad arguments, before starting anything', async () => {
    const input = join(dir, 'one.jsonl');
    await writeFile(input, jsonl(userRequests(1, 'one')));
    const missingOutput = await runCli(['run', input]);
    expect(missingOutput.code).toBe(2);
    expect(missingOutput.stderr).toContain("required option '-o, --output <file>' not specified");
    const badFlag = await runCli(['run', input, '-o', join(dir, 'never.jsonl'), '--concurrency', '0']);
    expect(badFlag.code).toBe(2);
    expect(badFlag.stderr).toContain('--concurrency: expected a positive integer, got "0"');
    expect(existsSync(join(dir, 'never.jsonl'))).toBe(false);
    const unwritable = await runCli(['run', input, '-o', join(dir, 'no-such-dir', 'out.jsonl')]);
    expect(unwritable.code).toBe(2);
    expect(unwritable.stderr).toMatch(/^error: cannot write .*no-such-dir\/out\.jsonl: ENOENT/);
  });

  it('exits 2 on malformed input and writes no results', async () => {
    const output = join(dir, 'malformed-results.jsonl');
    const result = await runCli(['run', '-', '-o', output, '--db', join(dir, 'malformed.sqlite')], { input: '{"custom_id": "a", "params": {}}\nnot json\n' });
    expect(result.code).toBe(2);
    expect(result.stderr).toBe('error: stdin line 2: not valid JSON\n');
    expect(existsSync(output)).toBe(false);
  });
});
